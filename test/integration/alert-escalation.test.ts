import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../src/emulators/slack/emulator.js';
import { ALERT_TOKEN, CHANNEL, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

const CONFIG = `
access:
  operators: [${OPERATOR}]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 1s, notify: [U0TEAMLEAD] }
    - { after: 2s, notify: [U0ENGMGR, S0MANAGERS] }
`;

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG });
});
afterAll(async () => {
  await t.stop();
});

const post = (body: unknown) =>
  sendJson('POST', `${t.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });
const ok = (call: RecordedCall) => call.status === 200 && call.response.ok === true;

/**
 * Barrier for "no tier fired": a fresh unacknowledged group, opened after the groups under test,
 * reaches its tier 2. Every tier of those groups fell due at least a timer tick earlier, and the
 * outbox has sent what those ticks queued, so a page that should not exist would be recorded now.
 */
async function escalationBarrier(alertname: string): Promise<void> {
  const control = groupOf(alertname);
  expect((await post(notification(control.alerts, control.overrides))).status).toBe(200);
  await t.slack.waitForCall(
    'chat.postMessage',
    (c) => ok(c) && c.params.channel === 'U0ENGMGR' && String(c.params.text).includes(alertname),
    20_000,
  );
  await t.bot.alerting.outbox.idle();
}

function groupOf(alertname: string) {
  const labels = { alertname };
  const alerts = [firing(`${alertname}-1`, Date.now(), { alertname })];
  return {
    alerts,
    overrides: { groupKey: `{}:{alertname="${alertname}"}`, groupLabels: labels, commonLabels: labels },
  };
}

describe('escalation of an unacknowledged sev1 group', () => {
  it('pings each tier in the thread and by DM, in order, never before its time', async () => {
    const group = groupOf('EscalateMe');
    const opened = Date.parse(group.alerts[0]!.startsAt);
    expect((await post(notification(group.alerts, group.overrides))).status).toBe(200);
    const tier2 = await t.slack.waitForCall(
      'chat.postMessage',
      (c) => ok(c) && c.params.channel === 'U0ENGMGR',
      20_000,
    );
    const tier1 = t.slack.calls('chat.postMessage').find((c) => ok(c) && c.params.channel === 'U0TEAMLEAD')!;
    expect(tier1).toBeDefined();
    expect(tier1.seq).toBeLessThan(tier2.seq);
    // Lower bounds only: how late a tier comes depends on the machine (exact due times are
    // tested with an injected clock in test/unit/alerting/alert-service.test.ts).
    expect(tier1.at - opened).toBeGreaterThanOrEqual(1_000);
    expect(tier2.at - opened).toBeGreaterThanOrEqual(2_000);
    expect(String(tier1.params.text)).toMatch(
      /^:rotating_light: You are paged as Team Lead \(tier 1\): sev1 \*EscalateMe\*/,
    );

    await t.bot.alerting.outbox.idle();
    const [message] = t.slack.messages(CHANNEL).filter((m) => !m.thread_ts && m.text?.includes('EscalateMe'));
    const notes = t.slack.thread(CHANNEL, message!.ts).map((m) => m.text);
    expect(notes).toEqual([
      ':rotating_light: *Escalation to Team Lead (tier 1)*: still unacknowledged. <@U0TEAMLEAD>',
      ':rotating_light: *Escalation to Engineering Manager (tier 2)*: still unacknowledged. <@U0ENGMGR> <!subteam^S0MANAGERS>',
    ]);
    // User groups are mentioned in the thread, not DMed.
    expect(t.slack.calls('chat.postMessage').filter((c) => c.params.channel === 'S0MANAGERS')).toEqual([]);
    await escalationBarrier('ControlOne');
    expect(
      t.slack
        .calls('chat.postMessage')
        .filter(
          (c) => ok(c) && c.params.channel === 'U0TEAMLEAD' && String(c.params.text).includes('EscalateMe*'),
        ),
    ).toHaveLength(1);
    expect(t.bot.metrics.registry.getSingleMetric('switchyard_escalations_sent_total')).toBeDefined();
    const metrics = await t.bot.metrics.registry.metrics();
    // Two groups escalated by now: this one and the barrier's.
    expect(metrics).toContain('switchyard_escalations_sent_total{tier="1"} 2');
    expect(metrics).toContain('switchyard_escalations_sent_total{tier="2"} 2');
  });

  it('fires no tier once the group is acknowledged', async () => {
    const group = groupOf('AckedAtOnce');
    expect((await post(notification(group.alerts, group.overrides))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    const [message] = t.slack
      .messages(CHANNEL)
      .filter((m) => !m.thread_ts && m.text?.includes('AckedAtOnce'));
    const value = /"action_id":"switchyard\.alert\.acknowledge","value":"([^"]+)"/.exec(
      JSON.stringify(message!.blocks),
    )![1]!;
    const before = t.slack.calls('chat.postMessage').length;
    await t.client.blockAction({
      actionId: 'switchyard.alert.acknowledge',
      value,
      userId: OPERATOR,
      channelId: CHANNEL,
      messageTs: message!.ts,
    });
    await escalationBarrier('ControlTwo');
    const later = t.slack
      .calls('chat.postMessage')
      .slice(before)
      .filter((c) => c.params.thread_ts === message!.ts || String(c.params.text).includes('AckedAtOnce'));
    expect(later.map((c) => String(c.params.text))).toEqual([
      `:eyes: Acknowledged by <@${OPERATOR}>. Escalation stopped.`,
    ]);
  });

  it('fires no tier for a group that resolves before its time', async () => {
    const group = groupOf('GoneQuickly');
    expect((await post(notification(group.alerts, group.overrides))).status).toBe(200);
    const done = { ...group.alerts[0]!, status: 'resolved' as const, endsAt: new Date().toISOString() };
    expect((await post(notification([done], group.overrides))).status).toBe(200);
    await escalationBarrier('ControlThree');
    const texts = t.slack.calls('chat.postMessage').map((c) => String(c.params.text));
    expect(texts.filter((text) => text.includes('GoneQuickly') && text.includes('paged'))).toEqual([]);
    const [message] = t.slack
      .messages(CHANNEL)
      .filter((m) => !m.thread_ts && m.text?.includes('GoneQuickly'));
    expect(message?.text).toContain(':white_check_mark:');
  });
});
