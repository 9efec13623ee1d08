/**
 * A real Alertmanager (Debian's prometheus-alertmanager) routes real alerts to the bot; the buttons
 * act on it through its API v2. A missing binary fails these tests (requireBinary), never skips them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../../src/emulators/slack/emulator.js';
import { type AlertmanagerHandle, freePort, startAlertmanager } from '../support/alertmanager.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  CHANNEL,
  OPERATOR,
  OUTSIDER,
  startTestBot,
  type TestBot,
} from '../support/bot.js';
import { eventually, sendJson } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';

const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
`;

let am: AlertmanagerHandle;
let t: TestBot;

beforeAll(async () => {
  const port = await freePort();
  am = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/alertmanager`,
    bearerToken: ALERT_TOKEN,
  });
  t = await startTestBot({ configYaml: CONFIG, env: { PORT: String(port), ALERTMANAGER_URL: am.url } });
});
afterAll(async () => {
  await t?.stop();
  await am?.stop();
});

const topLevel = (alertname: string) =>
  t.slack.messages(CHANNEL).filter((m) => !m.thread_ts && (m.text ?? '').includes(alertname));

async function fire(alertname: string, extra: Record<string, string> = {}, endsAt?: string) {
  await am.postAlerts([
    {
      labels: { alertname, deployment: 'messaging-core', severity: 'critical', ...extra },
      annotations: { summary: `${alertname} summary`, runbook_url: 'https://runbooks.example/system-down' },
      ...(endsAt && { endsAt }),
    },
  ]);
}

async function messageOf(alertname: string): Promise<EmulatedMessage> {
  return eventually(() => {
    const [message] = topLevel(alertname);
    if (!message) throw new Error(`no message for ${alertname} yet`);
    return message;
  }, 20_000);
}

function actionValue(message: EmulatedMessage, actionId: string): string {
  const text = JSON.stringify(message.blocks);
  const button = new RegExp(`"action_id":"${actionId.replace(/\./g, '\\.')}","value":"([^"]+)"`).exec(text);
  if (button) return button[1]!;
  const option = /"value":"([0-9a-f]{24}):1h"/.exec(text);
  if (actionId.endsWith('silence') && option) return `${option[1]}:1h`;
  throw new Error(`no ${actionId} in ${text}`);
}

async function click(actionId: string, message: EmulatedMessage, userId: string, select = false) {
  const value = actionValue(message, actionId);
  const sent = select
    ? await t.client.staticSelect({ actionId, value, userId, channelId: CHANNEL, messageTs: message.ts })
    : await t.client.blockAction({ actionId, value, userId, channelId: CHANNEL, messageTs: message.ts });
  expect(sent.status).toBe(200);
  const response = await t.slack.waitForResponse((r) => r.url === sent.responseUrl, ANSWER_TIMEOUT_MS);
  return { text: String(response.body.text ?? ''), body: response.body };
}

describe('a real Alertmanager', () => {
  it('routes a firing alert to the bot, which posts it; resolving it updates the same message', async () => {
    await fire('RealDown');
    const message = await messageOf('RealDown');
    expect(message.text).toContain(':red_circle: SEV1 firing (1): RealDown (deployment=messaging-core)');
    expect(JSON.stringify(message.blocks)).toContain('"url":"https://runbooks.example/system-down"');

    await fire('RealDown', {}, new Date(Date.now() - 1000).toISOString());
    const updated = await eventually(() => {
      const [current] = topLevel('RealDown');
      expect(current?.text).toContain(':white_check_mark:');
      return current!;
    }, 20_000);
    expect(updated.ts).toBe(message.ts);
    expect(topLevel('RealDown')).toHaveLength(1);
    expect(JSON.stringify(updated.blocks)).toContain('*Resolved* after');
    await t.bot.alerting.outbox.idle(); // the thread note follows the message update
    const notes = t.slack.thread(CHANNEL, message.ts).map((m) => m.text ?? '');
    expect(notes.at(-1)).toContain('*Group resolved*');
  });

  it('Silence creates an active Alertmanager silence with the group matchers; Unsilence expires it', async () => {
    await fire('SilenceMe');
    const message = await messageOf('SilenceMe');

    const refused = await click('switchyard.alert.silence', message, OUTSIDER, true);
    expect(refused.text).toMatch(/^:no_entry: Only operators may do this.*Nothing was changed\.$/);
    expect(refused.body.replace_original).toBe(false);
    expect(await am.silences()).toEqual([]);

    const done = await click('switchyard.alert.silence', message, OPERATOR, true);
    expect(done.text).toMatch(/^Silenced for 1h \(silence [0-9a-f-]+\)\.$/);
    const [silence] = await am.silences();
    expect(silence?.status.state).toBe('active');
    expect(silence?.createdBy).toBe(`${OPERATOR.toLowerCase()} (${OPERATOR})`);
    expect(silence?.matchers.map(({ name, value, isRegex }) => ({ name, value, isRegex }))).toEqual([
      { name: 'alertname', value: 'SilenceMe', isRegex: false },
      { name: 'deployment', value: 'messaging-core', isRegex: false },
    ]);
    const hours = (Date.parse(silence!.endsAt) - Date.parse(silence!.startsAt)) / 3_600_000;
    expect(hours).toBeCloseTo(1, 2);

    await t.bot.alerting.outbox.idle();
    const silenced = topLevel('SilenceMe')[0]!;
    expect(JSON.stringify(silenced.blocks)).toContain(`:mute: Silenced by <@${OPERATOR}>`);
    expect(JSON.stringify(silenced.blocks)).toContain('switchyard.alert.unsilence');
    expect(
      t.slack
        .thread(CHANNEL, message.ts)
        .map((m) => m.text)
        .join('\n'),
    ).toContain(silence!.id);

    const undone = await click('switchyard.alert.unsilence', silenced, OPERATOR);
    expect(undone.text).toBe(`Silence ${silence!.id} expired.`);
    const after = await am.silences();
    expect(after.find((s) => s.id === silence!.id)?.status.state).toBe('expired');
    await t.bot.alerting.outbox.idle();
    expect(JSON.stringify(topLevel('SilenceMe')[0]!.blocks)).not.toContain(':mute:');
  });

  it('Acknowledge records who and when for operators only; Kill switch opens the disable-all confirmation', async () => {
    await fire('AckMe');
    const message = await messageOf('AckMe');

    const refused = await click('switchyard.alert.acknowledge', message, OUTSIDER);
    expect(refused.text).toContain(':no_entry: Only operators may do this');
    await t.bot.alerting.outbox.idle();
    expect(JSON.stringify(topLevel('AckMe')[0]!.blocks)).toContain('switchyard.alert.acknowledge');

    const acked = await click('switchyard.alert.acknowledge', message, OPERATOR);
    expect(acked.text).toBe('Acknowledged: escalation stopped.');
    await t.bot.alerting.outbox.idle();
    const after = topLevel('AckMe')[0]!;
    expect(JSON.stringify(after.blocks)).toContain(`:eyes: Acknowledged by <@${OPERATOR}>`);
    expect(JSON.stringify(after.blocks)).not.toContain('switchyard.alert.acknowledge');
    expect(t.slack.thread(CHANNEL, message.ts).map((m) => m.text)).toContain(
      `:eyes: Acknowledged by <@${OPERATOR}>. Escalation stopped.`,
    );
    const again = await click('switchyard.alert.kill-switch', after, OUTSIDER);
    expect(again.text).toContain(':no_entry:');

    const enabled = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/adaptive_timing`,
      { enabled: true, reason: 'test setup' },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(enabled.status).toBe(200);
    const kill = await click('switchyard.alert.kill-switch', after, OPERATOR);
    expect(kill.body.response_type).toBe('ephemeral');
    expect(kill.body.replace_original).toBe(false);
    expect(JSON.stringify(kill.body.blocks)).toContain('"action_id":"switchyard.confirm"');
    expect(kill.text).toContain('Turn off 1 new feature?');
    const pending = /"action_id":"switchyard\.confirm","value":"([^"]+)"/.exec(
      JSON.stringify(kill.body),
    )![1]!;
    await t.client.blockAction({
      actionId: 'switchyard.confirm',
      value: pending,
      userId: OPERATOR,
      channelId: CHANNEL,
    });
    const announced = await t.slack.waitForCall(
      'chat.postMessage',
      (c) => String(c.params.text).includes('Kill switch'),
      ANSWER_TIMEOUT_MS,
    );
    expect(String(announced.params.text)).toContain('Reason: “alert AckMe”');
    // No /rollback command and no cluster yet: no Roll back button.
    expect(JSON.stringify(after.blocks)).not.toContain('switchyard.alert.rollback');
  });
});
