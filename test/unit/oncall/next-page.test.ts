import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escalationKey, nextEscalationAt, snapshotChain } from '../../../src/core/alerts/escalation.js';
import { acknowledge, applyNotification } from '../../../src/core/alerts/group.js';
import { escalationChain, nextPage } from '../../../src/core/oncall.js';
import { firing, HOUR, MINUTE, notification, T0 } from '../alerts/builders.js';

const TIERS = [
  { after: 15 * MINUTE, notify: ['S0LEADS'] },
  { after: 60 * MINUTE, notify: ['U0ENGMGR'], name: 'Duty Manager' },
  { after: 4 * HOUR, notify: ['U0VP'] },
];
const sev1 = () =>
  applyNotification(undefined, notification([firing('a', T0, { severity: 'critical' })]), T0).state;

describe('the escalation chain', () => {
  it("starts with the on-call engineer at once, then each tier by its role name (the seed's by default)", () => {
    expect(escalationChain('S0ONCALL', TIERS)).toEqual([
      { name: 'On-call engineer', after: 0, notify: ['S0ONCALL'] },
      { tierIndex: 0, name: 'Team Lead', after: 15 * MINUTE, notify: ['S0LEADS'] },
      { tierIndex: 1, name: 'Duty Manager', after: HOUR, notify: ['U0ENGMGR'] },
      { tierIndex: 2, name: 'VP Engineering', after: 4 * HOUR, notify: ['U0VP'] },
    ]);
  });
});

describe('who is paged next', () => {
  it('is the first unsent tier, at its time from when the group opened', () => {
    const state = sev1();
    expect(state.severity).toBe('sev1');
    expect(nextPage(state, TIERS, [])).toEqual({
      tierIndex: 0,
      name: 'Team Lead',
      notify: ['S0LEADS'],
      at: state.openedAt + 15 * MINUTE,
    });
    expect(nextPage(state, TIERS, [0])).toMatchObject({ tierIndex: 1, name: 'Duty Manager' });
    expect(nextPage(state, TIERS, [0, 1, 2])).toBeUndefined();
  });

  it("follows the group's own chain (snapshot at open) and start (first receipt), not today's config", () => {
    const late = T0 + 5 * HOUR; // fired at T0, first received five hours later
    const state = applyNotification(
      undefined,
      notification([firing('a', T0, { severity: 'critical' })]),
      late,
      {
        chain: snapshotChain(TIERS),
      },
    ).state;
    const changedConfig = [{ after: MINUTE, notify: ['U0SOMEONEELSE'], name: 'New Lead' }];
    expect(nextPage(state, changedConfig, [])).toEqual({
      tierIndex: 0,
      name: 'Team Lead',
      notify: ['S0LEADS'],
      at: late + 15 * MINUTE,
    });
  });

  it('is nobody once acknowledged', () => {
    expect(nextPage(acknowledge(sev1(), 'U0ONCALL1', T0 + MINUTE), TIERS, [])).toBeUndefined();
  });

  it('agrees with the escalation timer’s own rule for any tiers and sent set (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * HOUR }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat({ max: 5 })),
        (afters, sent) => {
          const tiers = afters.map((after, index) => ({ after, notify: [`U0T${index}`] }));
          const state = sev1();
          const next = nextPage(state, tiers, sent);
          expect(next?.at).toBe(nextEscalationAt(state, tiers, sent));
          if (!next) return;
          expect(sent).not.toContain(next.tierIndex);
          expect(escalationKey(state, next.tierIndex)).toContain(`:${next.tierIndex}:`);
          for (const [index, tier] of tiers.entries()) {
            if (!sent.includes(index))
              expect(tier.after).toBeGreaterThanOrEqual(tiers[next.tierIndex]!.after);
          }
        },
      ),
    );
  });
});
