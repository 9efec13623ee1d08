/**
 * Issue 14 item 5 end to end: timed flag changes (`--for` in Slack, `"for"` in the API) revert by
 * themselves at their time on the bot's injected clock (`BotOverrides.now`), also after a restart,
 * and not after a later manual change; `/flags diff` against the defaults and the current phase's plan.
 *
 * The bot's one-second tick asks whether a revert is due; the tests move the clock and wait for the
 * revert's own log line and announcement. "Nothing reverted" is checked after a barrier: a direct call
 * of the same rule (`flags.revertDue()`) on the same clock, which returns what it reverted.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import {
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
  tempDir,
} from '../support/bot.js';
import { getJson, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS, clickConfirm } from '../support/slack.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The bot's clock: starts at the wall clock and moves only when a test moves it. */
const clock = { at: Date.now() };
let t: TestBot;

beforeAll(async () => {
  t = await startTestBot({ now: () => clock.at });
});
afterAll(async () => {
  await t.stop();
});
afterEach(() => {
  expect(t.slack.violations).toEqual([]);
});

const flag = async (bot: TestBot, name: string) => (await getJson(`${bot.url}/api/v1/features/${name}`)).body;
const audit = (bot: TestBot) =>
  readFileSync(join(bot.stateDir, 'flags', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const timedFile = (bot: TestBot) => join(bot.stateDir, 'flags', 'timed.json');
const pending = (bot: TestBot) =>
  existsSync(timedFile(bot))
    ? (JSON.parse(readFileSync(timedFile(bot), 'utf8')) as Record<string, unknown>)
    : {};
const slash = async (text: string, userId = OPERATOR) =>
  textOf((await t.client.slashCommand({ command: '/flags', text, userId })).body as never);
const put = (bot: TestBot, name: string, body: Record<string, unknown>) =>
  sendJson('PUT', `${bot.url}/api/v1/features/${name}`, body, { authorization: `Bearer ${API_TOKEN}` });
const revertAnnounced = (bot: TestBot, key: string) =>
  bot.slack.waitForCall(
    'chat.postMessage',
    (call) =>
      call.params.channel === CHANNEL &&
      String(call.params.text).includes('Timed change ran out') &&
      String(call.params.text).includes(`\`${key}\``),
    ANSWER_TIMEOUT_MS,
  );

describe('a --for 2h change', () => {
  it('reverts at its time exactly (injected clock), audited and announced as the timer', async () => {
    const setAt = clock.at;
    const reply = await slash('enable adaptive_timing --for 2h canary for the afternoon');
    expect(reply).toContain('Done: `adaptive_timing` on');
    expect(reply).toContain('goes back off by itself');
    expect(reply).toContain('(in 2h)');
    expect((await flag(t, 'adaptive_timing')).enabled).toBe(true);
    expect((await flag(t, 'adaptive_timing')).revert).toEqual({
      at: new Date(setAt + 2 * HOUR).toISOString(),
      enabled: false,
    });
    await t.slack.waitForCall(
      'chat.postMessage',
      (call) =>
        String(call.params.text).includes('`adaptive_timing` on') &&
        String(call.params.text).includes('reverts by itself'),
      ANSWER_TIMEOUT_MS,
    );
    // /flags get and list show when it goes back.
    const epoch = Math.floor((setAt + 2 * HOUR) / 1000);
    expect(await slash('get adaptive_timing', OUTSIDER)).toContain(
      `goes back off by itself <!date^${epoch}^`,
    );
    expect(await slash('list timing', OUTSIDER)).toContain(`reverts <!date^${epoch}^`);

    // A millisecond before: not due (barrier: the rule itself, on the same clock).
    clock.at = setAt + 2 * HOUR - 1;
    expect(await t.bot.services.flags.revertDue()).toEqual([]);
    expect((await flag(t, 'adaptive_timing')).enabled).toBe(true);

    // At its time: the bot's tick reverts it.
    clock.at = setAt + 2 * HOUR;
    await t.logs.waitFor('timed flag change reverted', 1, { flag: 'adaptive_timing' });
    expect((await flag(t, 'adaptive_timing')).enabled).toBe(false);
    expect((await flag(t, 'adaptive_timing')).revert).toBeNull();
    expect(audit(t).at(-1)).toMatchObject({
      flag: 'adaptive_timing',
      before: true,
      after: false,
      actor: { id: 'switchyard', name: 'timer' },
      via: 'system',
      at: new Date(setAt + 2 * HOUR).toISOString(),
    });
    const announced = await revertAnnounced(t, 'adaptive_timing');
    expect(String(announced.params.text)).toContain(
      'Switchyard (timer) changed it back: `adaptive_timing` off.',
    );
    expect(String(announced.params.text)).toContain(`<@${OPERATOR}> had changed it`);
    expect(String(announced.params.text)).toContain('for 2h');
    expect(pending(t)).toEqual({});
    // Done once: the rule has nothing left.
    expect(await t.bot.services.flags.revertDue()).toEqual([]);
  });

  it('does not revert after a later manual change, which cancels it', async () => {
    await slash('enable retry_logic --for 2h try retries');
    const setAt = clock.at;
    expect(Object.keys(pending(t))).toEqual(['retry_logic']);
    // By hand: off, then on again. The flag is on, as the timed change left it, but by a later change.
    expect(await slash('disable retry_logic not now')).toContain('Done');
    expect(pending(t)).toEqual({});
    expect(await slash('enable retry_logic keep it on')).toContain('Done');
    const entries = audit(t).length;

    clock.at = setAt + 3 * HOUR;
    expect(await t.bot.services.flags.revertDue()).toEqual([]);
    expect((await flag(t, 'retry_logic')).enabled).toBe(true);
    expect(audit(t)).toHaveLength(entries);
    expect(t.logs.matching('timed flag change reverted', { flag: 'retry_logic' })).toEqual([]);
    await slash('disable retry_logic cleanup');
  });

  it('a timed disable puts back what it turned off with it (dependents), in an order the rules allow', async () => {
    await slash('enable retry_logic setup');
    await slash('enable exponential_backoff setup');
    const reply = await slash('disable retry_logic --for 30m retry storm');
    expect(reply).toContain('`retry_logic` off, `exponential_backoff` off');
    expect(reply).toContain('goes back on by itself');
    // The dependent shows the pending revert too.
    expect((await flag(t, 'exponential_backoff')).revert).toMatchObject({ enabled: true });
    clock.at += 30 * MINUTE;
    await t.logs.waitFor('timed flag change reverted', 1, { flag: 'retry_logic' });
    expect((await flag(t, 'retry_logic')).enabled).toBe(true);
    expect((await flag(t, 'exponential_backoff')).enabled).toBe(true);
    await revertAnnounced(t, 'exponential_backoff');
  });

  it('a timed disable of a safety flag asks first, and the confirmed change is timed', async () => {
    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable circuit_breaker --for 1h flapping dependency',
      userId: OPERATOR,
    });
    expect(textOf(ask.body as never)).toContain('safety flag');
    expect(pending(t)).toEqual({});
    const setAt = clock.at;
    expect(await clickConfirm(t.slack, t.client, ask.body, OPERATOR)).toContain('goes back on by itself');
    expect((await flag(t, 'circuit_breaker')).revert).toEqual({
      at: new Date(setAt + HOUR).toISOString(),
      enabled: true,
    });
    clock.at = setAt + HOUR;
    await t.logs.waitFor('timed flag change reverted', 1, { flag: 'circuit_breaker' });
    expect((await flag(t, 'circuit_breaker')).enabled).toBe(true);
  });

  it('says in the channel what it cannot put back under the rules', async () => {
    await slash('enable intelligent_ordering setup');
    await slash('enable urgent_first setup');
    await slash('disable urgent_first --for 1h testing custom order');
    expect(await slash('get urgent_first', OUTSIDER)).toContain('goes back on by itself');
    // Its requirement goes off meanwhile (a change to another flag: the timed change still stands).
    await slash('disable intelligent_ordering ordering off for now');
    clock.at += HOUR;
    await t.logs.waitFor('timed flag change reverted in part', 1, { flag: 'urgent_first' });
    expect((await flag(t, 'urgent_first')).enabled).toBe(false);
    const note = await t.slack.waitForCall(
      'chat.postMessage',
      (call) => String(call.params.text).includes('The timed change of urgent_first ran out'),
      ANSWER_TIMEOUT_MS,
    );
    expect(String(note.params.text)).toContain('urgent_first needs intelligent_ordering to be on first.');
    expect(pending(t)).toEqual({});
  });

  it('refuses a bad duration with a clear error and changes nothing', async () => {
    const entries = audit(t).length;
    expect(await slash('enable dashboard_x --for 2h')).toContain('There is no flag');
    expect(await slash('enable adaptive_timing --for soon')).toContain(
      'expected a duration like 30m, 2h or 1d after --for, got "soon"',
    );
    expect(await slash('enable adaptive_timing --for 10s')).toContain('out of range');
    expect(await slash('enable adaptive_timing --for 30d')).toContain('out of range');
    const api = await put(t, 'adaptive_timing', { enabled: true, reason: 'x', for: '10s' });
    expect(api.status).toBe(400);
    expect(api.body.error).toContain('for: a timed change lasts between 1m and 7d');
    const wrongType = await put(t, 'adaptive_timing', { enabled: true, reason: 'x', for: 7200 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toContain('expected "for": a duration like "30m" or "2h"');
    expect((await flag(t, 'adaptive_timing')).enabled).toBe(false);
    expect(audit(t)).toHaveLength(entries);
    expect(pending(t)).toEqual({});
  });
});

describe('a timed change across a restart', () => {
  const clock2 = { at: Date.now() };
  let slack: SlackEmulator;
  const stateDir = tempDir();
  const start = () => startTestBot({ slack, stateDir, now: () => clock2.at });

  beforeAll(async () => {
    slack = new SlackEmulator({ botToken: BOT_TOKEN });
    await slack.start();
  });
  afterAll(async () => {
    await slack.stop();
  });

  it('made through the API with "for", reverts at start when its time passed while the bot was down', async () => {
    const first = await start();
    const setAt = clock2.at;
    const reply = await put(first, 'dashboard', { enabled: false, reason: 'noisy panels', for: '2h' });
    expect(reply.status).toBe(200);
    expect(reply.body.revert).toEqual({ at: new Date(setAt + 2 * HOUR).toISOString(), enabled: true });
    await first.bot.settled();
    await first.stop();

    clock2.at = setAt + 2 * HOUR + 5 * MINUTE;
    const second = await start();
    try {
      await second.logs.waitFor('timed flag change reverted', 1, { flag: 'dashboard' });
      expect((await flag(second, 'dashboard')).enabled).toBe(true);
      expect(audit(second).at(-1)).toMatchObject({
        flag: 'dashboard',
        after: true,
        actor: { id: 'switchyard', name: 'timer' },
      });
      const announced = await revertAnnounced(second, 'dashboard');
      expect(String(announced.params.text)).toContain('the flag API had changed it');
    } finally {
      await second.stop();
    }
  });

  it('is not reverted after a later manual change, even when the cancellation was lost in a crash', async () => {
    const first = await start();
    const setAt = clock2.at;
    expect((await put(first, 'alerting', { enabled: false, reason: 'maintenance', for: '1h' })).status).toBe(
      200,
    );
    // What timed.json held before the manual change: put back below, as if the cancellation's write was lost.
    const before = join(stateDir, 'timed-before.json');
    copyFileSync(timedFile(first), before);
    expect((await put(first, 'alerting', { enabled: true, reason: 'done early' })).status).toBe(200);
    expect((await put(first, 'alerting', { enabled: false, reason: 'off again, for good' })).status).toBe(
      200,
    );
    expect(pending(first)).toEqual({});
    await first.bot.settled();
    await first.stop();
    copyFileSync(before, timedFile(first));

    clock2.at = setAt + 2 * HOUR;
    const second = await start();
    try {
      expect(await second.bot.services.flags.revertDue()).toEqual([]);
      expect((await flag(second, 'alerting')).enabled).toBe(false);
      expect(audit(second).at(-1)).toMatchObject({ flag: 'alerting', reason: 'off again, for good' });
      expect(second.logs.matching('timed flag change reverted', { flag: 'alerting' })).toEqual([]);
      expect(pending(second)).toEqual({});
    } finally {
      await second.stop();
    }
  });
});

describe('/flags diff', () => {
  it('against the defaults: what differs, with who changed it and when', async () => {
    await slash('enable flag_validation validating');
    const at = audit(t).at(-1)!.at as string;
    const text = await slash('diff', OUTSIDER);
    expect(text).toContain('differ');
    expect(text).toContain('from the seed defaults');
    expect(text).toContain(
      `\`flag_validation\` is *on*, default off — <@${OPERATOR}> <!date^${Math.floor(Date.parse(at) / 1000)}^`,
    );
    expect(text).toContain('“validating”');
    expect(text).not.toContain('`adaptive_timing`');
    expect(await slash('diff defaults', OUTSIDER)).toEqual(text);
  });

  it("against the current phase's plan: the phase's own flags are expected, the rest is shown", async () => {
    for (const key of ['adaptive_timing', 'timing_calibration', 'retry_logic'])
      await slash(`enable ${key} phase 1`);
    // flag_validation (on above), metrics_collection and logging_enhanced (on by default): phase 1 complete.
    await slash('enable intelligent_ordering ahead of plan');
    const plan = await slash('diff plan', OUTSIDER);
    expect(plan).toContain('from the plan of phase 1 (Foundation)');
    expect(plan).toContain('`intelligent_ordering` is *on*, plan off');
    expect(plan).not.toContain('`adaptive_timing`');
    const defaults = await slash('diff', OUTSIDER);
    expect(defaults).toContain('`adaptive_timing` is *on*, default off');
  });

  it('refuses an unknown base with a clear error', async () => {
    expect(await slash('diff yesterday', OUTSIDER)).toContain('compare with `defaults` or `plan`');
  });
});
