/**
 * Issue 14, item 3 — acceptance: `/incident timeline` for a scripted incident (alert, page, ack, kill
 * switch, rollback, resolve) produces Markdown whose timeline has each event in order with the right
 * actor; golden file. The incident runs on the bot's injected clock, so the draft's times are stable;
 * only Slack's message timestamps (in the links) come from the emulator and are masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeEmulator, seedMessagingSystem } from '../../src/emulators/kube/index.js';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { expectGoldenText } from '../support/golden.js';
import { eventually, sendJson, textOf } from '../support/http.js';
import { clickConfirm } from '../support/slack.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

const NS = 'messaging-system';
const T0 = Date.parse('2026-12-04T03:00:00Z');
const MINUTE = 60_000;
const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 15m, notify: [U0TEAMLEAD] }
    - { after: 60m, notify: [U0ENGMGR] }
`;

/** The bot's clock: the test moves it, step by step through the incident. */
const clock = { at: T0 - 2 * 60 * MINUTE };
let kube: KubeEmulator;
let t: TestBot;

const ok = (call: RecordedCall) => call.status === 200 && call.response.ok === true;
const alert = firing('fp-core-1', T0, { alertname: 'MessagingSystemDown' });
const labels = { alertname: 'MessagingSystemDown' };
const group = { groupKey: '{}:{alertname="MessagingSystemDown"}', groupLabels: labels, commonLabels: labels };
const webhook = (body: unknown) =>
  sendJson('POST', `${t.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });
const slash = (command: string, text: string, userId = OPERATOR) =>
  t.client.slashCommand({ command, text, userId });
/** Slack's timestamps are the emulator's wall clock: masked in links, everything else is compared. */
const masked = (markdown: string) =>
  markdown.replace(/(https:\/\/slack\.com\/archives\/[A-Z0-9]+\/p)\d+/g, '$1…');

beforeAll(async () => {
  kube = new KubeEmulator({ podReadyAfterMs: 100 });
  await kube.start();
  seedMessagingSystem(kube);
  // A second release, so there is a revision to roll back to.
  const d = kube.get('Deployment', NS, 'messaging-core')!;
  const container = d.spec.template.spec.containers[0]!;
  kube.apply({
    ...d,
    spec: {
      ...d.spec,
      template: {
        ...d.spec.template,
        spec: {
          ...d.spec.template.spec,
          containers: [{ ...container, image: 'registry.local/messaging-core:1.3.0' }],
        },
      },
    },
  });
  await kube.waitForRollout('messaging-core');
  t = await startTestBot({
    configYaml: CONFIG,
    kube,
    now: () => clock.at,
    rolloutTiming: { pollMs: 100, updateEveryMs: 300 },
  });
});
afterAll(async () => {
  await t?.stop();
  await kube?.stop();
});

describe('/incident timeline (issue 14, item 3)', () => {
  it('drafts the post-mortem of a scripted incident: each event in order with the right actor (golden file)', async () => {
    // Before the window: a flag turned on for a canary (the kill switch will turn it off).
    expect(textOf((await slash('/flags', 'enable retry_logic canary')).body as never)).toContain(
      'retry_logic',
    );

    // 03:00 the alert fires; the on-call group is paged with it.
    clock.at = T0;
    expect((await webhook(notification([alert], group))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    const message = await eventually(() => {
      const found = t.slack
        .messages(CHANNEL)
        .find((m) => !m.thread_ts && m.text?.includes('MessagingSystemDown'));
      if (!found) throw new Error('no alert message yet');
      return found;
    });

    // 03:16 still unacknowledged: tier 1 (due 03:15) pages the team lead.
    clock.at = T0 + 16 * MINUTE;
    await t.slack.waitForCall('chat.postMessage', (c) => ok(c) && c.params.channel === 'U0TEAMLEAD', 20_000);

    // 03:18 the operator acknowledges from the alert message.
    clock.at = T0 + 18 * MINUTE;
    const value = /"action_id":"switchyard\.alert\.acknowledge","value":"([^"]+)"/.exec(
      JSON.stringify(message.blocks),
    )![1]!;
    await t.client.blockAction({
      actionId: 'switchyard.alert.acknowledge',
      value,
      userId: OPERATOR,
      channelId: CHANNEL,
      messageTs: message.ts,
    });
    await eventually(() => {
      const acked = t.slack
        .messages(CHANNEL)
        .find((m) => m.ts === message.ts && JSON.stringify(m.blocks).includes('Acknowledged'));
      if (!acked) throw new Error('not acknowledged yet');
    });

    // 03:20 the kill switch.
    clock.at = T0 + 20 * MINUTE;
    const killAsk = await slash('/flags', 'disable-all error rate spiking');
    expect(await clickConfirm(t.slack, t.client, killAsk.body, OPERATOR)).toContain('Kill switch');

    // 03:25 a rollback of messaging-core to revision 1.
    clock.at = T0 + 25 * MINUTE;
    const rollbackAsk = await slash('/rollback', 'deployment messaging-core bad release');
    expect(await clickConfirm(t.slack, t.client, rollbackAsk.body, OPERATOR)).toContain(
      'Rolling back `messaging-core`',
    );

    // 03:40 Alertmanager resolves the alert.
    clock.at = T0 + 40 * MINUTE;
    expect(
      (await webhook(notification([resolved(alert, T0 + 40 * MINUTE)], { ...group, status: 'resolved' })))
        .status,
    ).toBe(200);
    await t.bot.settled();

    // 03:45 the draft of the last hour, shared in the channel as a file.
    clock.at = T0 + 45 * MINUTE;
    const reply = textOf((await slash('/incident', 'timeline 1h')).body as never);
    expect(reply).toContain(
      `:memo: Shared the post-mortem draft in <#${CHANNEL}>: 7 events, time to acknowledge 18m, time to mitigate 20m.`,
    );
    const completed = t.slack.calls('files.completeUploadExternal').filter(ok);
    expect(completed).toHaveLength(1);
    expect(completed[0]!.params.channel_id).toBe(CHANNEL);
    const [file] = t.slack.files();
    expect(file).toMatchObject({
      filename: 'post-mortem-20261204-0300.md',
      title: 'Post-mortem draft',
      completed: true,
      channels: [CHANNEL],
    });
    const markdown = file!.content!.toString('utf8');
    const shared = t.slack.messages(CHANNEL).find((m) => m.files?.[0]?.id === file!.id);
    expect(shared?.text).toMatch(
      /^:memo: Post-mortem draft for <@U0OPERATOR>: 7 events from 2026-12-04 02:45:00Z to 2026-12-04 03:45:00Z, drafted 2026-12-04 03:45:00Z\./,
    );

    // Each event in order, with the right actor.
    const timeline = markdown.split('## Timeline\n\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(
      timeline.map((line) =>
        /^- \*\*([^*]+)\*\* · \*\*([^*]+)\*\*.* · by ([^·]+?)(?: · |$)/.exec(line)?.slice(1),
      ),
    ).toEqual([
      ['2026-12-04 03:00:00Z', 'Alert fired', 'Alertmanager'],
      ['2026-12-04 03:00:00Z', 'Paged', 'Switchyard'],
      ['2026-12-04 03:15:00Z', 'Escalated', 'Switchyard'],
      ['2026-12-04 03:18:00Z', 'Acknowledged', '@U0OPERATOR'],
      // The flag audit keeps the Slack user name too.
      ['2026-12-04 03:20:00Z', 'Kill switch', '`u0operator` (@U0OPERATOR)'],
      ['2026-12-04 03:25:00Z', 'Rolled back', '@U0OPERATOR'],
      ['2026-12-04 03:40:00Z', 'Alert resolved', 'Alertmanager'],
    ]);
    expectGoldenText('incident-timeline.scripted.md', masked(markdown));

    // The HTTP API gives the same Markdown, with the bearer token only.
    const url = `${t.url}/api/v1/incidents/timeline?since=1h`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const api = await fetch(url, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(api.status).toBe(200);
    expect(api.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await api.text()).toBe(markdown);
    const bad = await fetch(`${t.url}/api/v1/incidents/timeline?since=yesterday`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^since must be a duration/);
  });

  it('refuses a bad window and a non-operator, and posts nothing', async () => {
    const before = t.slack.calls('files.getUploadURLExternal').length;
    const bad = textOf((await slash('/incident', 'timeline yesterday')).body as never);
    expect(bad).toContain('`since` must be a duration back from now');
    expect(bad).toContain('Nothing was posted.');
    expect(textOf((await slash('/incident', 'timeline 1h', OUTSIDER)).body as never)).toContain(
      'Only operators may do this',
    );
    const help = textOf((await slash('/incident', 'help')).body as never);
    expect(help).toContain('timeline [since] [until]');
    await t.bot.settled();
    expect(t.slack.calls('files.getUploadURLExternal')).toHaveLength(before);
    expect(t.slack.violations).toEqual([]);
  });

  it('goes through the outbox: a 5xx at any step is retried, and the draft is shared once', async () => {
    const shares = () => t.slack.messages(CHANNEL).filter((m) => m.files?.length).length;
    const before = shares();
    t.slack.failNext('files.getUploadURLExternal', { status: 503 });
    t.slack.failNext('files.completeUploadExternal', { status: 500 });
    const reply = textOf((await slash('/incident', 'timeline 2h')).body as never);
    expect(reply).toContain(':memo: Shared the post-mortem draft');
    expect(shares()).toBe(before + 1);
    expect(
      t.slack
        .calls('files.getUploadURLExternal')
        .slice(-3)
        .map((c) => c.status),
    ).toEqual([503, 200, 200]);
    expect(
      t.slack
        .calls('files.completeUploadExternal')
        .slice(-2)
        .map((c) => c.status),
    ).toEqual([500, 200]);
  });
});
