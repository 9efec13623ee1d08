/**
 * `/phase advance` end to end: the request in the channel, ✅ reactions as signed Events API
 * callbacks, gates against a real Prometheus (Debian's), the flags through the features API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PrometheusHandle, startPrometheus } from '../support/alertmanager.js';
import { CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, textOf } from '../support/http.js';

const LEAD1 = 'U0LEAD1';
const LEAD2 = 'U0LEAD2';
const LEAD3 = 'U0LEAD3';
const PHASE1 = ['adaptive_timing', 'timing_calibration', 'retry_logic', 'flag_validation'];

let prometheus: PrometheusHandle;
let t: TestBot | undefined;

beforeAll(async () => {
  prometheus = await startPrometheus();
}, 30_000);
afterAll(async () => {
  await prometheus.stop();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function botWithGate(errorRateQuery: string): Promise<TestBot> {
  const bot = await startTestBot({
    env: { PROMETHEUS_URL: prometheus.url },
    configYaml: `
access:
  operators: [${OPERATOR}]
  approvers: [${LEAD1}, ${LEAD2}, S0LEADS]
  approvalsRequired: 2
rollback:
  deployments: []
gates:
  - { name: error rate, query: '${errorRateQuery}', max: 0.05 }
`,
  });
  // The requester is an approver too (through the group): their own ✅ still must not count.
  bot.slack.setUsergroup('S0LEADS', [LEAD3, OPERATOR]);
  return bot;
}

async function requestAdvance(bot: TestBot) {
  const reply = await bot.client.slashCommand({
    command: '/phase',
    text: 'advance --override ready for phase 1',
    userId: OPERATOR,
  });
  expect(reply.status).toBe(200);
  const posted = await eventually(() => {
    const found = bot.slack
      .messages(CHANNEL)
      .find((m) => !m.thread_ts && (m.text ?? '').includes('Phase advance'));
    if (!found) throw new Error('no request posted yet');
    return found;
  });
  return { reply, ts: posted.ts };
}

const react = (bot: TestBot, ts: string, user: string, added = true, retryNum?: number) =>
  bot.client.event(
    {
      type: added ? 'reaction_added' : 'reaction_removed',
      user,
      reaction: 'white_check_mark',
      item: { type: 'message', channel: CHANNEL, ts },
      item_user: 'U0BOT',
      event_ts: `${Date.now() / 1000}`,
    },
    retryNum === undefined ? {} : { retryNum },
  );

const requestText = (bot: TestBot, ts: string) =>
  bot.slack.messages(CHANNEL).find((m) => m.ts === ts)?.text ?? '';

async function flags(bot: TestBot): Promise<Record<string, boolean>> {
  const all = (await getJson(`${bot.url}/api/v1/features`)).body.flags as Array<{
    name: string;
    enabled: boolean;
  }>;
  return Object.fromEntries(all.map((flag) => [flag.name, flag.enabled]));
}

/** Barrier: the bot has handled `count` reactions in all (ignored ones included). */
const reactionsHandled = (bot: TestBot, count: number) =>
  bot.logs.waitFor('interaction handled', count, { command: 'phase', subcommand: 'approval' });

describe('/phase advance', () => {
  it('counts distinct approvers only, then runs the gates and turns phase 1 on', async () => {
    t = await botWithGate('vector(0.01)');
    const bot = t;
    const { reply, ts } = await requestAdvance(bot);
    expect(textOf(reply.body as never)).toContain('Asked for approval in the channel');
    const text = requestText(bot, ts);
    expect(text).toContain('Phase 0 — Pre-Deployment → Phase 1 — Foundation');
    expect(text).toContain(
      'Turns on: `adaptive_timing`, `timing_calibration`, `retry_logic`, `flag_validation`',
    );
    expect(text).toContain('Needs 2 approvals from approvers; react with :white_check_mark:');
    expect(text).toContain(`Requested by <@${OPERATOR}>`);
    expect(text).toContain('error rate below 0.05');

    // One request at a time: a second ask links to the open one.
    const second = await bot.client.slashCommand({ command: '/phase', text: 'advance', userId: OPERATOR });
    expect(textOf(second.body as never)).toContain('already waiting for approval');
    expect(textOf(second.body as never)).toContain(`p${ts.replace('.', '')}`);

    // Not counted: the requester (an approver through S0LEADS) and an outsider.
    await react(bot, ts, OPERATOR);
    await react(bot, ts, OUTSIDER);
    await reactionsHandled(bot, 2);
    expect(requestText(bot, ts)).toContain('Approved by (0/2): nobody yet');

    await react(bot, ts, LEAD1);
    await eventually(() => expect(requestText(bot, ts)).toContain(`Approved by (1/2): <@${LEAD1}>`));
    // Slack retries the same event, and a duplicate comes in: still one approval.
    await react(bot, ts, LEAD1, true, 1);
    await react(bot, ts, LEAD1);
    await reactionsHandled(bot, 5);
    expect(requestText(bot, ts)).toContain(`Approved by (1/2): <@${LEAD1}>`);
    expect((await flags(bot)).adaptive_timing).toBe(false);

    // LEAD3 is an approver through the user group.
    await react(bot, ts, LEAD3);
    await eventually(() => expect(requestText(bot, ts)).toContain('Approved and advanced'));
    const after = requestText(bot, ts);
    expect(after).toContain(`Approved by (2/2): <@${LEAD1}>, <@${LEAD3}>`);
    expect(after).toContain(':white_check_mark: error rate: 0.01 (must be below 0.05)');
    expect(after).toContain('rollout status: no cluster configured; skipped');
    const values = await flags(bot);
    for (const key of PHASE1) expect(values[key]).toBe(true);
    expect(values.intelligent_ordering).toBe(false);

    await eventually(() =>
      expect(
        bot.slack
          .thread(CHANNEL, ts)
          .some((m) =>
            (m.text ?? '').includes('Advanced to Phase 1 — Foundation: turned on `adaptive_timing`'),
          ),
      ).toBe(true),
    );
    const status = await bot.client.slashCommand({ command: '/phase', text: 'status', userId: OUTSIDER });
    expect(textOf(status.body as never)).toContain('Phase 1 — Foundation');
    const history = await bot.client.slashCommand({ command: '/phase', text: 'history', userId: OUTSIDER });
    expect(textOf(history.body as never)).toContain('Phase 0 → 1: advanced');
    expect(bot.slack.violations).toEqual([]);
  });

  it('withdraws an approval when the ✅ is removed, and a failing gate blocks with its value', async () => {
    t = await botWithGate('vector(0.2)');
    const bot = t;
    const { ts } = await requestAdvance(bot);

    await react(bot, ts, LEAD1);
    await eventually(() => expect(requestText(bot, ts)).toContain(`Approved by (1/2): <@${LEAD1}>`));
    await react(bot, ts, LEAD1, false);
    await eventually(() => expect(requestText(bot, ts)).toContain('Approved by (0/2): nobody yet'));
    await react(bot, ts, LEAD2);
    await eventually(() => expect(requestText(bot, ts)).toContain(`Approved by (1/2): <@${LEAD2}>`));
    expect(requestText(bot, ts)).toContain('Waiting for approvals');

    await react(bot, ts, LEAD1);
    await eventually(() => expect(requestText(bot, ts)).toContain('blocked by the gate checks'));
    expect(requestText(bot, ts)).toContain(':x: error rate: 0.2 (must be below 0.05)');
    // The thread note is posted after the request message is updated: wait for it too.
    await eventually(() =>
      expect(
        bot.slack
          .thread(CHANNEL, ts)
          .some((m) =>
            (m.text ?? '').includes('Blocked by the gate checks: error rate: 0.2 (must be below 0.05)'),
          ),
      ).toBe(true),
    );
    const values = await flags(bot);
    for (const key of PHASE1) expect(values[key]).toBe(false);
    const audit = (await bot.bot.services.flags.history(undefined, 50)).filter(
      (entry) => entry.action === 'phase',
    );
    expect(audit).toEqual([]);

    // Settled: a new request may be made.
    const again = await bot.client.slashCommand({
      command: '/phase',
      text: 'advance --override checklist not under test',
      userId: OPERATOR,
    });
    expect(textOf(again.body as never)).toContain('Asked for approval in the channel');
  });
});
