/**
 * The approval quorum of a phase advance, as plain data. Approvals are the set of users whose ✅
 * counts: approvers (the caller says who is one), never the requester, each once. Slack retries and
 * duplicate events change nothing; removing the reaction withdraws the approval.
 */

/** One reaction event on the request message, with whether its user may approve. */
export interface Vote {
  user: string;
  /** reaction_added (true) or reaction_removed (false). */
  added: boolean;
  /** Whether the user passes the approver check (only asked for additions). */
  eligible: boolean;
}

export type VoteOutcome =
  | 'counted'
  | 'withdrawn'
  | 'duplicate'
  | 'requester'
  | 'not-approver'
  | 'not-counted';

export interface VoteResult {
  approvals: string[];
  outcome: VoteOutcome;
}

/** Applies one reaction to the approvals (in the order they came). Unchanged approvals are returned as given. */
export function applyVote(approvals: readonly string[], requester: string, vote: Vote): VoteResult {
  const has = approvals.includes(vote.user);
  if (!vote.added) {
    return has
      ? { approvals: approvals.filter((user) => user !== vote.user), outcome: 'withdrawn' }
      : { approvals: [...approvals], outcome: 'not-counted' };
  }
  if (vote.user === requester) return { approvals: [...approvals], outcome: 'requester' };
  if (!vote.eligible) return { approvals: [...approvals], outcome: 'not-approver' };
  if (has) return { approvals: [...approvals], outcome: 'duplicate' };
  return { approvals: [...approvals, vote.user], outcome: 'counted' };
}

/** Distinct approvals that count (the requester's never does). */
export function approvalCount(approvals: readonly string[], requester: string): number {
  return new Set(approvals.filter((user) => user !== requester)).size;
}

export interface Quorum {
  count: number;
  required: number;
  reached: boolean;
}

export function quorum(approvals: readonly string[], requester: string, required: number): Quorum {
  const count = approvalCount(approvals, requester);
  return { count, required, reached: count >= required };
}
