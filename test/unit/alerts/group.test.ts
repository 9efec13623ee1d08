import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AlertGroupState,
  type ApplyResult,
  acknowledge,
  applyNotification,
  clearSilence,
  isSilenced,
  recordSilence,
} from '../../../src/core/alerts/group.js';
import type { Alert, AlertNotification } from '../../../src/core/alerts/types.js';
import { firing, GROUP_KEY, HOUR, MINUTE, notification, resolved, T0 } from './builders.js';

describe('applyNotification', () => {
  it('opens a group from its first firing notification', () => {
    const a = firing('a1', T0);
    const b = firing('b22', T0 + 30_000, { severity: 'warning' });
    const { state, changes } = applyNotification(undefined, notification([b, a]), T0 + MINUTE);
    expect(changes).toEqual([
      { kind: 'opened' },
      { kind: 'alert-firing', fingerprint: 'b22' },
      { kind: 'alert-firing', fingerprint: 'a1' },
    ]);
    expect(state).toEqual({
      groupKey: GROUP_KEY,
      receiver: 'switchyard',
      groupLabels: { alertname: 'MessagingSystemDown', deployment: 'messaging-core' },
      commonLabels: { alertname: 'MessagingSystemDown', deployment: 'messaging-core', team: 'messaging' },
      commonAnnotations: { summary: 'Messaging system is down' },
      alerts: { a1: a, b22: b },
      truncatedAlerts: 0,
      openedAt: T0,
      // Escalation counts from here: when the bot received it, not when it started.
      receivedAt: T0 + MINUTE,
      externalURL: 'http://alertmanager:9093',
      status: 'firing',
      severity: 'sev1',
      lastNotificationAt: T0 + MINUTE,
    });
  });

  it('ignores a resend with nothing new', () => {
    const payload = notification([firing('a1', T0)]);
    const first = applyNotification(undefined, payload, T0 + MINUTE);
    const again = applyNotification(first.state, payload, T0 + 5 * MINUTE);
    expect(again.changes).toEqual([]);
    expect(again.state).toEqual({ ...first.state, lastNotificationAt: T0 + 5 * MINUTE });
  });

  it('does not copy references out of the notification', () => {
    const payload = notification([firing('a1', T0)]);
    const { state } = applyNotification(undefined, payload, T0 + MINUTE);
    payload.alerts[0]!.labels.severity = 'info';
    payload.commonLabels.team = 'changed';
    expect(state.alerts.a1!.labels.severity).toBe('critical');
    expect(state.commonLabels.team).toBe('messaging');
  });

  it('reports an alert joining, and one resolving, without closing the group', () => {
    const a = firing('a1', T0);
    const b = firing('b22', T0 + 2 * MINUTE);
    const s1 = applyNotification(undefined, notification([a]), T0 + MINUTE).state;
    const s2 = applyNotification(s1, notification([a, b]), T0 + 3 * MINUTE);
    expect(s2.changes).toEqual([{ kind: 'alert-firing', fingerprint: 'b22' }]);
    expect(s2.state.openedAt).toBe(T0);
    const s3 = applyNotification(s2.state, notification([resolved(a, T0 + 4 * MINUTE), b]), T0 + 5 * MINUTE);
    expect(s3.changes).toEqual([{ kind: 'alert-resolved', fingerprint: 'a1' }]);
    expect(s3.state.status).toBe('firing');
    expect(s3.state.resolvedAt).toBeUndefined();
  });

  it('resolves the group when its last firing alert resolves, at the latest endsAt', () => {
    const a = firing('a1', T0);
    const b = firing('b22', T0);
    const s1 = applyNotification(undefined, notification([a, b]), T0 + MINUTE).state;
    const acked = acknowledge(s1, 'U0ONCALL', T0 + 2 * MINUTE);
    const { state, changes } = applyNotification(
      acked,
      notification([resolved(a, T0 + 10 * MINUTE), resolved(b, T0 + 12 * MINUTE)]),
      T0 + 13 * MINUTE,
    );
    expect(changes).toEqual([
      { kind: 'alert-resolved', fingerprint: 'a1' },
      { kind: 'alert-resolved', fingerprint: 'b22' },
      { kind: 'group-resolved' },
    ]);
    expect(state.status).toBe('resolved');
    expect(state.resolvedAt).toBe(T0 + 12 * MINUTE);
    expect(state.acknowledged).toEqual({ by: 'U0ONCALL', at: T0 + 2 * MINUTE });
    // Alertmanager resends the resolved group until it forgets it: no new changes.
    const resend = applyNotification(state, notification([resolved(a, T0 + 10 * MINUTE)]), T0 + 20 * MINUTE);
    expect(resend.changes).toEqual([]);
    expect(resend.state.resolvedAt).toBe(T0 + 12 * MINUTE);
  });

  it('keeps alerts missing from a later (truncated) notification in their last known state', () => {
    const a = firing('a1', T0);
    const b = firing('b22', T0);
    const s1 = applyNotification(undefined, notification([a, b]), T0 + MINUTE).state;
    const { state, changes } = applyNotification(
      s1,
      notification([resolved(a, T0 + 2 * MINUTE)], { truncatedAlerts: 1 }),
      T0 + 3 * MINUTE,
    );
    expect(changes).toEqual([{ kind: 'alert-resolved', fingerprint: 'a1' }]);
    expect(state.alerts.b22).toEqual(b);
    expect(state.status).toBe('firing');
    expect(state.truncatedAlerts).toBe(1);
  });

  it('reopens a resolved group that fires again: new episode, acknowledgement cleared', () => {
    const a = firing('a1', T0);
    const gone = firing('gone', T0);
    let state = applyNotification(undefined, notification([a, gone]), T0 + MINUTE).state;
    state = acknowledge(state, 'U0ONCALL', T0 + 2 * MINUTE);
    state = recordSilence(state, { id: 'sil-1', by: 'U0ONCALL', until: T0 + HOUR });
    state = applyNotification(
      state,
      notification([resolved(a, T0 + 5 * MINUTE), resolved(gone, T0 + 5 * MINUTE)]),
      T0 + 6 * MINUTE,
    ).state;
    const again = firing('a1', T0 + 30 * MINUTE);
    const result = applyNotification(state, notification([again]), T0 + 31 * MINUTE);
    expect(result.changes).toEqual([{ kind: 'reopened' }, { kind: 'alert-firing', fingerprint: 'a1' }]);
    expect(result.state.openedAt).toBe(T0 + 30 * MINUTE);
    expect(result.state.status).toBe('firing');
    expect(result.state.acknowledged).toBeUndefined();
    expect(result.state.resolvedAt).toBeUndefined();
    expect(result.state.silence).toEqual({ id: 'sil-1', by: 'U0ONCALL', until: T0 + HOUR });
    // The last episode's resolved alert that this notification does not mention is dropped.
    expect(Object.keys(result.state.alerts)).toEqual(['a1']);
  });

  it('gives a reopened episode a later openedAt even when startsAt is not later', () => {
    const a = firing('a1', T0);
    const s1 = applyNotification(undefined, notification([a]), T0 + MINUTE).state;
    const s2 = applyNotification(s1, notification([resolved(a, T0 + 2 * MINUTE)]), T0 + 3 * MINUTE).state;
    // Alertmanager can re-fire an alert with its old startsAt (e.g. after it timed out while Prometheus was away).
    const s3 = applyNotification(s2, notification([a]), T0 + 10 * MINUTE);
    expect(s3.changes[0]).toEqual({ kind: 'reopened' });
    expect(s3.state.openedAt).toBe(T0 + 1);
  });

  it('never puts openedAt after the time the notification arrived', () => {
    const future = firing('a1', T0 + HOUR); // a sender's clock running ahead
    const { state } = applyNotification(undefined, notification([future]), T0);
    expect(state.openedAt).toBe(T0);
  });

  it('uses the receipt time when startsAt cannot be parsed', () => {
    const odd = { ...firing('a1', T0), startsAt: 'yesterday' };
    const { state } = applyNotification(undefined, notification([odd]), T0 + 7);
    expect(state.openedAt).toBe(T0 + 7);
  });

  it('records a group first seen resolved as resolved, without opening it', () => {
    const a = resolved(firing('a1', T0), T0 + 5 * MINUTE);
    const { state, changes } = applyNotification(undefined, notification([a]), T0 + 6 * MINUTE);
    expect(changes).toEqual([{ kind: 'alert-resolved', fingerprint: 'a1' }, { kind: 'group-resolved' }]);
    expect(state.status).toBe('resolved');
    expect(state.openedAt).toBe(T0);
    expect(state.resolvedAt).toBe(T0 + 5 * MINUTE);
  });

  it('reports a severity change within an episode', () => {
    const warn = firing('w', T0, { severity: 'warning' });
    const s1 = applyNotification(undefined, notification([warn]), T0 + MINUTE).state;
    expect(s1.severity).toBe('sev2');
    const crit = firing('c', T0 + 2 * MINUTE, { severity: 'critical' });
    const s2 = applyNotification(s1, notification([warn, crit]), T0 + 3 * MINUTE);
    expect(s2.changes).toEqual([
      { kind: 'alert-firing', fingerprint: 'c' },
      { kind: 'severity-changed', from: 'sev2', to: 'sev1' },
    ]);
    expect(s2.state.openedAt).toBe(T0);
  });

  it('applies a configured severity mapping', () => {
    const page = firing('p', T0, { severity: 'page' });
    const plain = applyNotification(undefined, notification([page]), T0).state;
    const mapped = applyNotification(undefined, notification([page]), T0, {
      severityMapping: { page: 'sev1' },
    });
    expect(plain.severity).toBe('sev3');
    expect(mapped.state.severity).toBe('sev1');
  });

  it('takes the last copy when a fingerprint appears twice in one payload', () => {
    const a = firing('a1', T0);
    const { state, changes } = applyNotification(
      undefined,
      notification([a, resolved(a, T0 + MINUTE)]),
      T0 + 2 * MINUTE,
    );
    expect(state.alerts.a1!.status).toBe('resolved');
    expect(changes).toEqual([{ kind: 'alert-resolved', fingerprint: 'a1' }, { kind: 'group-resolved' }]);
  });

  it('refuses a notification of another group', () => {
    const { state } = applyNotification(undefined, notification([firing('a1', T0)]), T0);
    expect(() =>
      applyNotification(state, notification([firing('a1', T0)], { groupKey: 'other' }), T0),
    ).toThrow(/notification for group "other" applied to group/);
  });

  it('stores a fingerprint named __proto__ as an own key', () => {
    const odd = firing('__proto__', T0);
    const { state } = applyNotification(undefined, notification([odd]), T0);
    expect(Object.hasOwn(state.alerts, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(state.alerts)).toBe(Object.prototype);
    const again = applyNotification(state, notification([odd]), T0 + 1);
    expect(again.changes).toEqual([]);
  });
});

describe('acknowledge and silences', () => {
  const opened = applyNotification(undefined, notification([firing('a1', T0)]), T0).state;

  it('keeps the first acknowledgement', () => {
    const once = acknowledge(opened, 'U0ALICE', T0 + MINUTE);
    expect(once.acknowledged).toEqual({ by: 'U0ALICE', at: T0 + MINUTE });
    expect(acknowledge(once, 'U0BOB', T0 + 2 * MINUTE)).toBe(once);
    expect(opened.acknowledged).toBeUndefined();
  });

  it('records and clears a silence', () => {
    const silenced = recordSilence(opened, { id: 'abc', by: 'U0ALICE', until: T0 + HOUR });
    expect(silenced.silence).toEqual({ id: 'abc', by: 'U0ALICE', until: T0 + HOUR });
    expect(isSilenced(silenced, T0 + HOUR - 1)).toBe(true);
    expect(isSilenced(silenced, T0 + HOUR)).toBe(false);
    const cleared = clearSilence(silenced);
    expect('silence' in cleared).toBe(false);
    expect(isSilenced(cleared, T0)).toBe(false);
    expect(clearSilence(opened)).toBe(opened);
  });
});

// ---- properties -------------------------------------------------------------------------------

const fingerprints = ['f1', 'f2', 'f3', 'f4', 'f5'];

const arbAlert: fc.Arbitrary<Alert> = fc
  .record({
    fingerprint: fc.constantFrom(...fingerprints),
    isFiring: fc.boolean(),
    severity: fc.constantFrom('critical', 'warning', 'info', 'unknown'),
    startOffset: fc.integer({ min: -2 * 60, max: 4 * 60 }),
    duration: fc.integer({ min: 0, max: 120 }),
  })
  .map(({ fingerprint, isFiring, severity, startOffset, duration }) => {
    const alert = firing(fingerprint, T0 + startOffset * MINUTE, { severity });
    return isFiring ? alert : resolved(alert, T0 + (startOffset + duration) * MINUTE);
  });

const arbNotification: fc.Arbitrary<AlertNotification> = fc
  .array(arbAlert, { minLength: 1, maxLength: 6 })
  .map((alerts) => notification(alerts));

/** Applies notifications one minute apart, from T0 + 5h (after every startsAt above). */
function run(payloads: readonly AlertNotification[]) {
  let state: AlertGroupState | undefined;
  const steps: Array<{ previous: AlertGroupState | undefined; now: number } & ApplyResult> = [];
  payloads.forEach((payload, index) => {
    const now = T0 + 5 * HOUR + index * MINUTE;
    const result = applyNotification(state, payload, now);
    steps.push({ previous: state, now, ...result });
    state = result.state;
  });
  return steps;
}

describe('applyNotification properties', () => {
  it('is idempotent: a repeated notification changes nothing', () => {
    fc.assert(
      fc.property(fc.array(arbNotification, { minLength: 1, maxLength: 8 }), (payloads) => {
        const steps = run(payloads);
        const last = steps.at(-1)!;
        const repeat = applyNotification(last.state, payloads.at(-1)!, last.now);
        expect(repeat.changes).toEqual([]);
        expect(repeat.state).toEqual(last.state);
      }),
    );
  });

  it('status is firing exactly when a known alert fires; openedAt never after receipt', () => {
    fc.assert(
      fc.property(fc.array(arbNotification, { minLength: 1, maxLength: 8 }), (payloads) => {
        for (const { state, now } of run(payloads)) {
          const anyFiring = Object.values(state.alerts).some((alert) => alert.status === 'firing');
          expect(state.status).toBe(anyFiring ? 'firing' : 'resolved');
          expect(state.openedAt).toBeLessThanOrEqual(now);
          expect(state.resolvedAt === undefined).toBe(state.status === 'firing');
        }
      }),
    );
  });

  it('every alert of the latest notification is stored as sent; earlier ones keep their state', () => {
    fc.assert(
      fc.property(fc.array(arbNotification, { minLength: 1, maxLength: 8 }), (payloads) => {
        const steps = run(payloads);
        steps.forEach(({ state, previous }, index) => {
          const payload = payloads[index]!;
          const latest = new Map(payload.alerts.map((alert) => [alert.fingerprint, alert]));
          for (const [fingerprint, alert] of latest) expect(state.alerts[fingerprint]).toEqual(alert);
          for (const [fingerprint, alert] of Object.entries(state.alerts)) {
            if (!latest.has(fingerprint)) expect(previous?.alerts[fingerprint]).toEqual(alert);
          }
        });
      }),
    );
  });

  it('episodes: a reopen starts later, clears the acknowledgement, and is reported exactly then', () => {
    fc.assert(
      fc.property(fc.array(arbNotification, { minLength: 1, maxLength: 10 }), (payloads) => {
        let state: AlertGroupState | undefined;
        payloads.forEach((payload, index) => {
          const now = T0 + 5 * HOUR + index * MINUTE;
          const previous = state && acknowledge(state, 'U0ACK', now);
          const result = applyNotification(previous, payload, now);
          const kinds = result.changes.map((change) => change.kind);
          const reopened = previous?.status === 'resolved' && result.state.status === 'firing';
          expect(kinds.includes('reopened')).toBe(reopened);
          expect(kinds.includes('opened')).toBe(previous === undefined && result.state.status === 'firing');
          expect(kinds.includes('group-resolved')).toBe(
            previous?.status !== 'resolved' && result.state.status === 'resolved',
          );
          if (reopened) {
            expect(result.state.openedAt).toBeGreaterThan(previous.openedAt);
            expect(result.state.acknowledged).toBeUndefined();
          } else if (previous !== undefined) {
            expect(result.state.openedAt).toBe(previous.openedAt);
            expect(result.state.acknowledged).toEqual({ by: 'U0ACK', at: expect.any(Number) });
          }
          state = result.state;
        });
      }),
    );
  });

  it('reports each alert status change once, as it happens', () => {
    fc.assert(
      fc.property(fc.array(arbNotification, { minLength: 1, maxLength: 8 }), (payloads) => {
        for (const { previous, state, changes } of run(payloads)) {
          const expected = Object.entries(state.alerts)
            .filter(([fingerprint, alert]) => previous?.alerts[fingerprint]?.status !== alert.status)
            .map(([fingerprint]) => fingerprint)
            .sort();
          const reported = changes
            .flatMap((change) =>
              change.kind === 'alert-firing' || change.kind === 'alert-resolved' ? [change.fingerprint] : [],
            )
            .sort();
          expect(reported).toEqual(expected);
        }
      }),
    );
  });
});
