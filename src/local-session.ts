import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** What a local bot tells the CLI about itself (kept apart so the CLI stays small and starts fast). */
export interface LocalSession {
  botUrl: string;
  emulatorUrl: string;
  signingSecret: string;
  flagApiToken?: string;
  /** The Alertmanager webhook's bearer token (local mode makes one when none is set). */
  webhookToken?: string;
  channel: string;
  user: string;
  stateDir?: string;
}

export function localSessionPath(stateDir: string): string {
  return join(stateDir, 'local-session.json');
}

/**
 * Where the last local bot started from this directory says where its session is, so the CLI finds
 * it whatever STATE_DIR it was started with (one file per working directory, in the temp dir).
 */
export function localPointerPath(cwd = process.cwd()): string {
  const id = createHash('sha256').update(resolve(cwd)).digest('hex').slice(0, 16);
  return join(tmpdir(), `switchyard-local-${id}.json`);
}
