/**
 * A webhook delivery queued before a stop is kept in the notify journal and sent after the restart,
 * once, under the same delivery id; every attempt on both sides of the restart is in the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_TOKEN, OPERATOR, startTestBot, tempDir } from '../support/bot.js';
import { sendJson } from '../support/http.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { firing, notification } from '../unit/alerts/builders.js';

const receiver = new WebhookReceiver();
beforeAll(() => receiver.start());
afterAll(() => receiver.stop());

describe('notify outbox across a restart', () => {
  it('sends a delivery still pending at stop after the restart, once, with the same id', async () => {
    const stateDir = tempDir();
    const configYaml = `
access:
  operators: [${OPERATOR}]
notify:
  webhooks:
    - url: ${receiver.url}/hook
`;
    // Down for longer than the first bot lives: every try before the stop fails.
    receiver.failNext(503, 1_000);
    const first = await startTestBot({ configYaml, stateDir });
    const alertname = 'RestartDelivery';
    const response = await sendJson(
      'POST',
      `${first.url}/alertmanager`,
      notification([firing('r-1', Date.now(), { alertname })], {
        groupKey: `{}:{alertname="${alertname}"}`,
        groupLabels: { alertname },
      }),
      { authorization: `Bearer ${ALERT_TOKEN}` },
    );
    expect(response.status).toBe(200);
    // Barrier: the first attempt failed and is recorded.
    await new Promise<void>((resolve) => {
      const stop = first.bot.notify!.deliveries.onRecord((record) => {
        if (record.status === 'retrying') {
          stop();
          resolve();
        }
      });
    });
    await first.stop();
    expect(first.bot.notify!.outbox.depth).toBe(1);

    // Healthy again.
    receiver.recover();
    receiver.requests.length = 0;
    const second = await startTestBot({ configYaml, stateDir });
    try {
      const [got] = await receiver.waitFor(1);
      await second.bot.notify!.outbox.idle();
      expect(receiver.accepted).toHaveLength(1);
      expect(got!.body).toMatchObject({ event: 'opened', group: { alertname } });
      const records = await second.bot.notify!.deliveries.read();
      const id = String(got!.headers['x-switchyard-delivery']);
      const mine = records.filter((record) => record.id === id);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.slice(0, -1).every((record) => record.status === 'retrying')).toBe(true);
      expect(mine.at(-1)).toMatchObject({ status: 'delivered', httpStatus: 200, event: 'opened' });
    } finally {
      await second.stop();
    }
  });
});
