/**
 * Issue 14 item 6: PagerDuty Events API v2 (`notify.pagerduty`). A sev1 group triggers an incident, an
 * Acknowledge in Slack acknowledges it, the resolve resolves it: each reaches the (emulated) Events
 * API once, with one dedup_key per alert group. The routing key comes only from the environment
 * variable the config names and is never logged or stored.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PagerDutyEmulator } from '../../src/emulators/pagerduty/emulator.js';
import { ALERT_ACTIONS } from '../../src/messages/action-ids.js';
import { ALERT_TOKEN, CHANNEL, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

const ROUTING_KEY = PagerDutyEmulator.routingKey();
const pagerduty = new PagerDutyEmulator({ routingKeys: [ROUTING_KEY] });
let t: TestBot;

beforeAll(async () => {
  await pagerduty.start();
  t = await startTestBot({
    env: { PD_ROUTING_KEY: ROUTING_KEY },
    configYaml: `
access:
  operators: [${OPERATOR}]
escalation:
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
notify:
  pagerduty:
    routingKeyEnv: PD_ROUTING_KEY
    url: ${pagerduty.enqueueUrl}
`,
  });
});
afterAll(async () => {
  await t?.stop();
  await pagerduty.stop();
});

async function post(body: unknown) {
  const response = await sendJson('POST', `${t.url}/alertmanager`, body, {
    authorization: `Bearer ${ALERT_TOKEN}`,
  });
  expect(response.status).toBe(200);
}

function group(alertname: string, severity: string) {
  const alert = firing(`${alertname}-1`, Date.now() - 60_000, { alertname, severity });
  const payload = (alerts = [alert]) =>
    notification(alerts, {
      groupKey: `{}:{alertname="${alertname}"}`,
      groupLabels: { alertname },
      commonLabels: { alertname, team: 'messaging', severity, instance: '10.0.0.9:8080' },
    });
  return { alert, payload };
}

async function acknowledgeInSlack(alertname: string) {
  await t.bot.alerting.outbox.idle();
  const message = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && m.text?.includes(alertname));
  const value = /"action_id":"switchyard\.alert\.acknowledge","value":"([^"]*)"/.exec(
    JSON.stringify(message?.blocks ?? []),
  )?.[1];
  expect(value).toBeDefined();
  const sent = await t.client.blockAction({
    actionId: ALERT_ACTIONS.acknowledge,
    value: value!,
    userId: OPERATOR,
    channelId: CHANNEL,
    responseUrl: t.slack.createResponseUrl(),
  });
  const answer = await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS);
  expect(textOf(answer.body as never)).toContain('Acknowledged');
}

/** The dedup_key each group's trigger carried. */
const keys = new Map<string, string>();
const eventsFor = (alertname: string) => pagerduty.events.filter((e) => e.dedup_key === keys.get(alertname));

describe('notify.pagerduty', () => {
  it('trigger, acknowledge and resolve reach the Events API once each, with one dedup_key per group', async () => {
    const { alert, payload } = group('PagerDutyFlow', 'critical');
    // The first try is throttled (429): waited out and sent again, still once.
    pagerduty.failNext({ status: 429 });
    await post(payload());
    await post(payload()); // Alertmanager's resend: no second trigger
    const [trigger] = await pagerduty.waitForEvents(1);
    keys.set('PagerDutyFlow', trigger!.dedup_key);
    expect(trigger).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger' });
    expect(trigger!.payload).toMatchObject({
      summary: '[SEV1] PagerDutyFlow - Messaging system is down',
      source: '10.0.0.9:8080',
      severity: 'critical',
      class: 'PagerDutyFlow',
      group: 'messaging',
    });

    await acknowledgeInSlack('PagerDutyFlow');
    await pagerduty.waitForEvents(2);
    await post(payload([resolved(alert, Date.now())]));
    await pagerduty.waitForEvents(3);
    await t.bot.notify!.outbox.idle();

    const mine = eventsFor('PagerDutyFlow');
    expect(mine.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(new Set(mine.map((e) => e.dedup_key)).size).toBe(1);
    expect(pagerduty.incidents.get(trigger!.dedup_key)).toMatchObject({
      status: 'resolved',
      actions: ['trigger', 'acknowledge', 'resolve'],
    });
    expect(pagerduty.requests.map((r) => r.status)).toEqual([429, 202, 202, 202]);

    // Recorded: who, what, when, status; the throttled try too.
    const records = (await t.bot.notify!.deliveries.read()).filter((r) => r.dedupKey === trigger!.dedup_key);
    expect(records.map((r) => [r.event, r.status])).toEqual([
      ['trigger', 'rate-limited'],
      ['trigger', 'delivered'],
      ['acknowledge', 'delivered'],
      ['resolve', 'delivered'],
    ]);
    expect(records[2]).toMatchObject({
      target: 'pagerduty',
      by: OPERATOR,
      severity: 'sev1',
      httpStatus: 202,
    });
  });

  it('another group is another incident; a sev2 group pages nobody', async () => {
    const other = group('PagerDutyOther', 'critical');
    const minor = group('PagerDutyMinor', 'warning');
    const before = pagerduty.events.length;
    await post(minor.payload());
    await post(other.payload());
    const events = await pagerduty.waitForEvents(before + 1);
    await t.bot.alerting.outbox.idle();
    await t.bot.notify!.outbox.idle();
    const fresh = events.slice(before);
    expect(fresh.map((e) => e.event_action)).toEqual(['trigger']);
    expect(fresh[0]!.payload?.class).toBe('PagerDutyOther');
    expect(keys.get('PagerDutyFlow')).not.toBe(fresh[0]!.dedup_key);
    expect(pagerduty.events.some((e) => e.payload?.class === 'PagerDutyMinor')).toBe(false);
  });

  it('never writes the routing key to the logs or the state directory', async () => {
    expect(JSON.stringify(t.logs.entries)).not.toContain(ROUTING_KEY);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : [path];
      });
    for (const file of files(t.stateDir)) expect(readFileSync(file, 'utf8'), file).not.toContain(ROUTING_KEY);
  });
});
