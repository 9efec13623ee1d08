/**
 * Retention of resolved alert groups (`alerts.retention`, here 1h, on a clock the test moves): the
 * bot as in production, real HTTP, the Slack emulator. A resolved group is forgotten (its file deleted) once its retention has
 * run out; a firing one never is; the same group firing again afterwards opens a new message.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupIdOf } from '../../src/ports/alert-groups.js';
import { ALERT_TOKEN, CHANNEL, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, sendJson } from '../support/http.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

const CONFIG = `
access:
  operators: [U0OPERATOR]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
alerts:
  retention: 1h
`;

const bots: TestBot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.stop();
});

const HOUR = 3_600_000;

/** The bot's clock: the wall clock plus an offset the test moves forward. */
function testClock() {
  const clock = { offset: 0, now: () => Date.now() + clock.offset };
  return clock;
}

async function start(options: { stateDir?: string; now?: () => number } = {}) {
  const bot = await startTestBot({ configYaml: CONFIG, ...options });
  bots.push(bot);
  return bot;
}

const post = (t: TestBot, body: unknown) =>
  sendJson('POST', `${t.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });
const fileOf = (t: TestBot, groupKey: string) =>
  join(t.stateDir, 'alerts', 'groups', `${groupIdOf(groupKey)}.json`);
const topLevel = (t: TestBot) => t.slack.messages(CHANNEL).filter((m) => !m.thread_ts);

describe('alerts.retention', () => {
  it('forgets a resolved group after its retention, keeps a firing one, and opens a new message when it fires again', async () => {
    const clock = testClock();
    const t = await start({ now: clock.now });
    const groupKey = '{}/{team="messaging"}:{alertname="MessagingSystemDown"}';
    const stillFiringKey = '{}/{team="messaging"}:{alertname="StillFiring"}';
    const labels = { groupLabels: { alertname: 'StillFiring' }, commonLabels: { alertname: 'StillFiring' } };
    const alert = firing('fp-1', Date.now() - 60_000);
    expect((await post(t, notification([alert], { groupKey }))).status).toBe(200);
    const other = firing('fp-2', Date.now() - 60_000, { alertname: 'StillFiring' });
    expect((await post(t, notification([other], { groupKey: stillFiringKey, ...labels }))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    expect(existsSync(fileOf(t, groupKey))).toBe(true);

    expect((await post(t, notification([resolved(alert, Date.now())], { groupKey }))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    const [first] = topLevel(t).filter((m) => m.text?.includes('MessagingSystemDown'));
    expect(first?.text).toContain(':white_check_mark:'); // the message showed the resolution first

    // Still kept within the retention: the sweep ran on the timer's first tick, at the real time.
    expect(existsSync(fileOf(t, groupKey))).toBe(true);
    clock.offset = 2 * HOUR;
    // The escalation timer's next tick (each second) sweeps: wait for the group to go, file and record
    // (the file is gone a moment before the store hears so: the unlink's callback runs after).
    await eventually(() => {
      expect(existsSync(fileOf(t, groupKey))).toBe(false);
      expect(t.bot.alerting.service.get(groupIdOf(groupKey))).toBeUndefined();
    }, 20_000);
    // Firing for longer than the retention: never forgotten.
    expect(existsSync(fileOf(t, stillFiringKey))).toBe(true);
    expect(t.bot.alerting.service.get(groupIdOf(stillFiringKey))?.state.status).toBe('firing');

    // The same group fires again: a new group, a new top-level message (the old one stays as history).
    expect((await post(t, notification([firing('fp-1', Date.now())], { groupKey }))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    const messages = topLevel(t).filter((m) => m.text?.includes('MessagingSystemDown'));
    expect(messages).toHaveLength(2);
    expect(messages[0]!.ts).toBe(first!.ts);
    expect(messages[0]!.text).toContain(':white_check_mark:');
    expect(messages[1]!.text).toContain('SEV1 firing (1): MessagingSystemDown');
    expect(t.bot.alerting.service.get(groupIdOf(groupKey))?.message?.ts).toBe(messages[1]!.ts);
    expect(t.slack.thread(CHANNEL, messages[1]!.ts)).toEqual([]); // "opened", not "firing again"
    expect(t.slack.violations).toEqual([]);
  });

  it('forgets at start what expired while the bot was down', async () => {
    const groupKey = '{}:{alertname="ResolvedWhileDown"}';
    const labels = { groupLabels: { alertname: 'ResolvedWhileDown' } };
    const first = await start();
    const alert = firing('fp-1', Date.now() - 60_000, { alertname: 'ResolvedWhileDown' });
    await post(first, notification([alert], { groupKey, ...labels }));
    await post(first, notification([resolved(alert, Date.now())], { groupKey, ...labels }));
    await first.bot.alerting.outbox.idle();
    await first.stop();
    bots.splice(bots.indexOf(first), 1);
    expect(existsSync(fileOf(first, groupKey))).toBe(true);

    // Two hours later by the bot's clock: the retention (1h) ran out while it was down.
    const second = await start({ stateDir: first.stateDir, now: () => Date.now() + 2 * HOUR });
    expect(existsSync(fileOf(second, groupKey))).toBe(false);
    expect(second.bot.alerting.service.get(groupIdOf(groupKey))).toBeUndefined();
  });
});
