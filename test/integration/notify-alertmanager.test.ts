/**
 * End to end with a real Alertmanager (Debian's prometheus-alertmanager): a sev1 alert it routes to
 * the bot triggers a PagerDuty incident and reaches the status-page webhook; Acknowledge in Slack
 * acknowledges both; the resolve resolves both. Each event arrives once, one dedup_key for the group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PagerDutyEmulator } from '../../src/emulators/pagerduty/emulator.js';
import { ALERT_ACTIONS } from '../../src/messages/action-ids.js';
import { type AlertmanagerHandle, freePort, startAlertmanager } from '../support/alertmanager.js';
import { ALERT_TOKEN, CHANNEL, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, textOf } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const ROUTING_KEY = PagerDutyEmulator.routingKey();
const pagerduty = new PagerDutyEmulator({ routingKeys: [ROUTING_KEY] });
const statusPage = new WebhookReceiver();
let am: AlertmanagerHandle;
let t: TestBot;

beforeAll(async () => {
  await pagerduty.start();
  await statusPage.start();
  const port = await freePort();
  am = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/alertmanager`,
    bearerToken: ALERT_TOKEN,
  });
  t = await startTestBot({
    env: { PORT: String(port), ALERTMANAGER_URL: am.url, PD_KEY: ROUTING_KEY },
    configYaml: `
access:
  operators: [${OPERATOR}]
escalation:
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
notify:
  webhooks:
    - url: ${statusPage.url}/status
  pagerduty:
    routingKeyEnv: PD_KEY
    url: ${pagerduty.enqueueUrl}
`,
  });
});
afterAll(async () => {
  await t?.stop();
  await am?.stop();
  await pagerduty.stop();
  await statusPage.stop();
});

const fire = (endsAt?: string) =>
  am.postAlerts([
    {
      labels: { alertname: 'NotifyRealDown', deployment: 'messaging-core', severity: 'critical' },
      annotations: { summary: 'Messaging is down' },
      ...(endsAt && { endsAt }),
    },
  ]);

describe('notify with a real Alertmanager', () => {
  it('trigger/opened, acknowledge/acknowledged, resolve/resolved: once each, one dedup_key', async () => {
    await fire();
    const [trigger] = await pagerduty.waitForEvents(1);
    await statusPage.waitFor(1);
    const message = await eventually(() => {
      const found = t.slack.messages(CHANNEL).find((m) => !m.thread_ts && m.text?.includes('NotifyRealDown'));
      if (!found) throw new Error('not posted yet');
      return found;
    }, 20_000);
    const value = /"action_id":"switchyard\.alert\.acknowledge","value":"([^"]+)"/.exec(
      JSON.stringify(message.blocks),
    )?.[1];
    const sent = await t.client.blockAction({
      actionId: ALERT_ACTIONS.acknowledge,
      value: value!,
      userId: OPERATOR,
      channelId: CHANNEL,
      messageTs: message.ts,
    });
    const answer = await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS);
    expect(textOf(answer.body as never)).toContain('Acknowledged');
    await pagerduty.waitForEvents(2);
    await statusPage.waitFor(2);

    await fire(new Date(Date.now() - 1000).toISOString());
    await pagerduty.waitForEvents(3);
    await statusPage.waitFor(3);
    await t.bot.notify!.outbox.idle();

    expect(pagerduty.events.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(new Set(pagerduty.events.map((e) => e.dedup_key))).toEqual(new Set([trigger!.dedup_key]));
    expect(pagerduty.incidents.get(trigger!.dedup_key)?.status).toBe('resolved');
    expect(statusPage.accepted.map((r) => (r.body as { event: string }).event)).toEqual([
      'opened',
      'acknowledged',
      'resolved',
    ]);
  });
});
