import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS_CONFIGMAP_NAME, type KubeEmulator } from '../../src/emulators/kube/index.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { SignedSlackClient } from '../../src/emulators/slack/signed-client.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  OPERATOR,
  SIGNING_SECRET,
  tempDir,
} from '../support/bot.js';
import {
  auditEntries,
  filesUnder,
  fillDisk,
  type LoggedBot,
  mountTmpfs,
  startLoggedBot,
  unmount,
} from '../support/faults.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { startSeededCluster } from '../support/kube.js';
import { firing, notification } from '../unit/alerts/builders.js';

/**
 * A real full disk: STATE_DIR is a 64 KiB tmpfs filled to the last byte with dd. Every flag change
 * must fail with the cause, change nothing anywhere (state, audit, ConfigMap), leave no temp file and
 * no half line; reads and readiness keep working; after the space is freed and the bot restarted,
 * nothing shows the failed changes and the next change gets a fresh sequence number.
 */
let slack: SlackEmulator;
const mounted: string[] = [];
const running: LoggedBot[] = [];

beforeAll(async () => {
  slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
});
afterEach(async () => {
  // Unmount whatever this test mounted, also when it failed.
  for (const bot of running.splice(0)) await bot.stop().catch(() => undefined);
  for (const dir of mounted.splice(0)) unmount(dir);
});
afterAll(async () => {
  await slack.stop();
});

const put = (bot: LoggedBot, flag: string, enabled: boolean) =>
  sendJson(
    'PUT',
    `${bot.url}/api/v1/features/${flag}`,
    { enabled, reason: 'disk test' },
    {
      authorization: `Bearer ${API_TOKEN}`,
    },
  );

async function start(stateDir: string, configDir: string, kube?: KubeEmulator) {
  const bot = await startLoggedBot({ slack, stateDir, configDir, kube });
  running.push(bot);
  return bot;
}

describe.each([
  { name: 'without a cluster', withCluster: false },
  { name: 'with a cluster', withCluster: true },
])('a full state directory ($name)', ({ withCluster }) => {
  it('refuses every change with the cause, changes nothing, and keeps reads and readiness answering', async () => {
    const root = tempDir('switchyard-full-');
    const stateDir = join(root, 'state');
    const configDir = join(root, 'config');
    mkdirSync(configDir);
    mountTmpfs(stateDir, '64k');
    mounted.push(stateDir);
    const kube = withCluster ? await startSeededCluster() : undefined;
    const configMap = () => kube?.get('ConfigMap', 'messaging-system', FLAGS_CONFIGMAP_NAME)?.data ?? {};
    try {
      let bot = await start(stateDir, configDir, kube);
      expect((await put(bot, 'retry_logic', true)).status).toBe(200);

      const filler = fillDisk(stateDir);
      // More failing writes than the 22 that once left a half line behind.
      for (let i = 0; i < 25; i++) {
        const failed = await put(bot, i % 2 ? 'adaptive_timing' : 'dashboard', i % 2 === 1);
        expect(failed.status).toBe(503);
        expect(String(failed.body.error)).toContain('ENOSPC: the state directory is full');
      }
      const client = new SignedSlackClient({
        eventsUrl: `${bot.url}/slack/events`,
        signingSecret: SIGNING_SECRET,
        emulator: slack,
      });
      const command = await client.slashCommand({
        command: '/flags',
        text: 'enable flag_validation',
        userId: OPERATOR,
      });
      expect(textOf(command.body as never)).toContain('the state directory is full');

      // Reads and readiness keep answering; readiness says why it is not ready.
      expect((await getJson(`${bot.url}/api/v1/features/adaptive_timing`)).body.enabled).toBe(false);
      const ready = await getJson(`${bot.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body.checks)).toContain('ENOSPC: the state directory is full');
      // Alertmanager is told to come back (503), not that the alert was taken.
      const alert = await sendJson(
        'POST',
        `${bot.url}/alertmanager`,
        notification([firing('disk', Date.now())], { groupKey: 'disk-full' }),
        { authorization: `Bearer ${ALERT_TOKEN}` },
      );
      expect(alert.status).toBe(503);
      expect(String(alert.body.error)).toContain('full');

      expect(filesUnder(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      const auditText = readFileSync(join(stateDir, 'flags', 'audit.jsonl'), 'utf8');
      expect(auditText.endsWith('\n')).toBe(true);
      expect(auditEntries(stateDir).map((entry) => [entry.seq, entry.flag])).toEqual([[1, 'retry_logic']]);
      if (kube) {
        expect(configMap().MESSAGING_ADAPTIVE_TIMING).toBe('false');
        expect(configMap().MESSAGING_DASHBOARD).toBe('true');
        expect(configMap().MESSAGING_RETRY_LOGIC).toBe('true');
      }

      // Space freed, bot restarted: nothing shows the failed changes.
      unlinkSync(filler);
      await bot.stop();
      running.splice(running.indexOf(bot), 1);
      bot = await start(stateDir, configDir, kube);
      const flags = (await getJson(`${bot.url}/api/v1/features`)).body.flags as Array<{
        name: string;
        enabled: boolean;
      }>;
      const values = Object.fromEntries(flags.map((flag) => [flag.name, flag.enabled]));
      expect(values).toMatchObject({
        retry_logic: true,
        adaptive_timing: false,
        dashboard: true,
        flag_validation: false,
      });
      const history = await new SignedSlackClient({
        eventsUrl: `${bot.url}/slack/events`,
        signingSecret: SIGNING_SECRET,
        emulator: slack,
      }).slashCommand({ command: '/flags', text: 'history', userId: OPERATOR });
      const historyText = textOf(history.body as never);
      expect(historyText).toContain('retry_logic');
      expect(historyText).not.toMatch(/adaptive_timing|dashboard|flag_validation/);
      if (kube) {
        expect(configMap().MESSAGING_ADAPTIVE_TIMING).toBe('false');
        expect(auditEntries(stateDir).filter((entry) => entry.action === 'drift')).toEqual([]);
      }

      // The next change gets a fresh sequence number, and the store is ready again.
      expect((await put(bot, 'adaptive_timing', true)).status).toBe(200);
      expect(auditEntries(stateDir).map((entry) => [entry.seq, entry.flag])).toEqual([
        [1, 'retry_logic'],
        [2, 'adaptive_timing'],
      ]);
      if (kube) expect(configMap().MESSAGING_ADAPTIVE_TIMING).toBe('true');
      const readyAgain = await getJson(`${bot.url}/readyz`);
      expect(readyAgain.body.checks).toMatchObject({ store: 'ok' });
      expect(filesUnder(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      // The announcement goes out through the outbox after the answer: wait for it.
      await eventually(() =>
        expect(slack.messages(CHANNEL).some((m) => m.text?.includes('`adaptive_timing` on'))).toBe(true),
      );
    } finally {
      await kube?.stop();
    }
  });
});
