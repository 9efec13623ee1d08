/** The 15-minute expiry of a pending confirmation, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { Confirmations, type PendingActions } from '../../../src/services/confirmations.js';
import { MemoryDocument } from './memory-document.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup() {
  const clock = { at: T0 };
  const store = new MemoryDocument<PendingActions>({});
  return { clock, store, confirmations: new Confirmations(store, undefined, () => clock.at) };
}

describe('confirmation expiry (15 minutes by default)', () => {
  it('can be confirmed at exactly 15 minutes', async () => {
    const { clock, confirmations } = setup();
    const pending = await confirmations.create('/flags', 'disable-all', { reason: 'x' }, 'U1');
    expect(pending.expiresAt).toBe(T0 + 15 * MINUTE);
    clock.at = T0 + 15 * MINUTE;
    expect((await confirmations.claim(pending.id, 'U1')).status).toBe('claimed');
  });

  it('is refused 1 ms after 15 minutes, and stays unsettled', async () => {
    const { clock, confirmations } = setup();
    const pending = await confirmations.create('/flags', 'disable-all', { reason: 'x' }, 'U1');
    clock.at = T0 + 15 * MINUTE + 1;
    expect(await confirmations.claim(pending.id, 'U1')).toEqual({ status: 'expired' });
    expect((await confirmations.peek(pending.id))?.settled).toBeUndefined();
    // A cancel after the expiry is refused the same way.
    expect(await confirmations.claim(pending.id, 'U1', 'cancelled')).toEqual({ status: 'expired' });
  });

  it('uses a configured time to live', async () => {
    const clock = { at: T0 };
    const confirmations = new Confirmations(new MemoryDocument<PendingActions>({}), MINUTE, () => clock.at);
    const pending = await confirmations.create('/rollback', 'phase', {}, 'U1');
    clock.at = T0 + MINUTE + 1;
    expect((await confirmations.claim(pending.id, 'U1')).status).toBe('expired');
  });

  it('forgets an expired confirmation a day after its expiry, when the next one is made', async () => {
    const { clock, confirmations } = setup();
    const old = await confirmations.create('/flags', 'disable-all', {}, 'U1');
    clock.at = T0 + 15 * MINUTE + 24 * 60 * MINUTE + 1;
    await confirmations.create('/flags', 'disable-all', {}, 'U1');
    expect(await confirmations.peek(old.id)).toBeUndefined();
    expect(await confirmations.claim(old.id, 'U1')).toEqual({ status: 'unknown' });
  });
});
