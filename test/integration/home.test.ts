/**
 * The App Home (issue 12, item 4): published through the outbox with views.publish on app_home_opened,
 * republished for those who opened it when what it shows changes, checked by the Slack emulator
 * against Slack's limits, and shown the same in the sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/bot.js';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import { SlackEmulator } from '../../src/emulators/slack/emulator.js';
import { renderHome } from '../../src/messages/home.js';
import { Sandbox } from '../../src/sandbox/sandbox.js';
import {
  ALERT_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  SIGNING_SECRET,
  startTestBot,
  type TestBot,
  tempDir,
} from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { firing, notification } from '../unit/alerts/builders.js';

const CONFIG = `
access:
  operators: [${OPERATOR}]
  approvers: [S0LEADS]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 15m, notify: [U0TEAMLEAD] }
    - { after: 60m, notify: [U0ENGMGR] }
`;

const running: TestBot[] = [];
const emulators: SlackEmulator[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
  for (const slack of emulators.splice(0)) await slack.stop();
});

async function start(options: Parameters<typeof startTestBot>[0] = {}): Promise<TestBot> {
  const slack = options.slack ?? (await ownSlack());
  const t = await startTestBot({ configYaml: CONFIG, ...options, slack });
  running.push(t);
  return t;
}

/** An emulator that knows the people of these tests (views.publish refuses an unknown user, as Slack does). */
async function ownSlack(): Promise<SlackEmulator> {
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  await slack.start();
  slack.setUsergroup('S0ONCALL', ['U0ONCALL1']);
  for (const id of [OPERATOR, OUTSIDER, 'U0ONCALL1']) slack.addUser(id, { name: id.toLowerCase() });
  emulators.push(slack);
  return slack;
}

const openHome = (t: TestBot, user: string) =>
  t.client.event({
    type: 'app_home_opened',
    user,
    channel: `D${user.slice(1)}`,
    tab: 'home',
    event_ts: '1.000001',
  });

/** The text fields of a view, joined (what a person reads). */
function textOf(value: unknown): string {
  if (Array.isArray(value)) return value.map(textOf).filter(Boolean).join('\n');
  if (!value || typeof value !== 'object') return '';
  const node = value as Record<string, unknown>;
  if (typeof node.text === 'string') return node.text;
  return Object.values(node).map(textOf).filter(Boolean).join('\n');
}

/** The next views.publish for `user` after `after` (a call's seq) whose view reads `including`. */
const published = (t: TestBot, user: string, including: string | RegExp, after = 0): Promise<RecordedCall> =>
  t.slack.waitForCall(
    'views.publish',
    (call) =>
      call.seq > after &&
      call.params.user_id === user &&
      call.response.ok &&
      (typeof including === 'string'
        ? textOf(call.params.view).includes(including)
        : including.test(textOf(call.params.view))),
    ANSWER_TIMEOUT_MS,
  );

const enable = (t: TestBot, flag: string, reason: string) =>
  t.client.slashCommand({
    command: '/flags',
    text: `enable ${flag} ${reason}`,
    userId: OPERATOR,
    channelId: CHANNEL,
  });

describe('the App Home', () => {
  it('is published with views.publish for whoever opens it, rendered from the current state', async () => {
    const t = await start();
    await openHome(t, OPERATOR);
    const call = await published(t, OPERATOR, 'Phase 0: Pre-Deployment');
    const view = call.params.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const shown = textOf(view);
    expect(shown).toContain('Next: phase 1, Foundation');
    expect(shown).toContain('• Timing engine deployed and calibrated');
    expect(shown).toContain('No alert is firing.');
    expect(shown).toContain('On call, at once: <!subteam^S0ONCALL>');
    expect(shown).toContain('1. Team Lead after 15m: <@U0TEAMLEAD>');
    expect(shown).toContain('Every flag is at its default.');
    await t.bot.settled();
    expect(t.slack.homeView(OPERATOR)?.view).toEqual(renderHome(await t.bot.home.state()));
    // Nobody else opened it: nobody else is sent one.
    expect(t.slack.calls('views.publish').filter((c) => c.params.user_id !== OPERATOR)).toEqual([]);
  });

  it('is republished when a flag changes, for those who opened it, with who changed it', async () => {
    const t = await start();
    await openHome(t, OPERATOR);
    const first = await published(t, OPERATOR, 'Every flag is at its default.');
    await enable(t, 'retry_logic', 'home tab test');
    const again = await published(t, OPERATOR, '`retry_logic` is *on*', first.seq);
    expect(textOf(again.params.view)).toMatch(
      /`retry_logic` is \*on\* \(default off\) by <@U0OPERATOR> <!date\^\d+/,
    );
    expect(textOf(again.params.view)).toContain('home tab test');
    await t.bot.settled();
    expect(t.slack.calls('views.publish').filter((c) => c.params.user_id === OUTSIDER)).toEqual([]);
    expect(t.slack.homeView(OPERATOR)?.view).toEqual(renderHome(await t.bot.home.state()));
  });

  it('is republished when an alert fires (with who is paged next, when) and when it is acknowledged', async () => {
    const t = await start();
    await openHome(t, OPERATOR);
    const first = await published(t, OPERATOR, 'No alert is firing.');
    const startsAt = Date.now();
    const webhook = await sendJson(
      'POST',
      `${t.url}/alertmanager`,
      notification([firing('home-1', startsAt)], { groupKey: 'home-test' }),
      {
        authorization: `Bearer ${ALERT_TOKEN}`,
      },
    );
    expect(webhook.status).toBe(200);
    const firingView = await published(
      t,
      OPERATOR,
      /MessagingSystemDown[\s\S]*Not acknowledged[\s\S]*Next page: Team Lead \(<@U0TEAMLEAD>\) at <!date/,
      first.seq,
    );
    await t.bot.settled();
    const message = t.slack
      .messages(CHANNEL)
      .find((m) => !m.thread_ts && /MessagingSystemDown/.test(m.text ?? ''));
    const groupId = /"action_id":"switchyard\.alert\.acknowledge","value":"([0-9a-f]+)"/.exec(
      JSON.stringify(message?.blocks),
    )?.[1];
    expect(groupId).toBeDefined();
    await t.client.blockAction({
      actionId: 'switchyard.alert.acknowledge',
      value: groupId,
      userId: OPERATOR,
      channelId: CHANNEL,
      messageTs: message!.ts,
      responseUrl: t.slack.createResponseUrl({ channel: CHANNEL, messageTs: message!.ts }),
    });
    const acked = await published(t, OPERATOR, 'Acknowledged by <@U0OPERATOR>', firingView.seq);
    expect(textOf(acked.params.view)).not.toContain('Next page');
  });

  it('remembers who opened it across a restart, and republishes to them on the next change', async () => {
    const slack = await ownSlack();
    const stateDir = tempDir();
    const before = await start({ slack, stateDir });
    await openHome(before, OPERATOR);
    await published(before, OPERATOR, 'Phase 0');
    await before.bot.settled();
    await before.stop();
    running.splice(running.indexOf(before), 1);

    const after = await start({ slack, stateDir });
    const seq = Math.max(0, ...slack.calls('views.publish').map((c) => c.seq));
    await enable(after, 'retry_logic', 'after the restart');
    await published(after, OPERATOR, 'after the restart', seq);
  });

  it('publishes nothing new when nothing it shows has changed', async () => {
    const t = await start();
    await openHome(t, OPERATOR);
    await published(t, OPERATOR, 'Phase 0');
    await t.bot.settled();
    const count = t.slack.calls('views.publish').length;
    // A denied command writes nothing shown on Home.
    await t.client.slashCommand({ command: '/flags', text: 'list', userId: OUTSIDER, channelId: CHANNEL });
    await t.bot.home.changed();
    await t.bot.settled();
    expect(t.slack.calls('views.publish')).toHaveLength(count);
  });
});

describe("the Slack emulator's views.publish", () => {
  const call = (slack: SlackEmulator, params: Record<string, unknown>) =>
    fetch(`${slack.apiUrl}views.publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${BOT_TOKEN}` },
      body: JSON.stringify(params),
    }).then((res) => res.json() as Promise<Record<string, unknown>>);

  it("refuses what Slack refuses, in Slack's error shape, and keeps the previous view", async () => {
    const slack = await ownSlack();
    const good = { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }] };
    const ok = await call(slack, { user_id: OPERATOR, view: good });
    expect(ok.ok).toBe(true);
    expect((ok.view as { id: string; hash: string }).hash).toBeTruthy();

    const tooMany = await call(slack, {
      user_id: OPERATOR,
      view: { type: 'home', blocks: Array.from({ length: 101 }, () => good.blocks[0]) },
    });
    expect(tooMany).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] 101 blocks (max 100) [json-pointer:/view/blocks]'] },
    });
    const modal = await call(slack, { user_id: OPERATOR, view: { ...good, type: 'modal' } });
    expect(modal.error).toBe('invalid_arguments');
    const header = await call(slack, {
      user_id: OPERATOR,
      view: {
        type: 'home',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }],
      },
    });
    expect((header.response_metadata as { messages: string[] }).messages).toEqual([
      '[ERROR] 151 chars (max 150) [json-pointer:/view/blocks/0/text/text]',
    ]);
    expect((await call(slack, { user_id: 'U0NOBODY', view: good })).error).toBe('user_not_found');
    expect((await call(slack, { view: good })).error).toBe('invalid_arguments');
    expect((await call(slack, { user_id: OPERATOR, view: good, hash: 'stale' })).error).toBe('hash_conflict');
    expect(slack.takeViolations()).toHaveLength(3);
    expect(slack.homeView(OPERATOR)?.view).toEqual(good);
  });
});

describe('the sandbox Home tab', () => {
  it('shows the view views.publish published, rendered from the same state, and follows changes live', async () => {
    const slack = await ownSlack();
    let sandbox: Sandbox | undefined;
    sandbox = new Sandbox({
      emulator: slack,
      signingSecret: SIGNING_SECRET,
      channel: CHANNEL,
      botUserId: 'U0BOT',
      people: [
        { id: OPERATOR, name: 'operator', role: 'operator' },
        { id: OUTSIDER, name: 'outsider', role: 'no permissions' },
      ],
      commands: COMMANDS,
      webhookToken: ALERT_TOKEN,
    });
    const t = await start({
      slack,
      // As local mode does: the Slack route reports when a request is handled.
      routes: (routes) =>
        routes.map((route) =>
          route.path === '/slack/events'
            ? {
                ...route,
                handler: async (...args: Parameters<typeof route.handler>) => {
                  try {
                    await route.handler(...args);
                  } finally {
                    sandbox?.requestHandled(args[2].correlationId);
                  }
                },
              }
            : route,
        ),
    });
    sandbox.attach(t.url, () => t.bot.settled());

    expect(sandbox.state().homeViews[OPERATOR]).toBeUndefined();
    const opened = await sandbox.openHome(OPERATOR);
    expect(opened.ok).toBe(true);
    const publishedView = slack.calls('views.publish').at(-1)?.params.view;
    const expected = renderHome(await t.bot.home.state());
    expect(sandbox.state().homeViews[OPERATOR]).toEqual(publishedView);
    expect(sandbox.state().homeViews[OPERATOR]).toEqual(expected);

    let changes = 0;
    sandbox.events.on('changed', () => changes++);
    const enabled = await sandbox.command(OPERATOR, '/flags enable retry_logic from the sandbox');
    expect(enabled.ok).toBe(true);
    const now = sandbox.state().homeViews[OPERATOR];
    expect(textOf(now)).toContain('from the sandbox');
    expect(now).toEqual(renderHome(await t.bot.home.state()));
    expect(now).toEqual(slack.homeView(OPERATOR)?.view);
    expect(changes).toBeGreaterThan(0);
    sandbox = undefined;
  });
});
