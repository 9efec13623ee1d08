import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../logger.js';

/** Bolt's logger interface on top of pino, so everything goes to one structured log. */
export function toBoltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const join = (parts: unknown[]) =>
    parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ');
  return {
    debug: (...parts) => child.debug(join(parts)),
    info: (...parts) => child.info(join(parts)),
    warn: (...parts) => child.warn(join(parts)),
    error: (...parts) => child.error(join(parts)),
    setLevel: () => undefined,
    getLevel: () => (log.level ?? 'info') as LogLevel,
    setName: () => undefined,
  };
}
