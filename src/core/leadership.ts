/**
 * The decisions of Lease leader election, as client-go's leaderelection makes them, without I/O.
 *
 * Times are milliseconds on *this replica's* clock. No replica trusts another's clock: a follower
 * counts the lease duration from the moment it first saw the current record (its observation), not
 * from the renewTime written in it. The leader counts its own validity from the moment its last
 * successful renew was *sent*. As renewDeadline < leaseDuration and the record a follower observes
 * was written after the leader sent it, the leader's window always closes before a follower may
 * take the Lease, whatever the network delays (clock rates assumed equal).
 */

/** What an elector reports after each round and transition (metrics, /readyz). */
export interface LeadershipState {
  leading: boolean;
  /** The holder as last seen; undefined when nobody holds the Lease. */
  holder?: string;
  /** The Lease's leaseTransitions as last seen. */
  transitions: number;
}

/** The fields of a `coordination.k8s.io/v1` Lease spec that election uses. */
export interface LeaseRecord {
  /** Empty or undefined: nobody holds it (released). */
  holderIdentity?: string;
  leaseDurationMs: number;
  /** Epoch ms as written by the holder (informational: never compared with our clock). */
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions: number;
}

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The record as last read, and when (our clock) it was first seen in this form. */
export interface Observation {
  /** The object's resourceVersion: any write changes it. */
  version: string;
  record: LeaseRecord;
  observedAt: number;
}

/** The timing rules client-go enforces: renewDeadline < leaseDuration, retryPeriod < renewDeadline. */
export function timingProblems(timing: LeaseTiming): string[] {
  const problems: string[] = [];
  if (!(timing.retryPeriodMs > 0)) problems.push('retryPeriod must be positive');
  if (!(timing.renewDeadlineMs > timing.retryPeriodMs))
    problems.push('renewDeadline must be greater than retryPeriod');
  if (!(timing.leaseDurationMs > timing.renewDeadlineMs))
    problems.push('leaseDuration must be greater than renewDeadline');
  return problems;
}

/** A new observation: keeps the old observedAt while the record is unchanged (same resourceVersion). */
export function observe(
  previous: Observation | undefined,
  version: string,
  record: LeaseRecord,
  now: number,
): Observation {
  if (previous && previous.version === version) return previous;
  return { version, record, observedAt: now };
}

export function isHeld(record: LeaseRecord): boolean {
  return (record.holderIdentity ?? '') !== '';
}

/** What one round of tryAcquireOrRenew does. `next` is the record to write (with the read's version). */
export type LeaseStep =
  | { action: 'create'; next: LeaseRecord }
  | { action: 'acquire'; next: LeaseRecord }
  | { action: 'renew'; next: LeaseRecord }
  | { action: 'wait'; holder: string; acquirableAt: number };

/**
 * One round's decision. `observation` undefined means the Lease does not exist. Another holder's
 * Lease may be taken only when nobody holds it, or when its record has not changed for its
 * leaseDuration since we first saw it.
 */
export function nextLeaseStep(input: {
  observation: Observation | undefined;
  identity: string;
  now: number;
  leaseDurationMs: number;
}): LeaseStep {
  const { observation, identity, now, leaseDurationMs } = input;
  if (!observation) {
    return {
      action: 'create',
      next: {
        holderIdentity: identity,
        leaseDurationMs,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    };
  }
  const { record, observedAt } = observation;
  if (record.holderIdentity === identity) {
    return { action: 'renew', next: { ...record, leaseDurationMs, renewTime: now } };
  }
  if (isHeld(record)) {
    const acquirableAt = observedAt + record.leaseDurationMs;
    if (now < acquirableAt) return { action: 'wait', holder: record.holderIdentity!, acquirableAt };
  }
  return {
    action: 'acquire',
    next: {
      holderIdentity: identity,
      leaseDurationMs,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: record.leaseTransitions + 1,
    },
  };
}

/**
 * The fence: a leader may act only while its last successful renew was *sent* less than
 * renewDeadline ago. `lastRenewSentAt` undefined: not leading.
 */
export function canAct(lastRenewSentAt: number | undefined, now: number, renewDeadlineMs: number): boolean {
  return lastRenewSentAt !== undefined && now - lastRenewSentAt < renewDeadlineMs;
}

/** When the fence closes (our clock), for a step-down timer. */
export function actDeadline(lastRenewSentAt: number, renewDeadlineMs: number): number {
  return lastRenewSentAt + renewDeadlineMs;
}

/** The record as released by a graceful stop (client-go's ReleaseOnCancel): holder cleared, transitions kept. */
export function releasedRecord(record: LeaseRecord, now: number): LeaseRecord {
  return {
    holderIdentity: '',
    leaseDurationMs: 1000,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: record.leaseTransitions,
  };
}
