import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type RunningBot, startBot } from '../../src/bot.js';
import { loadConfig } from '../../src/config/load.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { createLogger } from '../../src/logger.js';
import type { WatchTiming } from '../../src/services/rollback-watch.js';
import { TestSlackClient } from './slack.js';

export const OPERATOR = 'U0OPERATOR';
export const ONCALL_MEMBER = 'U0ONCALL1';
export const OUTSIDER = 'U0OUTSIDER';
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
}

export interface TestBot {
  bot: RunningBot;
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
    slack.setUsergroup('S0ONCALL', [ONCALL_MEMBER]);
  }
  const stateDir = options.stateDir ?? tempDir();
  const configPath = join(stateDir, 'switchyard.yml');
  writeFileSync(configPath, options.configYaml ?? DEFAULT_CONFIG);
  const kubeEnv: Record<string, string> = options.kube
    ? { KUBECONFIG: options.kube.writeKubeconfig(join(stateDir, 'kubeconfig')) }
    : {};
  const config = loadConfig(testEnv(slack, stateDir, configPath, { ...kubeEnv, ...options.env }));
  const bot = await startBot(config, createLogger('silent'), {
    host: '127.0.0.1',
    // Hermetic: never the developer's ~/.kube/config or a pod's service account.
    clusterSources: {
      kubeconfig: config.env.KUBECONFIG,
      home: stateDir,
      tokenFile: join(stateDir, 'no-service-account-token'),
    },
    rolloutTiming: options.rolloutTiming,
  });
  const client = new TestSlackClient(
    { eventsUrl: `${bot.url}/slack/events`, signingSecret: SIGNING_SECRET, emulator: slack },
    slack,
  );
  return {
    bot,
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

/** The bot as a separate process (`src/main.ts`), for crash and signal tests. */
export async function spawnBot(env: Record<string, string>, timeoutMs = 20_000): Promise<BotProcess> {
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
    const timer = setTimeout(() => reject(new Error(`bot did not start:\n${logs.join('')}`)), timeoutMs);
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
