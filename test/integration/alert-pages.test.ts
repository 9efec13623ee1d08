/**
 * Pages with context (issue 10, items 4 and 5), end to end on the bot's injected clock: escalation
 * counted from receipt, the escalation DM (permalink, a working Acknowledge), the alert message's
 * links, the on-call group by its handle, and Run runbook in the alert's thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_ACTIONS } from '../../src/adapters/slack/alert-message.js';
import type { EmulatedMessage, RecordedCall } from '../../src/emulators/slack/emulator.js';
import {
  ALERT_TOKEN,
  CHANNEL,
  ONCALL_HANDLE,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { firing, HOUR, MINUTE, notification } from '../unit/alerts/builders.js';

/** The paged people are not operators: the page itself lets them acknowledge. */
const TEAMLEAD = 'U0TEAMLEAD';
const ENGMGR = 'U0ENGMGR';
const VP = 'U0VP';
const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 15m, notify: [${TEAMLEAD}] }
    - { after: 60m, notify: [${ENGMGR}], name: Duty Manager }
    - { after: 4h, notify: [${VP}] }
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

const ok = (call: RecordedCall) => call.status === 200 && call.response.ok === true;
const dmsTo = (user: string, alertname: string) =>
  t.slack
    .calls('chat.postMessage')
    .filter((c) => ok(c) && c.params.channel === user && String(c.params.text).includes(alertname));

async function fire(alertname: string, startsAt: number, labels: Record<string, string> = {}) {
  const all = { alertname, ...labels };
  const body = notification([firing(`${alertname}-1`, startsAt, all)], {
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: all,
  });
  const response = await sendJson('POST', `${t.url}/alertmanager`, body, {
    authorization: `Bearer ${ALERT_TOKEN}`,
  });
  expect(response.status).toBe(200);
  await t.bot.alerting.outbox.idle();
  return topLevel(alertname);
}

function topLevel(alertname: string): EmulatedMessage {
  const found = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && m.text?.includes(alertname));
  if (!found) throw new Error(`no message for ${alertname}`);
  return found;
}

/** Runs the escalation rules now (the timer runs the same on its ticks) and waits for what they queued. */
async function escalateNow(): Promise<void> {
  await t.bot.alerting.service.escalate();
  await t.bot.alerting.outbox.idle();
}

function buttonsOf(message: { blocks?: unknown[] }) {
  const text = JSON.stringify(message.blocks ?? []);
  return [...text.matchAll(/"action_id":"(switchyard\.alert\.[a-z-]+)"(?:,"value":"([^"]*)")?/g)].map(
    (m) => ({ actionId: m[1]!, value: m[2] }),
  );
}

async function press(actionId: string, value: string, userId: string, channelId = CHANNEL) {
  const sent = await t.client.blockAction({
    actionId,
    value,
    userId,
    channelId,
    responseUrl: t.slack.createResponseUrl(),
  });
  return textOf(
    (await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS)).body as never,
  );
}

describe('escalation counts from when the bot received the alert', () => {
  it('an alert with startsAt 5 hours ago: no tier is paged before its time counted from receipt', async () => {
    const received = clock.at;
    const message = await fire('LateArrival', received - 5 * HOUR);
    // The message says how long it has been firing, and that escalation counts from receipt.
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toMatch(
      /Firing since <!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+> \(<!date\^\d+\^\{ago\}\|/,
    );
    expect(blocks).toContain('after firing for 5h; escalation counts from then');

    await escalateNow();
    clock.at = received + 15 * MINUTE - 1;
    await escalateNow();
    expect(dmsTo(TEAMLEAD, 'LateArrival')).toEqual([]);

    clock.at = received + 15 * MINUTE;
    await escalateNow();
    expect(dmsTo(TEAMLEAD, 'LateArrival')).toHaveLength(1);
    expect(dmsTo(ENGMGR, 'LateArrival')).toEqual([]);
    expect(dmsTo(VP, 'LateArrival')).toEqual([]);
    expect(String(dmsTo(TEAMLEAD, 'LateArrival')[0]!.params.text)).toContain(
      'You are paged as Team Lead (tier 1)',
    );

    clock.at = received + HOUR;
    await escalateNow();
    expect(dmsTo(ENGMGR, 'LateArrival')).toHaveLength(1);
    expect(String(dmsTo(ENGMGR, 'LateArrival')[0]!.params.text)).toContain('Duty Manager (tier 2)');
    expect(dmsTo(VP, 'LateArrival')).toEqual([]);
    const notes = t.slack.thread(CHANNEL, message.ts).map((m) => m.text);
    expect(notes).toEqual([
      `:rotating_light: *Escalation to Team Lead (tier 1)*: still unacknowledged. <@${TEAMLEAD}>`,
      `:rotating_light: *Escalation to Duty Manager (tier 2)*: still unacknowledged. <@${ENGMGR}>`,
    ]);
  });
});

describe('the escalation DM', () => {
  it('links to the alert and has a working Acknowledge: acking from the DM stops the chain and updates the channel message', async () => {
    const received = clock.at;
    const message = await fire('PageMe', received);
    clock.at = received + 15 * MINUTE;
    await escalateNow();
    const [dm] = t.slack.messages().filter((m) => m.channel !== CHANNEL && m.text?.includes('PageMe'));
    expect(dm).toBeDefined();
    const link = `https://slack.com/archives/${message.channel}/p${message.ts.replace('.', '')}`;
    expect(dm!.text).toContain(`<${link}|the alert>`);
    expect(JSON.stringify(dm!.blocks)).toContain(link);
    const ack = buttonsOf(dm!).find((b) => b.actionId === ALERT_ACTIONS.acknowledge);
    expect(ack?.value).toBeDefined();

    // Someone not paged and not an operator may not (fail closed), whatever message the button is on.
    expect(await press(ALERT_ACTIONS.acknowledge, ack!.value!, OUTSIDER, dm!.channel)).toContain(
      'Only operators may do this',
    );
    // The paged team lead, not an operator, acknowledges from the DM.
    expect(await press(ALERT_ACTIONS.acknowledge, ack!.value!, TEAMLEAD, dm!.channel)).toContain(
      'Acknowledged: escalation stopped.',
    );
    await t.bot.alerting.outbox.idle();
    const updated = topLevel('PageMe');
    expect(JSON.stringify(updated.blocks)).toContain(`Acknowledged by <@${TEAMLEAD}>`);
    expect(buttonsOf(updated).map((b) => b.actionId)).not.toContain(ALERT_ACTIONS.acknowledge);
    expect(t.slack.thread(CHANNEL, message.ts).map((m) => m.text)).toContain(
      `:eyes: Acknowledged by <@${TEAMLEAD}>. Escalation stopped.`,
    );

    // The chain stopped: nobody else is paged, however late it gets.
    clock.at = received + 5 * HOUR;
    await escalateNow();
    expect(dmsTo(ENGMGR, 'PageMe')).toEqual([]);
    expect(dmsTo(VP, 'PageMe')).toEqual([]);
  });
});

describe('the alert message carries context', () => {
  it('sev2 shows the on-call group by its handle; the message links generatorURL and the Alertmanager silences page', async () => {
    const message = await fire('Slowish', clock.at, { severity: 'warning' });
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain(`On call *@${ONCALL_HANDLE}* not paged for sev2`);
    expect(blocks).not.toContain('S0ONCALL');
    expect(blocks).toContain(
      '<http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22messaging-system%22%7D+%3D%3D+0|:chart_with_upwards_trend: Source graph>',
    );
    expect(blocks).toContain('<http://alertmanager:9093/#/silences|Alertmanager silences>');
    expect(t.slack.calls('usergroups.list').some(ok)).toBe(true);
  });

  it('Run runbook starts the matching runbook in the alert thread, for operators', async () => {
    const message = await fire('MessagingHighLatency', clock.at, { severity: 'warning' });
    const run = buttonsOf(message).find((b) => b.actionId === ALERT_ACTIONS.runRunbook);
    expect(run?.value).toBeDefined();
    expect(await press(ALERT_ACTIONS.runRunbook, run!.value!, OUTSIDER)).toContain(
      'Only operators may do this',
    );

    const answer = await press(ALERT_ACTIONS.runRunbook, run!.value!, OPERATOR);
    expect(answer).toContain("in the alert's thread");
    await t.bot.settled();
    const thread = t.slack.thread(CHANNEL, message.ts);
    // The run's header and its six steps sit in the alert's thread; nothing new at the top level.
    const header = thread.find((m) => (m.text ?? '').includes('High latency incident'));
    expect(header).toBeDefined();
    const steps = thread.filter((m) =>
      /Confirm the latency|Was there a recent rollout|Communicate/.test(JSON.stringify(m)),
    );
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(
      t.slack
        .messages(CHANNEL)
        .filter((m) => !m.thread_ts && (m.text ?? '').includes('High latency incident')),
    ).toEqual([]);
  });

  it('offers no Run runbook when no runbook answers the alert', async () => {
    const message = await fire('NobodyWroteARunbook', clock.at);
    expect(buttonsOf(message).map((b) => b.actionId)).not.toContain(ALERT_ACTIONS.runRunbook);
  });
});
