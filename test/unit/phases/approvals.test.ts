import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyVote, approvalCount, quorum, type Vote } from '../../../src/core/phases/approvals.js';

const REQUESTER = 'U0REQ';
const fold = (votes: readonly Vote[], requester = REQUESTER) =>
  votes.reduce<string[]>((approvals, vote) => applyVote(approvals, requester, vote).approvals, []);
const add = (user: string, eligible = true): Vote => ({ user, added: true, eligible });
const remove = (user: string): Vote => ({ user, added: false, eligible: false });

describe('approval quorum', () => {
  it("never counts the requester's own ✅, even as an approver", () => {
    const result = applyVote([], REQUESTER, add(REQUESTER));
    expect(result).toEqual({ approvals: [], outcome: 'requester' });
    expect(approvalCount([REQUESTER, 'U0LEAD1'], REQUESTER)).toBe(1);
  });

  it('does not count a non-approver', () => {
    expect(applyVote([], REQUESTER, add('U0OUTSIDER', false))).toEqual({
      approvals: [],
      outcome: 'not-approver',
    });
  });

  it('counts each approver once: a retried event is a duplicate', () => {
    const once = applyVote([], REQUESTER, add('U0LEAD1'));
    expect(once).toEqual({ approvals: ['U0LEAD1'], outcome: 'counted' });
    expect(applyVote(once.approvals, REQUESTER, add('U0LEAD1'))).toEqual({
      approvals: ['U0LEAD1'],
      outcome: 'duplicate',
    });
  });

  it('withdraws an approval when the reaction is removed, and ignores removing one never counted', () => {
    expect(applyVote(['U0LEAD1', 'U0LEAD2'], REQUESTER, remove('U0LEAD1'))).toEqual({
      approvals: ['U0LEAD2'],
      outcome: 'withdrawn',
    });
    expect(applyVote(['U0LEAD2'], REQUESTER, remove('U0LEAD1')).outcome).toBe('not-counted');
  });

  it('reaches the quorum at the required number of distinct approvers', () => {
    expect(quorum(fold([add('U0LEAD1'), add('U0LEAD1')]), REQUESTER, 2)).toEqual({
      count: 1,
      required: 2,
      reached: false,
    });
    expect(quorum(fold([add('U0LEAD1'), add(REQUESTER), add('U0LEAD2')]), REQUESTER, 2)).toEqual({
      count: 2,
      required: 2,
      reached: true,
    });
  });

  const users = fc.constantFrom(REQUESTER, 'U0LEAD1', 'U0LEAD2', 'U0LEAD3', 'U0OUTSIDER');
  const eligibleOf = (user: string) => user !== 'U0OUTSIDER';
  const vote = fc
    .record({ user: users, added: fc.boolean() })
    .map(({ user, added }): Vote => ({ user, added, eligible: added && eligibleOf(user) }));
  const votes = fc.array(vote, { maxLength: 30 });

  it('property: the requester never counts, whatever happens', () => {
    fc.assert(
      fc.property(votes, (sequence) => {
        expect(fold(sequence)).not.toContain(REQUESTER);
      }),
    );
  });

  it('property: the count is the number of distinct approvers whose last reaction is an addition', () => {
    fc.assert(
      fc.property(votes, (sequence) => {
        const last = new Map<string, boolean>();
        for (const entry of sequence) last.set(entry.user, entry.added);
        const expected = [...last].filter(
          ([user, added]) => added && user !== REQUESTER && eligibleOf(user),
        ).length;
        const approvals = fold(sequence);
        expect(approvalCount(approvals, REQUESTER)).toBe(expected);
        expect(new Set(approvals).size).toBe(approvals.length);
      }),
    );
  });

  it('property: duplicated (retried) events change nothing', () => {
    fc.assert(
      fc.property(votes, fc.array(fc.nat(), { maxLength: 10 }), (sequence, picks) => {
        const retried = [...sequence];
        for (const pick of picks) {
          if (retried.length === 0) break;
          const index = pick % retried.length;
          retried.splice(index + 1, 0, retried[index]!);
        }
        expect(fold(retried)).toEqual(fold(sequence));
      }),
    );
  });
});
