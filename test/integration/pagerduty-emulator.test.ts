/** The PagerDuty Events API v2 emulator answers as the real API: 202, 400 with errors, 429. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PagerDutyEmulator } from '../../src/emulators/pagerduty/emulator.js';

const KEY = PagerDutyEmulator.routingKey();
const pd = new PagerDutyEmulator({ routingKeys: [KEY] });
beforeAll(() => pd.start());
afterAll(() => pd.stop());

async function enqueue(body: unknown) {
  const response = await fetch(pd.enqueueUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const trigger = {
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'group-1',
  payload: { summary: 'Down', source: 'host', severity: 'critical' },
};

describe('PagerDuty Events API v2 emulator', () => {
  it('accepts a trigger, an acknowledge and a resolve with 202 and the dedup_key', async () => {
    expect(await enqueue(trigger)).toEqual({
      status: 202,
      body: { status: 'success', message: 'Event processed', dedup_key: 'group-1' },
    });
    expect(
      (await enqueue({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'group-1' })).status,
    ).toBe(202);
    expect((await enqueue({ routing_key: KEY, event_action: 'resolve', dedup_key: 'group-1' })).status).toBe(
      202,
    );
    expect(pd.incidents.get('group-1')).toMatchObject({
      status: 'resolved',
      actions: ['trigger', 'acknowledge', 'resolve'],
    });
    const generated = await enqueue({ ...trigger, dedup_key: undefined });
    expect(String(generated.body.dedup_key)).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['not JSON', '{"routing_key":', 'Event object is not valid JSON'],
    [
      'a short routing key',
      { ...trigger, routing_key: 'abc' },
      "Length of 'routing_key' is incorrect (should be 32 characters)",
    ],
    ['an unknown routing key', { ...trigger, routing_key: 'f'.repeat(32) }, 'Invalid routing key'],
    [
      'a bad action',
      { ...trigger, event_action: 'page' },
      "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)",
    ],
    ['no payload', { ...trigger, payload: undefined }, "'payload' is missing or blank"],
    [
      'no summary',
      { ...trigger, payload: { ...trigger.payload, summary: '' } },
      "'payload.summary' is missing or blank",
    ],
    [
      'a bad severity',
      { ...trigger, payload: { ...trigger.payload, severity: 'sev1' } },
      "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
    ],
    [
      'a resolve without dedup_key',
      { routing_key: KEY, event_action: 'resolve' },
      "'dedup_key' is missing or blank",
    ],
  ])('refuses %s with 400 invalid event', async (_what, body, error) => {
    const before = pd.events.length;
    const answer = await enqueue(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    expect(answer.body.errors).toContain(error);
    expect(pd.events.length).toBe(before);
  });

  it('answers 429 when throttled, and takes the event again afterwards', async () => {
    pd.failNext({ status: 429 });
    const throttled = await enqueue({ ...trigger, dedup_key: 'group-2' });
    expect(throttled.status).toBe(429);
    expect(pd.incidents.has('group-2')).toBe(false);
    expect((await enqueue({ ...trigger, dedup_key: 'group-2' })).status).toBe(202);
  });
});
