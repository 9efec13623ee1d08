import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_TOKEN, API_TOKEN, CHANNEL, startTestBot, type TestBot } from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { firing, notification } from '../unit/alerts/builders.js';

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot();
});
afterAll(async () => {
  await t.stop();
});

describe('input that once produced a lie or a wrong error', () => {
  it('refuses a webhook with an empty alerts list (400, the reason) and posts no "resolved" message', async () => {
    const empty = { ...notification([firing('a', Date.now())], { groupKey: 'empty-group' }), alerts: [] };
    const response = await sendJson('POST', `${t.url}/alertmanager`, empty, {
      authorization: `Bearer ${ALERT_TOKEN}`,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      path: 'alerts',
      error: expect.stringContaining('at least one alert'),
    });
    // Barrier: a real notification after it is posted; nothing was posted for the empty one.
    const real = notification([firing('b', Date.now(), { alertname: 'AfterTheEmptyOne' })], {
      groupKey: 'real-group',
    });
    expect(
      (await sendJson('POST', `${t.url}/alertmanager`, real, { authorization: `Bearer ${ALERT_TOKEN}` }))
        .status,
    ).toBe(200);
    await t.slack.waitForCall('chat.postMessage', (call) =>
      JSON.stringify(call.params).includes('AfterTheEmptyOne'),
    );
    await t.bot.alerting.outbox.idle();
    const posts = t.slack.messages(CHANNEL).map((message) => JSON.stringify(message));
    expect(posts.filter((post) => /resolved/i.test(post))).toEqual([]);
  });

  it('tells a 501-character reason it may have at most 500 characters', async () => {
    const response = await sendJson(
      'PUT',
      `${t.url}/api/v1/features/retry_logic`,
      { enabled: true, reason: 'x'.repeat(501) },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('reason: at most 500 characters: shorten the reason');
    const wrongType = await sendJson(
      'POST',
      `${t.url}/api/v1/features/disable-all`,
      { reason: 42 },
      { authorization: `Bearer ${API_TOKEN}` },
    );
    expect(wrongType.body.error).toBe('reason: expected "reason": a string saying why');
  });
});
