import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileConfigSchema } from '../../../src/config/file.js';
import { type AlertGroupState, applyNotification } from '../../../src/core/alerts/group.js';
import {
  DEFAULT_RETENTION_MS,
  expiredOf,
  expiresAt,
  isExpired,
  sweepInterval,
} from '../../../src/core/alerts/retention.js';
import { firing, HOUR, MINUTE, notification, resolved, T0 } from './builders.js';

const DAY = 24 * HOUR;
const alert = firing('a1', T0);
const open = applyNotification(undefined, notification([alert]), T0 + MINUTE).state;
/** Resolved at T0 + 10m, heard of at T0 + 11m. */
const closed = applyNotification(
  open,
  notification([resolved(alert, T0 + 10 * MINUTE)]),
  T0 + 11 * MINUTE,
).state;

type Clock = Pick<AlertGroupState, 'status' | 'resolvedAt' | 'lastNotificationAt'>;
const times = fc.integer({ min: 0, max: 4_000_000_000_000 });
const retentions = fc.integer({ min: 0, max: 365 * DAY });
const states: fc.Arbitrary<Clock> = fc.record(
  {
    status: fc.constantFrom('firing' as const, 'resolved' as const),
    resolvedAt: times,
    lastNotificationAt: times,
  },
  { requiredKeys: ['status', 'lastNotificationAt'] },
);

describe('retention of resolved groups', () => {
  it('defaults to 7 days in the config, and reads a duration', () => {
    expect(DEFAULT_RETENTION_MS).toBe(7 * DAY);
    expect(fileConfigSchema.parse({}).alerts.retention).toBe(7 * DAY);
    expect(fileConfigSchema.parse({ alerts: { retention: '2s' } }).alerts.retention).toBe(2_000);
    const bad = fileConfigSchema.safeParse({ alerts: { retention: 'a week' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['alerts', 'retention']);
  });

  it('forgets a resolved group once the retention has passed since it was last heard of', () => {
    expect(expiresAt(closed, 7 * DAY)).toBe(T0 + 11 * MINUTE + 7 * DAY);
    expect(isExpired(closed, 7 * DAY, T0 + 11 * MINUTE + 7 * DAY - 1)).toBe(false);
    expect(isExpired(closed, 7 * DAY, T0 + 11 * MINUTE + 7 * DAY)).toBe(true);
  });

  it('never forgets a firing group, however old', () => {
    expect(expiresAt(open, 0)).toBeUndefined();
    expect(isExpired(open, 0, T0 + 10_000 * DAY)).toBe(false);
    fc.assert(
      fc.property(states, retentions, times, (state, retention, now) => {
        expect(isExpired({ ...state, status: 'firing' }, retention, now)).toBe(false);
      }),
    );
  });

  it('expires a resolved group exactly when now ≥ max(resolvedAt, lastNotificationAt) + retention', () => {
    fc.assert(
      fc.property(states, retentions, times, (state, retention, now) => {
        const base = Math.max(state.resolvedAt ?? state.lastNotificationAt, state.lastNotificationAt);
        expect(isExpired(state, retention, now)).toBe(state.status === 'resolved' && now >= base + retention);
      }),
    );
  });

  it('is monotone: once expired, later and with a shorter retention still expired', () => {
    fc.assert(
      fc.property(states, retentions, retentions, times, times, (state, r1, r2, t1, t2) => {
        const [shorter, longer] = r1 <= r2 ? [r1, r2] : [r2, r1];
        const [earlier, later] = t1 <= t2 ? [t1, t2] : [t2, t1];
        if (isExpired(state, longer, earlier)) {
          expect(isExpired(state, longer, later)).toBe(true);
          expect(isExpired(state, shorter, earlier)).toBe(true);
        }
      }),
    );
  });

  it('keeps forever with an infinite retention; treats a negative or NaN one as zero', () => {
    expect(isExpired(closed, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired(closed, -5, T0 + 11 * MINUTE)).toBe(true);
    expect(isExpired(closed, Number.NaN, T0 + 11 * MINUTE)).toBe(true);
  });

  it('picks the expired records out of a list, in order, leaving the rest', () => {
    const records = [
      { id: 'firing', state: open },
      { id: 'old', state: { ...closed, lastNotificationAt: T0, resolvedAt: T0 } },
      { id: 'recent', state: { ...closed, lastNotificationAt: T0 + 2 * DAY } },
    ];
    expect(expiredOf(records, DAY, T0 + 1.5 * DAY).map((r) => r.id)).toEqual(['old']);
    expect(expiredOf(records, DAY, T0 + 3 * DAY).map((r) => r.id)).toEqual(['old', 'recent']);
  });

  it('sweeps once a minute, more often only for a retention under two minutes', () => {
    expect(sweepInterval(7 * DAY)).toBe(MINUTE);
    expect(sweepInterval(2_000)).toBe(1_000);
    expect(sweepInterval(0)).toBe(1_000);
    fc.assert(
      fc.property(retentions, (retention) => {
        const every = sweepInterval(retention);
        expect(every).toBeGreaterThanOrEqual(1_000);
        expect(every).toBeLessThanOrEqual(MINUTE);
      }),
    );
  });
});
