import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './adapters/storage/atomic-file.js';
import type { AppConfig } from './config/load.js';
import { SlackEmulator } from './emulators/slack/emulator.js';
import type { Logger } from './logger.js';

/** The user the local CLI speaks as; an operator in local mode only. */
export const LOCAL_USER = 'U0LOCAL';
export const LOCAL_CHANNEL = 'C0INCIDENTS';

export interface LocalSession {
  botUrl: string;
  emulatorUrl: string;
  signingSecret: string;
  flagApiToken?: string;
  channel: string;
  user: string;
}

export function localSessionPath(stateDir: string): string {
  return join(stateDir, 'local-session.json');
}

/**
 * With no Slack configuration the bot talks to a Slack emulator inside the same process, with
 * fresh credentials each start, so `npm start` works on a laptop with nothing set up.
 */
export async function startLocalSlack(config: AppConfig, log: Logger) {
  const botToken = `xoxb-local-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const emulator = new SlackEmulator({ botToken, logger: log.child({ component: 'slack-emulator' }) });
  await emulator.start(0, '127.0.0.1');
  emulator.addUser(LOCAL_USER, { name: 'local-operator' });
  const localConfig: AppConfig = {
    ...config,
    channel: LOCAL_CHANNEL,
    env: {
      ...config.env,
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: emulator.apiUrl,
    },
  };
  const saveSession = (botUrl: string) =>
    writeFileAtomic(
      localSessionPath(config.env.STATE_DIR),
      JSON.stringify({
        botUrl,
        emulatorUrl: emulator.url,
        signingSecret,
        flagApiToken: config.env.FLAG_API_TOKEN,
        channel: LOCAL_CHANNEL,
        user: LOCAL_USER,
      } satisfies LocalSession),
    );
  return { emulator, config: localConfig, saveSession };
}
