/**
 * The bot's time rules end to end, on a clock the test moves (`BotOverrides.now`): the 15-minute
 * confirmation expiry, the 24-hour phase request expiry and the 300 s Slack signature window, each
 * at its exact boundary. Also who the flag API says acted (`X-Switchyard-Actor`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS, clickConfirm } from '../support/slack.js';

const LEAD1 = 'U0LEAD1';
const LEAD2 = 'U0LEAD2';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CONFIG = `
access:
  operators: [${OPERATOR}]
  approvers: [${LEAD1}, ${LEAD2}]
  approvalsRequired: 2
rollback:
  deployments: []
`;

/** The bot's clock: starts at the wall clock and moves only when the test moves it. */
const clock = { at: Date.now() };
let t: TestBot;

beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG, now: () => clock.at });
});
afterAll(async () => {
  await t.stop();
});
afterEach(() => {
  expect(t.slack.violations).toEqual([]);
});

const enabled = async (flag: string) => (await getJson(`${t.url}/api/v1/features/${flag}`)).body.enabled;
const audit = () =>
  readFileSync(join(t.stateDir, 'flags', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function enableRetryLogic() {
  const reply = await sendJson(
    'PUT',
    `${t.url}/api/v1/features/retry_logic`,
    { enabled: true, reason: 'setup' },
    { authorization: `Bearer ${API_TOKEN}` },
  );
  expect(reply.status).toBe(200);
}

describe('confirmation expiry (15 minutes)', () => {
  it('runs a confirmation clicked at exactly 15 minutes', async () => {
    await enableRetryLogic();
    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable-all drill',
      userId: OPERATOR,
    });
    clock.at += 15 * MINUTE;
    expect(await clickConfirm(t.slack, t.client, ask.body, OPERATOR)).toContain('Kill switch');
    expect(await enabled('retry_logic')).toBe(false);
  });

  it('refuses a confirmation clicked a second after 15 minutes, and changes nothing', async () => {
    await enableRetryLogic();
    const ask = await t.client.slashCommand({
      command: '/flags',
      text: 'disable-all drill',
      userId: OPERATOR,
    });
    const before = audit().length;
    clock.at += 15 * MINUTE + 1_000;
    const answer = await clickConfirm(t.slack, t.client, ask.body, OPERATOR);
    expect(answer).toContain('This confirmation has expired. Nothing was changed; run the command again.');
    expect(await enabled('retry_logic')).toBe(true);
    expect(audit()).toHaveLength(before);
  });
});

describe('phase request expiry (24 hours)', () => {
  const request = () =>
    t.slack
      .messages(CHANNEL)
      .filter((m) => !m.thread_ts && (m.text ?? '').includes('Phase advance'))
      .at(-1);
  const react = (user: string, ts: string) =>
    t.client.event({
      type: 'reaction_added',
      user,
      reaction: 'white_check_mark',
      item: { type: 'message', channel: CHANNEL, ts },
      item_user: 'U0BOT',
      event_ts: `${clock.at / 1000}`,
    });

  it('counts an approval just before 24 hours, and closes the request at 24 hours without advancing', async () => {
    const asked = await t.client.slashCommand({
      command: '/phase',
      text: 'advance --override checklist not under test',
      userId: OPERATOR,
    });
    expect(textOf(asked.body as never)).toContain('Asked for approval in the channel');
    const opened = clock.at;
    const { ts } = request()!;

    clock.at = opened + 24 * HOUR - 1;
    await react(LEAD1, ts);
    await eventually(() => expect(request()?.text).toContain(`Approved by (1/2): <@${LEAD1}>`), 20_000);

    clock.at = opened + 24 * HOUR;
    await react(LEAD2, ts);
    await t.logs.waitFor('interaction handled', 2, { command: 'phase', subcommand: 'approval' });
    await eventually(() => expect(request()?.text).toContain('Expired without the quorum'), 20_000);
    expect(request()?.text).not.toContain(`<@${LEAD2}>`);
    expect(await enabled('adaptive_timing')).toBe(false);

    // Closed: a new request may be made.
    const again = await t.client.slashCommand({
      command: '/phase',
      text: 'advance --override checklist not under test',
      userId: OPERATOR,
    });
    expect(textOf(again.body as never)).toContain('Asked for approval in the channel');
  });
});

describe('the Slack signature window (300 s either way)', () => {
  const FORM = 'application/x-www-form-urlencoded';
  // Each request its own trigger_id, as Slack sends them: a repeated one would be a replay.
  const body = (skew: number) =>
    new URLSearchParams({
      command: '/flags',
      text: 'list',
      user_id: OUTSIDER,
      user_name: 'outsider',
      channel_id: CHANNEL,
      team_id: 'T0LOCAL',
      response_url: 'http://127.0.0.1:9/unused',
      trigger_id: `1.2.${skew + 1000}`,
    }).toString();
  const nowSeconds = () => Math.floor(clock.at / 1000);

  it.each([
    ['exactly 300 s old', 200, -300],
    ['exactly 300 s ahead', 200, 300],
    ['301 s old', 401, -301],
    ['301 s ahead', 401, 301],
  ])('a request signed %s gets HTTP %i', async (_name, status, skew) => {
    clock.at = Math.floor(clock.at / 1000) * 1000; // whole seconds, so the boundary is exact
    const response = await t.client.raw({
      body: body(skew),
      contentType: FORM,
      timestamp: nowSeconds() + skew,
    });
    expect(response.status).toBe(status);
    if (status === 200) expect(textOf(response.body as never)).toContain('Feature flags');
  });
});

describe('X-Switchyard-Actor on the flag API', () => {
  const put = (flag: string, enabledValue: boolean, headers: Record<string, string> = {}) =>
    sendJson(
      'PUT',
      `${t.url}/api/v1/features/${flag}`,
      { enabled: enabledValue, reason: 'deploy 42' },
      { authorization: `Bearer ${API_TOKEN}`, ...headers },
    );

  it('names the caller in the audit log and in the channel announcement', async () => {
    expect((await put('dashboard', false, { 'x-switchyard-actor': 'release-pipeline' })).status).toBe(200);
    const entry = audit().at(-1)!;
    expect(entry).toMatchObject({ flag: 'dashboard', after: false, via: 'api' });
    expect(entry.actor).toEqual({ id: 'api', name: 'release-pipeline' });
    const announced = await t.slack.waitForCall(
      'chat.postMessage',
      (c) => String(c.params.text).includes('`dashboard` off'),
      ANSWER_TIMEOUT_MS,
    );
    expect(String(announced.params.text)).toContain(
      'API client release-pipeline changed flags through the flag API',
    );
  });

  it('without the header, says the flag API; an over-long name is cut to 80 characters', async () => {
    expect((await put('dashboard', true)).status).toBe(200);
    expect(audit().at(-1)!.actor).toEqual({ id: 'api' });
    await t.slack.waitForCall(
      'chat.postMessage',
      (c) =>
        String(c.params.text).startsWith(
          ':gear: the flag API changed flags through the flag API: `dashboard` on',
        ),
      ANSWER_TIMEOUT_MS,
    );

    expect((await put('dashboard', false, { 'x-switchyard-actor': 'x'.repeat(200) })).status).toBe(200);
    expect(audit().at(-1)!.actor).toEqual({ id: 'api', name: 'x'.repeat(80) });
  });
});
