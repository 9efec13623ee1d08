/**
 * Issue 14 item 1: the deployment checklists as Slack checkboxes. Ticks and unticks by two people are
 * recorded with who and when and survive a restart; `/phase advance` with unticked items is refused
 * without an override reason, and goes ahead with one, which is recorded.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot, tempDir } from '../support/bot.js';
import { getJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';

const LEAD1 = 'U0LEAD1';
const LEAD2 = 'U0LEAD2';
const TOGGLE = 'switchyard.checklist.toggle';
const CONFIG = `
access:
  operators: [${OPERATOR}]
  approvers: [${LEAD1}, ${LEAD2}]
  approvalsRequired: 2
rollback:
  deployments: []
`;

let bots: TestBot[] = [];
afterEach(async () => {
  for (const bot of bots) await bot.stop();
  bots = [];
});

let clock = Date.parse('2026-12-04T22:00:00.000Z');
const now = () => clock;

async function start(stateDir: string, configYaml = CONFIG): Promise<TestBot> {
  const bot = await startTestBot({ stateDir, configYaml, now });
  bots.push(bot);
  return bot;
}

interface Boxes {
  blockId: string;
  options: Array<{ text: string; value: string }>;
  initial: string[];
}

/** The checkboxes element of the checklist `id` in a reply. */
function boxesOf(body: unknown, id: string): Boxes {
  const blocks = (body as { blocks?: Array<Record<string, unknown>> }).blocks ?? [];
  const block = blocks.find(
    (candidate) =>
      typeof candidate.block_id === 'string' && candidate.block_id.startsWith(`checklist:${id}:`),
  );
  if (!block) throw new Error(`no checklist ${id} in ${JSON.stringify(body)}`);
  const element = (block.elements as Array<Record<string, unknown>>)[0]!;
  expect(element.type).toBe('checkboxes');
  expect(element.action_id).toBe(TOGGLE);
  const options = (element.options as Array<{ text: { text: string }; value: string }>).map((option) => ({
    text: option.text.text,
    value: option.value,
  }));
  const initial = ((element.initial_options as Array<{ value: string }> | undefined) ?? []).map(
    (o) => o.value,
  );
  return { blockId: block.block_id as string, options, initial };
}

async function status(bot: TestBot, userId = OPERATOR) {
  const reply = await bot.client.slashCommand({ command: '/phase', text: 'status', userId });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** Clicks the checkboxes of `view` so that `selected` is the selection afterwards; resolves with the bot's answer. */
async function click(bot: TestBot, view: Boxes, selected: string[], userId: string) {
  const sent = await bot.client.checkboxes({
    actionId: TOGGLE,
    blockId: view.blockId,
    selected: selected.map((value) => ({ value })),
    userId,
    responseUrl: bot.slack.createResponseUrl(),
  });
  expect(sent.status).toBe(200);
  return (await bot.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS)).body as {
    text?: string;
    blocks?: unknown[];
    replace_original?: boolean;
  };
}

const stored = (stateDir: string) =>
  JSON.parse(readFileSync(join(stateDir, 'phases', 'checklists.json'), 'utf8')) as {
    ticks: Record<string, { by: string; at: string }>;
    events: Array<Record<string, unknown>>;
  };

const requestMessages = (bot: TestBot) =>
  bot.slack.messages(CHANNEL).filter((m) => !m.thread_ts && (m.text ?? '').includes('Phase advance'));

describe('phase checklists', () => {
  it('records ticks and unticks by two people with who and when, across a restart; advancing needs them or an override', async () => {
    clock = Date.parse('2026-12-04T22:00:00.000Z');
    const stateDir = tempDir();
    // A request recorded before checklists existed still loads (and shows in /phase history).
    mkdirSync(join(stateDir, 'phases'), { recursive: true });
    writeFileSync(
      join(stateDir, 'phases', 'requests.json'),
      JSON.stringify({
        old1: {
          id: 'old1',
          from: { number: 0, name: 'Pre-Deployment' },
          to: { number: 1, name: 'Foundation' },
          toEnable: ['adaptive_timing'],
          gateSummary: [],
          requester: OPERATOR,
          required: 2,
          requestedAt: '2026-11-30T10:00:00.000Z',
          expiresAt: '2026-12-01T10:00:00.000Z',
          approvals: [],
          status: 'expired',
          channel: CHANNEL,
          ts: '',
        },
      }),
    );
    let t = await start(stateDir);

    // /phase status: the objectives and the Pre-Deployment checklist as checkboxes, nothing ticked.
    const first = await status(t);
    const text = textOf(first as never);
    expect(text).toContain('Phase 0 objectives');
    expect(text).toContain('Establish performance baselines');
    expect(text).toContain('Pre-Deployment checklist* (0/5 ticked)');
    const view0 = boxesOf(first, 'pre-deployment');
    expect(view0.options.map((o) => o.text)).toEqual([
      'Feature flags infrastructure deployed',
      'Monitoring and alerting configured',
      'Rollback procedures documented and tested',
      'Performance baselines established',
      'Stakeholder approval obtained',
    ]);
    expect(view0.initial).toEqual([]);
    const [a, b, c] = view0.options.map((o) => o.value) as [string, string, string];

    // An approver ticks the first item: the view comes back with it ticked, naming them.
    clock += 60_000;
    const afterLead = await click(t, view0, [a], LEAD1);
    expect(afterLead.replace_original).toBe(true);
    expect(boxesOf(afterLead, 'pre-deployment').initial).toEqual([a]);
    expect(textOf(afterLead as never)).toContain(`<@${LEAD1}>`);

    // The operator ticks the second item on the view they had (showing nothing ticked): the approver's
    // tick stays, because only what the operator changed counts.
    clock += 60_000;
    const afterOperator = await click(t, view0, [b], OPERATOR);
    const view2 = boxesOf(afterOperator, 'pre-deployment');
    expect(view2.initial).toEqual([a, b]);
    expect(textOf(afterOperator as never)).toContain('(2/5 ticked)');

    // The approver unticks their item again.
    clock += 60_000;
    const afterUntick = await click(t, view2, [b], LEAD1);
    expect(boxesOf(afterUntick, 'pre-deployment').initial).toEqual([b]);

    // Someone who is neither operator nor approver is refused, and nothing is recorded.
    const refused = await click(t, view2, [a, b, c], OUTSIDER);
    expect(refused.text).toContain(`Only operators and approvers may do this`);
    expect(refused.text).toContain('Nothing was changed.');
    expect(refused.replace_original).not.toBe(true);

    // Forged clicks: another checklist's id, or a value that is no item; nothing is recorded. (Each
    // click at its own time: Slack's action_ts, which the replay guard keys on, comes from the clock.)
    clock += 1_000;
    expect((await click(t, { ...view2, blockId: 'checklist:nope:00' }, [a], OPERATOR)).text).toContain(
      'This checklist no longer exists. Nothing was recorded.',
    );
    clock += 1_000;
    expect((await click(t, view2, ['<@U0VP>'], OPERATOR)).text).toContain('I do not recognise this action');

    const record = stored(stateDir);
    expect(record.events.map((event) => [event.action, event.by, event.at, event.text])).toEqual([
      ['tick', LEAD1, '2026-12-04T22:01:00.000Z', 'Feature flags infrastructure deployed'],
      ['tick', OPERATOR, '2026-12-04T22:02:00.000Z', 'Monitoring and alerting configured'],
      ['untick', LEAD1, '2026-12-04T22:03:00.000Z', 'Feature flags infrastructure deployed'],
    ]);
    expect(Object.values(record.ticks)).toEqual([{ by: OPERATOR, at: '2026-12-04T22:02:00.000Z' }]);

    // A restart: the ticks, who and when, are all still there.
    await t.stop();
    bots = [];
    t = await start(stateDir);
    const restarted = await status(t, LEAD2);
    expect(boxesOf(restarted, 'pre-deployment').initial).toEqual([b]);
    expect(textOf(restarted as never)).toContain(`Monitoring and alerting configured — <@${OPERATOR}>`);
    expect(textOf(restarted as never)).toContain('2026-12-04T22:02:00.000Z');
    expect((await t.bot.services.checklists!.events()).map((event) => event.action)).toEqual([
      'tick',
      'tick',
      'untick',
    ]);
    const history = await t.client.slashCommand({ command: '/phase', text: 'history', userId: OPERATOR });
    expect(textOf(history.body as never)).toContain('2026-11-30 10:00 Phase 0 → 1: expired');

    // An advance with unticked items is refused without an override reason: it lists them, asks nothing.
    const plain = await t.client.slashCommand({ command: '/phase', text: 'advance ready', userId: OPERATOR });
    const refusal = textOf(plain.body as never);
    expect(refusal).toContain('Pre-Deployment checklist has 4 items not ticked');
    for (const item of [
      'Feature flags infrastructure deployed',
      'Rollback procedures documented and tested',
      'Performance baselines established',
      'Stakeholder approval obtained',
    ])
      expect(refusal).toContain(`☐ ${item}`);
    expect(refusal).not.toContain('☐ Monitoring and alerting configured');
    expect(refusal).toContain('--override');
    const bare = await t.client.slashCommand({
      command: '/phase',
      text: 'advance --override',
      userId: OPERATOR,
    });
    expect(textOf(bare.body as never)).toContain('An override needs its reason');
    await t.bot.settled();
    expect(requestMessages(t)).toEqual([]);
    expect((await t.bot.services.phases!.list()).map((request) => request.id)).toEqual(['old1']);

    // With an override reason it goes ahead, and the reason is recorded with the unticked items.
    clock += 60_000;
    const overridden = await t.client.slashCommand({
      command: '/phase',
      text: 'advance --override stakeholder sign-off came by mail',
      userId: OPERATOR,
    });
    const answer = textOf(overridden.body as never);
    expect(answer).toContain('Asked for approval in the channel');
    expect(answer).toContain('Going ahead with 4 unticked items of the Pre-Deployment checklist');
    await t.bot.settled();
    const [posted] = requestMessages(t);
    expect(textOf(posted)).toContain('4 of 5 not ticked');
    expect(textOf(posted)).toContain(`overridden by <@${OPERATOR}>: “stakeholder sign-off came by mail”`);
    const request = (await t.bot.services.phases!.list()).find((r) => r.id !== 'old1')!;
    expect(request.reason).toBe('stakeholder sign-off came by mail');
    expect(request.checklist).toEqual({
      id: 'pre-deployment',
      title: 'Pre-Deployment checklist',
      total: 5,
      unticked: [
        'Feature flags infrastructure deployed',
        'Rollback procedures documented and tested',
        'Performance baselines established',
        'Stakeholder approval obtained',
      ],
      override: { reason: 'stakeholder sign-off came by mail', by: OPERATOR },
    });
    expect(stored(stateDir).events.at(-1)).toMatchObject({
      action: 'override',
      by: OPERATOR,
      at: '2026-12-04T22:04:02.000Z',
      checklist: 'pre-deployment',
      reason: 'stakeholder sign-off came by mail',
      requestId: request.id,
    });
    const after = await t.client.slashCommand({ command: '/phase', text: 'history', userId: OUTSIDER });
    expect(textOf(after.body as never)).toContain('checklist overridden with 4 unticked');
    expect(t.slack.violations).toEqual([]);
  });

  it('a checklist from phases.checklists, all ticked: the advance needs no override', async () => {
    clock = Date.parse('2026-12-04T23:00:00.000Z');
    const stateDir = tempDir();
    const t = await start(
      stateDir,
      `${CONFIG}phases:\n  checklists:\n    pre-deployment: ['Canary looked good']\n`,
    );
    const view = boxesOf(await status(t), 'pre-deployment');
    expect(view.options.map((o) => o.text)).toEqual(['Canary looked good']);
    await click(t, view, [view.options[0]!.value], LEAD2);
    const asked = await t.client.slashCommand({ command: '/phase', text: 'advance ready', userId: OPERATOR });
    expect(textOf(asked.body as never)).toContain('Asked for approval in the channel');
    await t.bot.settled();
    expect(textOf(requestMessages(t)[0])).toContain('Checklist: Pre-Deployment checklist all 1 ticked.');
    expect((await t.bot.services.phases!.list())[0]!.checklist).toEqual({
      id: 'pre-deployment',
      title: 'Pre-Deployment checklist',
      total: 1,
      unticked: [],
    });
  });

  it('an unreadable checklist file: the bot starts, and /readyz is 503 naming it', async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, 'phases', 'checklists.json'), { recursive: true });
    const t = await start(stateDir);
    const ready = await getJson(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((ready.body.checks as Record<string, string>).store).toMatch(/^phase checklist ticks: .*EISDIR/);
    // /phase status still shows the phase, and says so; an advance fails closed.
    const shown = textOf((await status(t)) as never);
    expect(shown).toContain('Phase 0 — Pre-Deployment');
    expect(shown).toContain('The checklists cannot be read just now');
    const advance = await t.client.slashCommand({ command: '/phase', text: 'advance', userId: OPERATOR });
    expect(textOf(advance.body as never)).toContain('Something went wrong on my side');
    await t.bot.settled();
    expect(requestMessages(t)).toEqual([]);
  });

  it('a damaged checklist file is quarantined and the bot starts with nothing ticked', async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, 'phases'), { recursive: true });
    writeFileSync(join(stateDir, 'phases', 'checklists.json'), JSON.stringify({ ticks: 'nope' }));
    const t = await start(stateDir);
    expect(boxesOf(await status(t), 'pre-deployment').initial).toEqual([]);
    const ready = await getJson(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
