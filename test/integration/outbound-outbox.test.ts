/**
 * Every post goes through the durable outbox: the kill switch announcement waits out Slack's 429s and
 * keeps its place, survives a SIGKILL while pending, and a new sev1 jumps a restart's 5,000 refreshes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyNotification } from '../../src/core/alerts/group.js';
import { type RecordedCall, SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { groupIdOf } from '../../src/ports/alert-groups.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  type BotProcess,
  CHANNEL,
  OPERATOR,
  spawnBot,
  startTestBot,
  type TestBot,
  tempDir,
  testEnv,
} from '../support/bot.js';
import { eventually, sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

const CONFIG = `access:\n  operators: [${OPERATOR}]\nescalation:\n  oncall: S0ONCALL\n`;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ok = (call: RecordedCall) => call.status === 200 && call.response.ok === true;
const textOf = (call: RecordedCall) => String(call.params.text ?? '');
const api = (url: string, method: string, path: string, body: unknown) =>
  sendJson(method, `${url}${path}`, body, { authorization: `Bearer ${API_TOKEN}` });
const killSwitchPosts = (slack: SlackEmulator) =>
  slack.calls('chat.postMessage').filter((c) => textOf(c).includes('*Kill switch*'));

async function startSlack() {
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  cleanups.push(() => slack.stop());
  return slack;
}

async function inProcessBot(slack: SlackEmulator, stateDir?: string): Promise<TestBot> {
  const t = await startTestBot({ slack, configYaml: CONFIG, ...(stateDir && { stateDir }) });
  cleanups.push(() => t.stop());
  return t;
}

describe('the kill switch announcement', () => {
  it('waits out three 429s, is posted exactly once, and keeps its place before a later announcement', async () => {
    const slack = await startSlack();
    const t = await inProcessBot(slack);
    expect(
      (await api(t.url, 'PUT', '/api/v1/features/adaptive_timing', { enabled: true, reason: 'canary' }))
        .status,
    ).toBe(200);
    await slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && textOf(c).includes('adaptive_timing'),
      10_000,
    );

    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 3);
    expect((await api(t.url, 'POST', '/api/v1/features/disable-all', { reason: 'error rate' })).status).toBe(
      200,
    );
    // While the kill switch waits for Slack, another change is announced: it must come after.
    await slack.waitForCall('chat.postMessage', (c) => c.status === 429, 10_000);
    expect(
      (await api(t.url, 'PUT', '/api/v1/features/retry_logic', { enabled: true, reason: 'after' })).status,
    ).toBe(200);
    const later = await slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && textOf(c).includes('retry_logic'),
      20_000,
    );
    await t.bot.alerting.outbox.idle();

    const kills = killSwitchPosts(slack);
    expect(kills.map((c) => c.status)).toEqual([429, 429, 429, 200]);
    expect(kills.filter(ok)).toHaveLength(1);
    expect(kills.at(-1)!.seq).toBeLessThan(later.seq);
    expect(slack.messages(CHANNEL).filter((m) => (m.text ?? '').includes('*Kill switch*'))).toHaveLength(1);
  });

  it('is posted after a restart when the bot is killed (SIGKILL) while it is pending', async () => {
    const slack = await startSlack();
    const stateDir = tempDir('switchyard-killswitch-crash-');
    const configPath = join(stateDir, 'switchyard.yml');
    writeFileSync(configPath, CONFIG);
    const env = testEnv(slack, stateDir, configPath);
    const spawn = async () => {
      const bot: BotProcess = await spawnBot(env, 120_000);
      cleanups.push(async () => {
        bot.child.kill('SIGKILL');
        await bot.exited;
      });
      return bot;
    };

    const first = await spawn();
    expect(
      (await api(first.url, 'PUT', '/api/v1/features/adaptive_timing', { enabled: true, reason: 'canary' }))
        .status,
    ).toBe(200);
    await slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && textOf(c).includes('adaptive_timing'),
      30_000,
    );
    // Slack holds the announcement back far longer than this test lives.
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 600 });
    expect(
      (await api(first.url, 'POST', '/api/v1/features/disable-all', { reason: 'error rate' })).status,
    ).toBe(200);
    // Tried (and so journalled first), refused: now it is pending.
    await slack.waitForCall(
      'chat.postMessage',
      (c) => c.status === 429 && textOf(c).includes('Kill switch'),
      30_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect(killSwitchPosts(slack).filter(ok)).toEqual([]);

    const second = await spawn();
    await slack.waitForCall('chat.postMessage', (c) => ok(c) && textOf(c).includes('*Kill switch*'), 30_000);
    // A barrier: a later announcement, queued behind it in the same channel, has gone out too.
    expect(
      (await api(second.url, 'PUT', '/api/v1/features/retry_logic', { enabled: true, reason: 'after' }))
        .status,
    ).toBe(200);
    await slack.waitForCall('chat.postMessage', (c) => ok(c) && textOf(c).includes('retry_logic'), 30_000);
    expect(killSwitchPosts(slack).filter(ok)).toHaveLength(1);
    expect(textOf(killSwitchPosts(slack).find(ok)!)).toContain('Reason: “error rate”');
    // Two bot processes start here (tsx compiles src/ each time): the budget is for that, not a wait.
  }, 300_000);
});

describe('after a restart with 5,000 alert groups to refresh', () => {
  it('posts a new sev1 (with its on-call ping) before the refreshes still queued', async () => {
    const slack = await startSlack();
    const stateDir = tempDir('switchyard-refresh-storm-');
    // The message every old group points at, so each refresh is a real chat.update.
    const posted = (await (
      await fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: CHANNEL, text: 'an old alert' }),
      })
    ).json()) as { ts: string };
    const groups = join(stateDir, 'alerts', 'groups');
    mkdirSync(groups, { recursive: true });
    const now = Date.now();
    for (let i = 0; i < 5_000; i++) {
      const groupKey = `{}:{alertname="Old${i}"}`;
      const labels = { alertname: `Old${i}`, severity: 'warning' };
      const { state } = applyNotification(
        undefined,
        notification([firing(`old-${i}`, now - 600_000, labels)], {
          groupKey,
          groupLabels: { alertname: `Old${i}` },
          commonLabels: labels,
        }),
        now - 600_000,
      );
      const id = groupIdOf(groupKey);
      writeFileSync(
        join(groups, `${id}.json`),
        JSON.stringify({ id, state, sentEscalations: [], message: { channel: CHANNEL, ts: posted.ts } }),
      );
    }

    const t = await inProcessBot(slack, stateDir);
    const labels = { alertname: 'NewSev1', severity: 'critical' };
    const accepted = await sendJson(
      'POST',
      `${t.url}/alertmanager`,
      notification([firing('new-1', Date.now(), labels)], {
        groupKey: '{}:{alertname="NewSev1"}',
        groupLabels: { alertname: 'NewSev1' },
        commonLabels: labels,
      }),
      { authorization: `Bearer ${ALERT_TOKEN}` },
    );
    expect(accepted.status).toBe(200);
    const refreshedBeforeAccepted = slack.calls('chat.update').length;

    const sev1 = await slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && textOf(c).includes('NewSev1'),
      30_000,
    );
    expect(textOf(sev1)).toContain('<!subteam^S0ONCALL>');
    // The refreshes go on after it (so they were still queued when it arrived)...
    await eventually(
      () => expect(slack.calls('chat.update').some((c) => c.seq > sev1.seq)).toBe(true),
      30_000,
    );
    // ...and none of them went first: at most the one call in flight when the sev1 was accepted.
    const refreshedBefore = slack.calls('chat.update').filter((c) => c.seq < sev1.seq).length;
    expect(refreshedBefore - refreshedBeforeAccepted).toBeLessThanOrEqual(1);
    expect(refreshedBefore).toBeLessThan(5_000);
  }, 300_000);
});
