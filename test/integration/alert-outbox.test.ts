import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALERT_TOKEN, CHANNEL, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ configYaml: 'escalation:\n  oncall: S0ONCALL\n' });
});
afterAll(async () => {
  await t.stop();
});
beforeEach(() => {
  t.slack.reset();
});

const post = (body: unknown) =>
  sendJson('POST', `${t.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });

function overrides(alertname: string) {
  const labels = { alertname };
  return { groupKey: `{}:{alertname="${alertname}"}`, groupLabels: labels, commonLabels: labels };
}

describe('the Slack outbox', () => {
  it('waits out three 429s (Retry-After) and delivers the message once, then its thread in order', async () => {
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 3);
    const now = Date.now();
    const a = firing('rl-a', now - 120_000, { alertname: 'RateLimited' });
    const b = firing('rl-b', now - 60_000, { alertname: 'RateLimited' });
    expect((await post(notification([a], overrides('RateLimited')))).status).toBe(200);
    expect((await post(notification([a, b], overrides('RateLimited')))).status).toBe(200);
    expect(
      (await post(notification([resolved(a, now), resolved(b, now)], overrides('RateLimited')))).status,
    ).toBe(200);
    await t.bot.alerting.outbox.idle();

    const posts = t.slack.calls('chat.postMessage');
    expect(posts.slice(0, 4).map((c) => c.status)).toEqual([429, 429, 429, 200]);
    // Each 429 was waited out before the next try (Retry-After: 1 s).
    for (let i = 1; i < 4; i++) expect(posts[i]!.at - posts[i - 1]!.at).toBeGreaterThanOrEqual(950);
    const top = t.slack.messages(CHANNEL).filter((m) => !m.thread_ts);
    expect(top).toHaveLength(1);
    expect(top[0]!.text).toContain(':white_check_mark:'); // the final state, resolved
    const notes = t.slack.thread(CHANNEL, top[0]!.ts).map((m) => (m.text ?? '').split('\n')[0]);
    expect(notes).toEqual([':fire: Firing (1):', ':white_check_mark: Resolved (2):']);
    // The thread replies came after the top-level post.
    expect(posts.filter((c) => c.params.thread_ts).every((c) => c.seq > posts[3]!.seq)).toBe(true);
  });

  it('retries a 5xx with backoff and keeps the order of a group', async () => {
    const now = Date.now();
    const a = firing('5xx-a', now - 10_000, { alertname: 'Flaky', severity: 'warning' });
    expect((await post(notification([a], overrides('Flaky')))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    t.slack.failNext('chat.update', { status: 503 }, 2);
    t.slack.failNext('chat.postMessage', { status: 500 }, 1);
    expect((await post(notification([resolved(a, now)], overrides('Flaky')))).status).toBe(200);
    await t.bot.alerting.outbox.idle();
    expect(t.slack.calls('chat.update').map((c) => c.status)).toEqual([503, 503, 200]);
    const replies = t.slack.calls('chat.postMessage').filter((c) => c.params.thread_ts);
    expect(replies.map((c) => c.status)).toEqual([500, 200]);
    expect(replies[0]!.seq).toBeGreaterThan(t.slack.calls('chat.update').at(-1)!.seq);
    const [message] = t.slack.messages(CHANNEL).filter((m) => !m.thread_ts);
    expect(message!.text).toContain(':white_check_mark:');
    const metrics = await t.bot.metrics.registry.metrics();
    expect(metrics).toContain('switchyard_slack_queue_depth 0');
    expect(metrics).toMatch(/switchyard_alerts_received_total\{status="resolved",severity="sev2"\} 1/);
    expect(metrics).toMatch(/switchyard_alertmanager_webhook_duration_seconds_count \d+/);
  });
});
