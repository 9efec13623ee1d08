import cron from 'node-cron';
import type { Logger } from '../logger.js';
import type { FlagService } from '../services/flag-service.js';

/**
 * Reverts timed flag changes (`--for`) when their time comes: once at start (a revert that fell due
 * while the bot was down happens now), then on a one-second tick (no overlap). The time rule itself
 * runs on the flag service's injected clock; the tick only asks.
 */
export function startFlagTimer(
  flags: FlagService,
  log: Logger,
  /** Says in the channel what a revert could not put back (the revert itself is announced as a change). */
  note?: (text: string) => Promise<void>,
  /** Several replicas: only the leader reverts (the audit makes a second revert a no-op anyway). */
  leading: () => boolean = () => true,
): { stop(): Promise<void> } {
  const tick = async () => {
    if (!leading()) return;
    try {
      for (const outcome of await flags.revertDue()) {
        const fields = {
          flag: outcome.timed.flag,
          changes: outcome.changes.map((change) => `${change.key}=${change.to}`),
          skipped: outcome.skipped,
        };
        log.info(fields, 'timed flag change reverted');
        if (outcome.skipped.length > 0) {
          log.warn(fields, 'timed flag change reverted in part');
          const left = outcome.skipped.map((skip) => `${skip.key} (${skip.why})`).join('; ');
          await note?.(
            `The timed change of ${outcome.timed.flag} ran out, but I could not put back: ${left} Change it by hand if it should go back.`,
          );
        }
      }
    } catch (error) {
      log.error({ err: error }, 'timed flag change tick failed');
    }
  };
  const first = tick();
  const task = cron.schedule('* * * * * *', tick, { noOverlap: true, name: 'switchyard-flag-timer' });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
      await first;
    },
  };
}
