import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chainOf,
  dueEscalations,
  type EscalationTier,
  escalationKey,
  escalationStart,
  isEscalating,
  nextEscalationAt,
  parseEscalationTiers,
  SEED_ESCALATION_MATRIX,
  sentTierIndexes,
  snapshotChain,
  tierName,
} from '../../../src/core/alerts/escalation.js';
import {
  type AlertGroupState,
  acknowledge,
  applyNotification,
  recordSilence,
} from '../../../src/core/alerts/group.js';
import type { Severity } from '../../../src/core/alerts/types.js';
import { firing, GROUP_KEY, HOUR, MINUTE, notification, resolved, T0 } from './builders.js';

/** The seed's matrix as config: 15m team lead, 60m engineering manager, 4h VP. */
const TIERS = parseEscalationTiers([
  { after: '15m', notify: ['U0TEAMLEAD'] },
  { after: '60m', notify: ['U0ENGMGR'] },
  { after: '4h', notify: ['U0VP'] },
]);

/** Received the moment it started (the usual case): its tiers count from T0. */
const sev1 = applyNotification(undefined, notification([firing('a1', T0)]), T0).state;

describe('parseEscalationTiers', () => {
  it('turns config durations into ms', () => {
    expect(TIERS).toEqual([
      { after: 15 * MINUTE, notify: ['U0TEAMLEAD'] },
      { after: HOUR, notify: ['U0ENGMGR'] },
      { after: 4 * HOUR, notify: ['U0VP'] },
    ]);
  });

  it('names the bad entry', () => {
    expect(() =>
      parseEscalationTiers([
        { after: '15m', notify: [] },
        { after: 'soon', notify: [] },
      ]),
    ).toThrow('escalation.tiers[1].after: expected a duration like 90s, 15m or 4h, got "soon"');
  });

  it("matches the seed's matrix", () => {
    expect(SEED_ESCALATION_MATRIX.map((row) => row.after)).toEqual(['0m', '15m', '60m', '4h']);
    expect(
      SEED_ESCALATION_MATRIX.slice(1).map(
        (row) => parseEscalationTiers([{ after: row.after, notify: [] }])[0]!.after,
      ),
    ).toEqual(TIERS.map((tier) => tier.after));
  });
});

describe('dueEscalations', () => {
  it('returns nothing before 15 minutes, then the team lead', () => {
    expect(dueEscalations(sev1, TIERS, [], T0 + 15 * MINUTE - 1)).toEqual([]);
    expect(dueEscalations(sev1, TIERS, [], T0 + 15 * MINUTE)).toEqual([
      {
        tierIndex: 0,
        name: 'Team Lead',
        notify: ['U0TEAMLEAD'],
        dueAt: T0 + 15 * MINUTE,
        key: escalationKey(sev1, 0),
      },
    ]);
  });

  it('skips tiers already sent', () => {
    expect(dueEscalations(sev1, TIERS, [0], T0 + 59 * MINUTE)).toEqual([]);
    expect(dueEscalations(sev1, TIERS, [0], T0 + HOUR).map((due) => due.tierIndex)).toEqual([1]);
  });

  it('returns every overdue tier, in order, after a long outage', () => {
    const due = dueEscalations(sev1, TIERS, [], T0 + 5 * HOUR);
    expect(due.map(({ tierIndex, dueAt, notify }) => ({ tierIndex, dueAt, notify }))).toEqual([
      { tierIndex: 0, dueAt: T0 + 15 * MINUTE, notify: ['U0TEAMLEAD'] },
      { tierIndex: 1, dueAt: T0 + HOUR, notify: ['U0ENGMGR'] },
      { tierIndex: 2, dueAt: T0 + 4 * HOUR, notify: ['U0VP'] },
    ]);
  });

  it('stops once the group is acknowledged, resolved, silenced or not sev1', () => {
    const later = T0 + 5 * HOUR;
    expect(dueEscalations(acknowledge(sev1, 'U0ONCALL', T0 + 20 * MINUTE), TIERS, [], later)).toEqual([]);
    const done = applyNotification(
      sev1,
      notification([resolved(firing('a1', T0), T0 + HOUR)]),
      T0 + HOUR,
    ).state;
    expect(dueEscalations(done, TIERS, [], later)).toEqual([]);
    const silenced = recordSilence(sev1, { id: 's', by: 'U0ONCALL', until: T0 + 6 * HOUR });
    expect(dueEscalations(silenced, TIERS, [], later)).toEqual([]);
    expect(dueEscalations(silenced, TIERS, [], T0 + 6 * HOUR).map((due) => due.tierIndex)).toEqual([0, 1, 2]);
    const warning = applyNotification(
      undefined,
      notification([firing('w', T0, { severity: 'warning' })]),
      T0,
    ).state;
    expect(dueEscalations(warning, TIERS, [], later)).toEqual([]);
    expect(isEscalating(sev1, later)).toBe(true);
    expect(isEscalating(warning, later)).toBe(false);
  });

  it('restarts from the new openedAt when a resolved group reopens', () => {
    const done = applyNotification(
      sev1,
      notification([resolved(firing('a1', T0), T0 + HOUR)]),
      T0 + HOUR,
    ).state;
    const reopened = applyNotification(
      done,
      notification([firing('a1', T0 + 2 * HOUR)]),
      T0 + 2 * HOUR,
    ).state;
    expect(reopened.openedAt).toBe(T0 + 2 * HOUR);
    // Keys recorded in the first episode do not count for the second.
    const recorded = [escalationKey(sev1, 0), escalationKey(sev1, 1)];
    expect(sentTierIndexes(sev1, recorded)).toEqual([0, 1]);
    expect(sentTierIndexes(reopened, recorded)).toEqual([]);
    expect(
      dueEscalations(reopened, TIERS, sentTierIndexes(reopened, recorded), T0 + 2 * HOUR + 14 * MINUTE),
    ).toEqual([]);
    expect(
      dueEscalations(reopened, TIERS, sentTierIndexes(reopened, recorded), T0 + 2 * HOUR + 15 * MINUTE).map(
        (due) => due.tierIndex,
      ),
    ).toEqual([0]);
  });
});

describe('escalation counts from receipt (issue 10)', () => {
  // Alertmanager (or the bot) was down: the alert started 5 hours before the bot heard of it.
  const received = T0 + 5 * HOUR;
  const late = applyNotification(undefined, notification([firing('a1', T0)]), received, {
    chain: snapshotChain(TIERS),
  }).state;

  it('pages no tier before its time counted from receipt, though startsAt is 5 hours old', () => {
    expect(late.openedAt).toBe(T0);
    expect(escalationStart(late)).toBe(received);
    expect(dueEscalations(late, TIERS, [], received)).toEqual([]);
    expect(dueEscalations(late, TIERS, [], received + 15 * MINUTE - 1)).toEqual([]);
    expect(dueEscalations(late, TIERS, [], received + 15 * MINUTE).map((d) => d.name)).toEqual(['Team Lead']);
    expect(dueEscalations(late, TIERS, [0], received + HOUR - 1)).toEqual([]);
    expect(nextEscalationAt(late, TIERS, [])).toBe(received + 15 * MINUTE);
    expect(nextEscalationAt(late, TIERS, [0, 1])).toBe(received + 4 * HOUR);
  });

  it('keeps the receipt time for the episode; a reopened episode counts from its own receipt', () => {
    const resend = applyNotification(late, notification([firing('a1', T0)]), received + 10 * MINUTE).state;
    expect(resend.receivedAt).toBe(received);
    const done = applyNotification(
      resend,
      notification([resolved(firing('a1', T0), received + HOUR)]),
      received + HOUR,
    ).state;
    expect(done.receivedAt).toBe(received);
    const again = applyNotification(
      done,
      notification([firing('a1', T0 + 2 * HOUR)]),
      received + 3 * HOUR,
    ).state;
    expect(again.receivedAt).toBe(received + 3 * HOUR);
  });

  it('a group record written before receivedAt existed counts from openedAt, as it did', () => {
    const { receivedAt: _gone, chain: _none, ...old } = late;
    expect(escalationStart(old)).toBe(T0);
    expect(chainOf(old as AlertGroupState, TIERS)).toBe(TIERS);
  });
});

describe('the chain is a snapshot taken when the group opens', () => {
  const configured = parseEscalationTiers([
    { after: '15m', notify: ['U0TEAMLEAD'] },
    { after: '60m', notify: ['U0ENGMGR'], name: 'Duty Manager' },
  ]);
  const opened = applyNotification(undefined, notification([firing('a1', T0)]), T0, {
    chain: snapshotChain(configured),
  }).state;

  it('records the chain with role names, and a config change does not rewrite it', () => {
    expect(opened.chain).toEqual([
      { after: 15 * MINUTE, notify: ['U0TEAMLEAD'], name: 'Team Lead' },
      { after: HOUR, notify: ['U0ENGMGR'], name: 'Duty Manager' },
    ]);
    const changed = parseEscalationTiers([{ after: '1m', notify: ['U0SOMEONE'] }]);
    // The next notification, after a config change: the running episode keeps its chain.
    const later = applyNotification(opened, notification([firing('a1', T0)]), T0 + 5 * MINUTE, {
      chain: snapshotChain(changed),
    }).state;
    expect(later.chain).toEqual(opened.chain);
    expect(dueEscalations(later, changed, [], T0 + 5 * MINUTE)).toEqual([]);
    expect(dueEscalations(later, changed, [], T0 + HOUR).map((d) => [d.name, d.notify])).toEqual([
      ['Team Lead', ['U0TEAMLEAD']],
      ['Duty Manager', ['U0ENGMGR']],
    ]);
    // A new episode takes the chain configured then.
    const done = applyNotification(
      later,
      notification([resolved(firing('a1', T0), T0 + 2 * HOUR)]),
      T0 + 2 * HOUR,
      {
        chain: snapshotChain(changed),
      },
    ).state;
    const reopened = applyNotification(done, notification([firing('a1', T0 + 3 * HOUR)]), T0 + 3 * HOUR, {
      chain: snapshotChain(changed),
    }).state;
    expect(reopened.chain).toEqual([{ after: MINUTE, notify: ['U0SOMEONE'], name: 'Team Lead' }]);
  });

  it("names tiers after the seed's roles unless the config names them", () => {
    expect([0, 1, 2, 3].map((index) => tierName({}, index))).toEqual([
      'Team Lead',
      'Engineering Manager',
      'VP Engineering',
      'Tier 4',
    ]);
    expect(tierName({ name: 'Incident Commander' }, 0)).toBe('Incident Commander');
  });
});

describe('fencing keys', () => {
  it('differ by group, episode and tier, and parse back', () => {
    expect(escalationKey(sev1, 2)).toBe(`escalation:${T0}:2:${GROUP_KEY}`);
    const other = { groupKey: `${GROUP_KEY}x`, openedAt: T0 };
    const keys = [
      escalationKey(sev1, 0),
      escalationKey(sev1, 2),
      escalationKey(other, 1),
      'junk',
      escalationKey(sev1, 2),
    ];
    expect(sentTierIndexes(sev1, keys)).toEqual([0, 2]);
    expect(sentTierIndexes(other, keys)).toEqual([1]);
  });

  it('are not fooled by a group key that ends like another one', () => {
    const short = { groupKey: 'abc', openedAt: T0 };
    const long = { groupKey: '2:abc', openedAt: T0 };
    expect(sentTierIndexes(short, [escalationKey(long, 1)])).toEqual([]);
    expect(sentTierIndexes(long, [escalationKey(short, 12)])).toEqual([]);
    expect(sentTierIndexes(long, [escalationKey(long, 1), escalationKey(short, 12)])).toEqual([1]);
  });
});

describe('nextEscalationAt', () => {
  it('is the next unsent tier, or undefined when there is none', () => {
    expect(nextEscalationAt(sev1, TIERS, [])).toBe(T0 + 15 * MINUTE);
    expect(nextEscalationAt(sev1, TIERS, [0])).toBe(T0 + HOUR);
    expect(nextEscalationAt(sev1, TIERS, [0, 1, 2])).toBeUndefined();
    expect(nextEscalationAt(acknowledge(sev1, 'U0ONCALL', T0), TIERS, [])).toBeUndefined();
  });

  it('waits for a silence to end', () => {
    const silenced = recordSilence(sev1, { id: 's', by: 'U0ONCALL', until: T0 + 2 * HOUR });
    expect(nextEscalationAt(silenced, TIERS, [])).toBe(T0 + 2 * HOUR);
    expect(nextEscalationAt(silenced, TIERS, [0, 1])).toBe(T0 + 4 * HOUR);
  });
});

// ---- properties -------------------------------------------------------------------------------

const arbTiers: fc.Arbitrary<EscalationTier[]> = fc.array(
  fc.record({
    after: fc.integer({ min: 0, max: 6 * 60 }).map((minutes) => minutes * MINUTE),
    notify: fc.array(fc.constantFrom('U0A', 'U0B', 'S0C'), { maxLength: 2 }),
  }),
  { maxLength: 6 },
);

const arbState: fc.Arbitrary<AlertGroupState> = fc
  .record({
    severity: fc.constantFrom<Severity>('sev1', 'sev1', 'sev2', 'sev3'),
    status: fc.constantFrom<'firing' | 'resolved'>('firing', 'firing', 'resolved'),
    acked: fc.boolean(),
    silencedFor: fc.option(fc.integer({ min: -60, max: 8 * 60 }), { nil: undefined }),
    openedOffset: fc.integer({ min: 0, max: 60 }),
    lateBy: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6 * 60 })),
  })
  .map(({ severity, status, acked, silencedFor, openedOffset, lateBy }) => ({
    ...sev1,
    severity,
    status,
    // Started up to 6 hours before the bot received it.
    openedAt: T0 + openedOffset * MINUTE - lateBy * MINUTE,
    receivedAt: T0 + openedOffset * MINUTE,
    ...(acked && { acknowledged: { by: 'U0ACK', at: T0 } }),
    ...(silencedFor !== undefined && { silence: { id: 's', by: 'U0X', until: T0 + silencedFor * MINUTE } }),
  }));

const arbNow = fc.integer({ min: 0, max: 10 * 60 }).map((minutes) => T0 + minutes * MINUTE);

describe('dueEscalations properties', () => {
  it('never pages a tier before receipt + after, however old startsAt is (issue 10)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 * 60 }),
        arbTiers,
        fc.integer({ min: 0, max: 10 * 60 }),
        (lateMinutes, tiers, elapsed) => {
          const received = T0 + lateMinutes * MINUTE;
          const { state } = applyNotification(undefined, notification([firing('a1', T0)]), received, {
            chain: snapshotChain(tiers),
          });
          const now = received + elapsed * MINUTE;
          for (const due of dueEscalations(state, [], [], now)) {
            expect(due.dueAt).toBe(received + tiers[due.tierIndex]!.after);
            expect(due.dueAt).toBeLessThanOrEqual(now);
          }
          expect(dueEscalations(state, [], [], now).length).toBe(
            tiers.filter((tier) => received + tier.after <= now).length,
          );
        },
      ),
    );
  });

  it('returns unsent tiers, in increasing index, each due by now, with distinct keys', () => {
    fc.assert(
      fc.property(arbState, arbTiers, fc.array(fc.nat(7)), arbNow, (state, tiers, sent, now) => {
        const due = dueEscalations(state, tiers, sent, now);
        due.forEach((entry, position) => {
          expect(sent).not.toContain(entry.tierIndex);
          expect(entry.dueAt).toBeLessThanOrEqual(now);
          // Counted from receipt, never from the alert's start.
          expect(entry.dueAt).toBe(state.receivedAt! + tiers[entry.tierIndex]!.after);
          expect(entry.dueAt).toBeGreaterThanOrEqual(state.receivedAt!);
          expect(entry.notify).toEqual(tiers[entry.tierIndex]!.notify);
          expect(entry.key).toBe(escalationKey(state, entry.tierIndex));
          if (position > 0) expect(entry.tierIndex).toBeGreaterThan(due[position - 1]!.tierIndex);
        });
        if (!isEscalating(state, now)) expect(due).toEqual([]);
        if (state.severity !== 'sev1' || state.status !== 'firing' || state.acknowledged)
          expect(due).toEqual([]);
      }),
    );
  });

  it('over any run of timer ticks, sends each tier once, and all of them by the end', () => {
    fc.assert(
      fc.property(
        arbTiers,
        fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 30 }),
        (tiers, gaps) => {
          const sentKeys: string[] = [];
          let now = T0;
          for (const gap of [...gaps, 10 * 60]) {
            now += gap * MINUTE;
            // A duplicate timer firing at the same moment must find nothing left to send.
            for (let copy = 0; copy < 2; copy++) {
              for (const due of dueEscalations(sev1, tiers, sentTierIndexes(sev1, sentKeys), now)) {
                sentKeys.push(due.key);
              }
            }
          }
          expect(sentKeys).toHaveLength(tiers.length);
          expect(new Set(sentKeys).size).toBe(tiers.length);
        },
      ),
    );
  });

  it('nextEscalationAt is exactly when dueEscalations next returns something', () => {
    fc.assert(
      fc.property(arbState, arbTiers, fc.array(fc.nat(7)), (state, tiers, sent) => {
        const next = nextEscalationAt(state, tiers, sent);
        if (next === undefined) {
          expect(dueEscalations(state, tiers, sent, T0 + 100 * HOUR)).toEqual([]);
          return;
        }
        expect(dueEscalations(state, tiers, sent, next).length).toBeGreaterThan(0);
        expect(dueEscalations(state, tiers, sent, next - 1)).toEqual([]);
      }),
    );
  });
});
