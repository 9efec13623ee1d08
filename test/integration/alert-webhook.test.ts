import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALERT_TOKEN, CHANNEL, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { ANSWER_TIMEOUT_MS } from '../support/slack.js';
import { firing, notification, resolved, T0 } from '../unit/alerts/builders.js';

const CONFIG = `
access:
  operators: [U0OPERATOR]
escalation:
  oncall: S0ONCALL
  tiers:
    - { after: 4h, notify: [U0TEAMLEAD] }
`;

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ configYaml: CONFIG });
});
afterAll(async () => {
  await t.stop();
});
beforeEach(() => {
  t.slack.reset();
});
afterEach(async () => {
  await t.bot.alerting.outbox.idle();
  expect(t.slack.violations).toEqual([]);
});

const post = (body: unknown, token: string | null = ALERT_TOKEN) =>
  sendJson('POST', `${t.url}/alertmanager`, body, token === null ? {} : { authorization: `Bearer ${token}` });
const topLevel = () => t.slack.messages(CHANNEL).filter((m) => !m.thread_ts);
const groupFiles = () => {
  const dir = join(t.stateDir, 'alerts', 'groups');
  return existsSync(dir) ? readdirSync(dir) : [];
};
const now = Date.now();

describe('POST /alertmanager', () => {
  it('refuses a request without the bearer token, or with a wrong one: 401, nothing recorded', async () => {
    const payload = notification([firing('a1', now)], { groupKey: 'auth-test' });
    const before = groupFiles().length;
    expect((await post(payload, null)).status).toBe(401);
    const wrong = await post(payload, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(groupFiles()).toHaveLength(before);
    expect(t.slack.calls('chat.postMessage')).toEqual([]);
  });

  it('answers 400 with the path of a wrong type, and records nothing', async () => {
    const before = groupFiles().length;
    const bad = notification([firing('a1', now)], { groupKey: 'bad-types' }) as unknown as Record<
      string,
      unknown
    >;
    (bad.alerts as Array<Record<string, unknown>>)[0]!.labels = { severity: 3 };
    const response = await post(bad);
    expect(response.status).toBe(400);
    expect(response.body.path).toBe('alerts.0.labels.severity');
    expect(String(response.body.error)).toMatch(/^alerts\.0\.labels\.severity: /);

    const wrongVersion = await post({ ...notification([firing('a1', now)]), version: '3' });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body.path).toBe('version');

    const notJson = await post('{"version": "4", ');
    expect(notJson.status).toBe(400);
    expect(String(notJson.body.error)).toMatch(/not valid JSON/);

    expect(groupFiles()).toHaveLength(before);
    // Barrier: the outbox is where an accepted notification would be queued for Slack.
    await t.bot.alerting.outbox.idle();
    expect(t.slack.calls('chat.postMessage')).toEqual([]);
  });

  it('tolerates unknown fields', async () => {
    const payload = {
      ...notification([firing('u1', now)], { groupKey: 'unknown-fields' }),
      futureField: { x: 1 },
    };
    expect((await post(payload)).status).toBe(200);
  });
});

describe('alert group messages', () => {
  it('posts one message per group; a resend never posts a second; resolving updates the same message', async () => {
    const groupKey = '{}/{team="messaging"}:{alertname="MessagingSystemDown"}';
    const a1 = firing('fp-1', now - 60_000);
    const first = await post(notification([a1], { groupKey }));
    expect(first.status).toBe(200);
    expect((await post(notification([a1], { groupKey }))).status).toBe(200); // a resend
    const posted = await t.slack.waitForCall('chat.postMessage', (c) => c.status === 200, ANSWER_TIMEOUT_MS);
    expect(posted.params.channel).toBe(CHANNEL);
    expect(String(posted.params.text)).toContain('<!subteam^S0ONCALL>'); // sev1 pages on-call at once
    expect(String(posted.params.text)).toContain('SEV1 firing (1): MessagingSystemDown');
    await t.bot.alerting.outbox.idle();

    const a2 = firing('fp-22', now - 30_000);
    expect((await post(notification([a1, a2], { groupKey }))).status).toBe(200);
    expect((await post(notification([resolved(a1, now), resolved(a2, now)], { groupKey }))).status).toBe(200);
    await t.bot.alerting.outbox.idle();

    const messages = topLevel();
    expect(messages).toHaveLength(1);
    const message = messages[0]!;
    expect(message.text).toContain(':white_check_mark:');
    expect(message.text).toMatch(/\(lasted 1m/);
    expect(JSON.stringify(message.blocks)).toContain('*Resolved* after 1m');
    expect(JSON.stringify(message.blocks)).not.toContain('switchyard.alert.acknowledge');
    const thread = t.slack.thread(CHANNEL, message.ts).map((m) => m.text ?? '');
    expect(thread).toHaveLength(2);
    expect(thread[0]).toMatch(/^:fire: Firing \(1\):\n• 10\.0\.0\.5:8080: Messaging system is down/);
    expect(thread[1]).toContain(':white_check_mark: Resolved (2):');
    expect(thread[1]).toContain('*Group resolved* after 1m');
    expect(t.slack.calls('chat.update').length).toBeGreaterThanOrEqual(1);
  });

  it('summarises 300 alerts with 20,000-character descriptions within Block Kit limits', async () => {
    const long = 'x'.repeat(20_000);
    const alerts = Array.from({ length: 300 }, (_, i) => {
      const alert = firing(`big-${i}`, now - i * 1000, {
        instance: `10.1.${Math.floor(i / 250)}.${i % 250}:9090`,
      });
      return {
        ...alert,
        annotations: { ...alert.annotations, summary: `target ${i} <down> & out`, description: long },
      };
    });
    const response = await post(notification(alerts, { groupKey: 'big-group', truncatedAlerts: 40 }));
    expect(response.status).toBe(200);
    await t.bot.alerting.outbox.idle();
    const [message] = topLevel();
    expect(message).toBeDefined();
    const blocks = JSON.stringify(message!.blocks);
    expect(blocks).toContain('SEV1 firing (300)');
    expect(blocks).toMatch(/\+\d+ more alerts not listed here/);
    expect(blocks).toContain('Alertmanager left 40 alerts of this group out');
    expect(blocks).toContain('&lt;down&gt; &amp; out');
    expect(t.slack.violations).toEqual([]);
  });

  it('mentions on-call for sev2 without a ping, and posts sev3 quietly', async () => {
    const labels = (alertname: string) => ({ groupLabels: { alertname }, commonLabels: { alertname } });
    await post(
      notification([firing('w1', now, { severity: 'warning', alertname: 'Slow' })], {
        groupKey: 'sev2',
        ...labels('Slow'),
      }),
    );
    await post(
      notification([firing('i1', now, { severity: 'info', alertname: 'Meh' })], {
        groupKey: 'sev3',
        ...labels('Meh'),
      }),
    );
    await t.bot.alerting.outbox.idle();
    const [sev2] = topLevel().filter((m) => m.text?.includes('Slow'));
    const [sev3] = topLevel().filter((m) => m.text?.includes('Meh'));
    expect(JSON.stringify(sev2)).not.toContain('<!subteam^');
    // By its handle (usergroups.list), not its raw ID.
    expect(JSON.stringify(sev2!.blocks)).toContain(
      'On call *@messaging-oncall* not paged for sev2; no escalation.',
    );
    expect(sev2!.text).toContain(':large_orange_circle: SEV2 firing');
    expect(JSON.stringify(sev3)).not.toContain('S0ONCALL');
    expect(sev3!.text).toContain(':large_yellow_circle: SEV3 firing');
  });

  it('answers 401 when ALERTMANAGER_WEBHOOK_TOKEN is unset', async () => {
    const other = await startTestBot({ configYaml: CONFIG, env: { ALERTMANAGER_WEBHOOK_TOKEN: '' } });
    try {
      const response = await sendJson('POST', `${other.url}/alertmanager`, notification([firing('x', T0)]), {
        authorization: 'Bearer ',
      });
      expect(response.status).toBe(401);
      expect(String(response.body.error)).toContain('ALERTMANAGER_WEBHOOK_TOKEN is not set');
    } finally {
      await other.stop();
    }
  });
});
