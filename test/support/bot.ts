import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { type BotOverrides, type RunningBot, startBot } from '../../src/bot.js';
import { loadConfig } from '../../src/config/load.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import type { WatchTiming } from '../../src/services/rollback-watch.js';
import { TestSlackClient } from './slack.js';

export const OPERATOR = 'U0OPERATOR';
export const ONCALL_MEMBER = 'U0ONCALL1';
export const OUTSIDER = 'U0OUTSIDER';
/** The handle of the on-call user group `S0ONCALL` (`usergroups.list`). */
export const ONCALL_HANDLE = 'messaging-oncall';
export const CHANNEL = 'C0INCIDENTS';
export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token';
export const API_TOKEN = 'test-flag-api-token';
export const ALERT_TOKEN = 'test-alertmanager-token';

export const DEFAULT_CONFIG = `
access:
  operators: [${OPERATOR}, S0ONCALL]
  approvers: [S0LEADS]
`;

export function tempDir(prefix = 'switchyard-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestBotOptions {
  env?: Record<string, string>;
  configYaml?: string;
  stateDir?: string;
  slack?: SlackEmulator;
  /** A Kubernetes API emulator the bot uses as its cluster (through a kubeconfig in the state dir). */
  kube?: KubeEmulator;
  rolloutTiming?: Partial<WatchTiming>;
  /** The bot's clock for its time rules (see `BotOverrides.now`); default the wall clock. */
  now?: () => number;
  /** Extra routes or observed ones (see `BotOverrides.routes`), e.g. a sandbox over the test's emulator. */
  routes?: BotOverrides['routes'];
  /**
   * Start-up warnings in the channel (`BotOverrides.startupWarnings`): default only logged, so a
   * test's channel holds what the test caused; the tests of the warnings themselves announce them.
   */
  startupWarnings?: 'announce' | 'log';
}

/** One parsed log line of the bot. */
export type LogEntry = Record<string, unknown> & { msg?: string };

/**
 * The bot's log lines, kept in memory (debug level and up), so a test can wait for the bot to say it
 * finished something ('command handled', …) instead of sleeping.
 */
export class LogRecorder extends Writable {
  readonly entries: LogEntry[] = [];
  private readonly waiters = new Set<() => void>();

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      try {
        this.entries.push(JSON.parse(line) as LogEntry);
      } catch {
        this.entries.push({ msg: line });
      }
    }
    for (const wake of this.waiters) wake();
    done();
  }

  /** Lines with this message (and these fields, when given). */
  matching(msg: string, fields: Record<string, unknown> = {}): LogEntry[] {
    return this.entries.filter(
      (entry) => entry.msg === msg && Object.entries(fields).every(([key, value]) => entry[key] === value),
    );
  }

  /** Resolves once `count` lines with this message (and fields) were logged in all. */
  waitFor(
    msg: string,
    count = 1,
    fields: Record<string, unknown> = {},
    timeoutMs = 20_000,
  ): Promise<LogEntry[]> {
    const check = () => {
      const found = this.matching(msg, fields);
      return found.length >= count ? found : undefined;
    };
    const now = check();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const found = check();
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `log line '${msg}' ×${count} not seen within ${timeoutMs} ms (${this.matching(msg, fields).length} so far)`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }
}

export interface TestBot {
  bot: RunningBot;
  /** The bot's log, for barriers on its own 'handled' lines. */
  logs: LogRecorder;
  slack: SlackEmulator;
  /** Slash commands resolve with the bot's final answer (ack or response_url). */
  client: TestSlackClient;
  stateDir: string;
  url: string;
  stop(): Promise<void>;
}

/** The bot as in production, in this process, against a Slack emulator on loopback. */
export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const ownSlack = !options.slack;
  const slack = options.slack ?? new SlackEmulator({ botToken: BOT_TOKEN });
  if (ownSlack) {
    await slack.start();
    slack.setUsergroup('S0ONCALL', [ONCALL_MEMBER], ONCALL_HANDLE);
  }
  const stateDir = options.stateDir ?? tempDir();
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(configPath, options.configYaml ?? DEFAULT_CONFIG);
  const kubeEnv: Record<string, string> = options.kube
    ? { KUBECONFIG: options.kube.writeKubeconfig(join(stateDir, 'kubeconfig')) }
    : {};
  const config = loadConfig(testEnv(slack, stateDir, configPath, { ...kubeEnv, ...options.env }));
  const logs = new LogRecorder();
  const bot = await startBot(config, createLogger('debug', logs), {
    host: '127.0.0.1',
    // Hermetic: never the developer's ~/.kube/config or a pod's service account.
    clusterSources: {
      kubeconfig: config.env.KUBECONFIG,
      home: stateDir,
      tokenFile: join(stateDir, 'no-service-account-token'),
    },
    rolloutTiming: options.rolloutTiming,
    now: options.now,
    routes: options.routes,
    startupWarnings: options.startupWarnings ?? 'log',
  });
  const client = new TestSlackClient(
    // Signs with the bot's clock, as Slack's and the bot's clocks agree in production.
    {
      eventsUrl: `${bot.url}/slack/events`,
      signingSecret: SIGNING_SECRET,
      emulator: slack,
      now: options.now,
    },
    slack,
  );
  return {
    bot,
    logs,
    slack,
    client,
    stateDir,
    url: bot.url,
    async stop() {
      await bot.stop();
      if (ownSlack) await slack.stop();
    },
  };
}

export function testEnv(
  slack: { apiUrl: string },
  stateDir: string,
  configPath: string,
  extra: Record<string, string> = {},
) {
  return {
    PORT: '0',
    STATE_DIR: stateDir,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: CHANNEL,
    FLAG_API_TOKEN: API_TOKEN,
    ALERTMANAGER_WEBHOOK_TOKEN: ALERT_TOKEN,
    LOG_LEVEL: 'silent',
    SWITCHYARD_CONFIG: configPath,
    ...extra,
  };
}

export interface BotProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

/**
 * How long a test with child bot processes may take. Each start compiles and loads the whole bot
 * (tsx) in a fresh Node process: about 2 s on an idle machine, but the local-mode test (five
 * processes) took 72 s at a load average of 30 on 2 cores. This bounds a hang; it is never waited out.
 */
export const PROCESS_TEST_TIMEOUT_MS = 600_000;

/** The bot as a separate process (`src/main.ts`), for crash and signal tests; resolves once it listens. */
export async function spawnBot(env: Record<string, string>, timeoutMs = 300_000): Promise<BotProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      ...env,
      LOG_LEVEL: env.LOG_LEVEL === 'silent' ? 'info' : (env.LOG_LEVEL ?? 'info'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started bot behind
      reject(new Error(`bot did not start:\n${logs.join('')}`));
    }, timeoutMs);
    exited.then((code) => reject(new Error(`bot exited with ${code}:\n${logs.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && /^Switchyard is/.test(entry.msg ?? '')) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  return { child, url, logs, exited };
}
