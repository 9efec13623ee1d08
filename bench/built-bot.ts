/**
 * The bot as production runs it (the built bundle, `node dist/src/main.js`) in a process of its own,
 * in Slack mode against a Slack emulator of the benchmark's: its time and memory are its own.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlackEmulator } from '../src/emulators/slack/emulator.js';
import { freePort } from '../test/support/alertmanager.js';

export const BENCH_BOT_TOKEN = 'xoxb-bench';
export const BENCH_WEBHOOK_TOKEN = 'bench-webhook-token';

export interface BuiltBot {
  url: string;
  child: ChildProcess;
  /** Resident set size now, from /proc. */
  rssMiB(): number;
  stop(): Promise<void>;
}

export async function startBuiltBot(
  slack: SlackEmulator,
  options: { configYaml?: string; env?: Record<string, string> } = {},
): Promise<BuiltBot> {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  const stateDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-bot-'));
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(
    configPath,
    options.configYaml ??
      'access:\n  operators: [U0OPERATOR]\n  approvers: [U0APPROVER]\nescalation:\n  oncall: S0ONCALL\n',
  );
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: stateDir,
      PORT: String(port),
      STATE_DIR: stateDir,
      SWITCHYARD_CONFIG: configPath,
      SLACK_BOT_TOKEN: BENCH_BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'bench-secret',
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: 'C0INCIDENTS',
      ALERTMANAGER_WEBHOOK_TOKEN: BENCH_WEBHOOK_TOKEN,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the bot exited before it was ready');
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url,
    child,
    rssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
