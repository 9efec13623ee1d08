/**
 * Issue 14 item 6: `notify.webhooks` receive sev1/sev2 opens, acknowledgements and resolutions (and a
 * runbook's status updates) as JSON through the notify outbox: retried on 5xx, every attempt recorded
 * in notify/deliveries.jsonl, and each seen once by the receiver.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../src/adapters/notify/delivery-log.js';
import { ALERT_ACTIONS, RUNBOOK_ACTIONS } from '../../src/messages/action-ids.js';
import { ALERT_TOKEN, CHANNEL, OPERATOR, OUTSIDER, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

const receiver = new WebhookReceiver();
const templated = new WebhookReceiver();
let t: TestBot;

beforeAll(async () => {
  await receiver.start();
  await templated.start();
  t = await startTestBot({
    configYaml: `
access:
  operators: [${OPERATOR}]
escalation:
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
notify:
  webhooks:
    - url: ${receiver.url}/hooks/status?token=s3cret
    - url: ${templated.url}/relay
      events: [opened, resolved]
      severities: [sev1]
      template:
        subject: "[{{severity}}] {{alertname}} {{event}}"
        body: "{{summary}} (team {{labels.team}})"
        fixed: { source: switchyard, n: 1 }
`,
  });
});
afterAll(async () => {
  await t?.stop();
  await receiver.stop();
  await templated.stop();
});
beforeEach(() => {
  receiver.requests.length = 0;
  templated.requests.length = 0;
});

const notify = () => t.bot.notify!;
const deliveries = async (): Promise<DeliveryRecord[]> => notify().deliveries.read();

async function post(body: unknown) {
  const response = await sendJson('POST', `${t.url}/alertmanager`, body, {
    authorization: `Bearer ${ALERT_TOKEN}`,
  });
  expect(response.status).toBe(200);
}

function group(alertname: string, severity: string, summary = `${alertname} is broken`) {
  const alert = firing(`${alertname}-1`, Date.now() - 60_000, { alertname, severity });
  alert.annotations.summary = summary;
  const payload = (alerts = [alert]) =>
    notification(alerts, {
      groupKey: `{}:{alertname="${alertname}"}`,
      groupLabels: { alertname },
      commonLabels: { alertname, team: 'messaging', severity },
      commonAnnotations: { summary },
    });
  return { alert, payload };
}

async function press(actionId: string, value: string, userId: string) {
  const sent = await t.client.blockAction({
    actionId,
    value,
    userId,
    channelId: CHANNEL,
    responseUrl: t.slack.createResponseUrl(),
  });
  const answer = await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS);
  return textOf(answer.body as never);
}

/** A runbook button click: its answer, if any, is the updated step (the test reads the messages). */
async function click(actionId: string, value: string) {
  const sent = await t.client.blockAction({
    actionId,
    value,
    userId: OPERATOR,
    channelId: CHANNEL,
    responseUrl: t.slack.createResponseUrl(),
  });
  expect(sent.status).toBe(200);
}

function buttonValue(alertname: string, actionId: string): string {
  const message = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && m.text?.includes(alertname));
  const match = new RegExp(`"action_id":"${actionId.replace(/\./g, '\\.')}","value":"([^"]*)"`).exec(
    JSON.stringify(message?.blocks ?? []),
  );
  if (!match) throw new Error(`no ${actionId} button on ${alertname}`);
  return match[1]!;
}

describe('notify.webhooks', () => {
  it('retries a delivery on 5xx, records every attempt, and the receiver sees each event once', async () => {
    const { alert, payload } = group('WebhookRetry', 'critical');
    receiver.failNext(503, 2);
    await post(payload());
    const [opened] = await receiver.waitFor(1);
    await notify().outbox.idle();
    // Three tries of one delivery: the same id each time; the receiver accepted the third.
    const tries = receiver.requests.filter((r) => r.path === '/hooks/status?token=s3cret');
    expect(tries.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(tries.map((r) => r.headers['x-switchyard-delivery'])).size).toBe(1);
    expect(opened!.body).toMatchObject({
      version: '1',
      event: 'opened',
      by: null,
      text: '[SEV1] opened: WebhookRetry - WebhookRetry is broken',
      group: { status: 'firing', severity: 'sev1', alertname: 'WebhookRetry', firing: 1 },
    });

    const id = String(tries[0]!.headers['x-switchyard-delivery']);
    const records = (await deliveries()).filter((r) => r.id === id);
    expect(records.map((r) => [r.attempt, r.status, r.httpStatus])).toEqual([
      [1, 'retrying', 503],
      [2, 'retrying', 503],
      [3, 'delivered', 200],
    ]);
    expect(records[2]).toMatchObject({
      v: 1,
      target: 'webhook',
      destination: receiver.url, // the origin only: the token in the query is not recorded
      event: 'opened',
      alertname: 'WebhookRetry',
      severity: 'sev1',
    });
    expect(JSON.stringify(await deliveries())).not.toContain('s3cret');

    // Acknowledge in Slack, then resolve: each reaches the receiver once.
    const answer = await press(
      ALERT_ACTIONS.acknowledge,
      buttonValue('WebhookRetry', ALERT_ACTIONS.acknowledge),
      OPERATOR,
    );
    expect(answer).toContain('Acknowledged');
    await receiver.waitFor(1, (r) => (r.body as { event?: string }).event === 'acknowledged');
    await post(payload([resolved(alert, Date.now())]));
    await receiver.waitFor(1, (r) => (r.body as { event?: string }).event === 'resolved');
    await notify().outbox.idle();
    const events = receiver.accepted.map((r) => r.body as { event: string; by: string | null });
    expect(events.map((e) => e.event)).toEqual(['opened', 'acknowledged', 'resolved']);
    expect(events[1]!.by).toBe(OPERATOR);
    expect(new Set(receiver.accepted.map((r) => r.headers['x-switchyard-delivery'])).size).toBe(3);
    const acked = (await deliveries()).find(
      (r) => r.event === 'acknowledged' && r.alertname === 'WebhookRetry',
    );
    expect(acked).toMatchObject({ by: OPERATOR, status: 'delivered' });
  });

  it('fills a template with JSON-escaped alert text; alert text never changes the target', async () => {
    const hostile = 'quote " brace } newline \n {{event}} http://evil.example/ "url": "http://evil.example"';
    const { payload } = group('TemplateSafety', 'critical', hostile);
    await post(payload());
    const [got] = await templated.waitFor(1);
    await notify().outbox.idle();
    expect(got!.path).toBe('/relay');
    expect(got!.body).toEqual({
      subject: '[sev1] TemplateSafety opened',
      // A placeholder inside a value is not expanded again.
      body: `${hostile} (team messaging)`,
      fixed: { source: 'switchyard', n: 1 },
    });
    expect(JSON.parse(got!.raw)).toEqual(got!.body);
    // The other webhook got it too, at its own URL; nothing went anywhere else.
    await receiver.waitFor(1);
    expect(receiver.accepted.map((r) => r.path)).toEqual(['/hooks/status?token=s3cret']);
  });

  it('sends nothing for a sev3 group, and only sev1 to a webhook limited to it', async () => {
    const low = group('LowSeverity', 'info');
    const mid = group('MidSeverity', 'warning');
    await post(low.payload());
    await post(mid.payload());
    await receiver.waitFor(1, (r) => JSON.stringify(r.body).includes('MidSeverity'));
    await notify().outbox.idle();
    expect(JSON.stringify(receiver.accepted)).not.toContain('LowSeverity');
    expect(templated.requests).toEqual([]);
  });

  it('drops a delivery the receiver refuses with 4xx after one attempt, recorded as dropped', async () => {
    const { payload } = group('Refused', 'critical');
    receiver.failNext(400);
    await post(payload());
    await templated.waitFor(1);
    await notify().outbox.idle();
    expect(receiver.requests.map((r) => r.status)).toEqual([400]);
    const records = (await deliveries()).filter(
      (r) => r.alertname === 'Refused' && r.destination === receiver.url,
    );
    expect(records.map((r) => [r.attempt, r.status, r.httpStatus])).toEqual([[1, 'dropped', 400]]);
  });

  it("a runbook's Communicate step sends its status update through the webhook, once", async () => {
    const started = await t.client.slashCommand({
      command: '/runbook',
      text: 'run high-latency',
      userId: OPERATOR,
      channelId: CHANNEL,
    });
    expect(textOf(started.body as never)).toContain('Started');
    await t.bot.settled();
    const stepMessage = (title: string) =>
      t.slack.messages(CHANNEL).find((m) => m.thread_ts && JSON.stringify(m.blocks ?? []).includes(title));
    const stepValue = (title: string, actionId: string) => {
      const match = new RegExp(`"action_id":"${actionId.replace(/\./g, '\\.')}","value":"([^"]*)"`).exec(
        JSON.stringify(stepMessage(title)?.blocks ?? []),
      );
      if (!match) throw new Error(`no ${actionId} on ${title}`);
      return match[1]!;
    };
    for (const title of [
      'Confirm the latency',
      'Was there a recent rollout',
      'Switch off timing calibration',
      'Switch off adaptive timing',
      'Still slow: roll back',
    ]) {
      await click(RUNBOOK_ACTIONS.skip, stepValue(title, RUNBOOK_ACTIONS.skip));
      await t.bot.settled();
    }
    const send = stepValue('Communicate', RUNBOOK_ACTIONS.statusUpdate);
    await click(RUNBOOK_ACTIONS.statusUpdate, send);
    const [update] = await receiver.waitFor(
      1,
      (r) => (r.body as { event?: string }).event === 'status-update',
    );
    await notify().outbox.idle();
    await t.bot.settled();
    expect(update!.body).toMatchObject({
      event: 'status-update',
      by: OPERATOR,
      text: expect.stringContaining('We are investigating slow message delivery'),
    });
    expect(update!.body).not.toHaveProperty('group');
    expect(
      receiver.accepted.filter((r) => (r.body as { event?: string }).event === 'status-update'),
    ).toHaveLength(1);
    // The step is done, saying where the update went; the template webhook does not take status updates.
    expect(JSON.stringify(stepMessage('Communicate')?.blocks)).toContain(
      'Status update queued for 1 webhook',
    );
    expect(templated.requests).toEqual([]);
    // Fail closed: someone who is not an operator sends nothing.
    const refused = await press(RUNBOOK_ACTIONS.statusUpdate, send, OUTSIDER);
    expect(refused).toMatch(/only operators/i);
    expect(
      receiver.requests.filter((r) => (r.body as { event?: string }).event === 'status-update'),
    ).toHaveLength(1);
    const lines = readFileSync(join(t.stateDir, 'notify', 'deliveries.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((line) => JSON.parse(line).event)).toContain('status-update');
  });
});
