import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actDeadline,
  canAct,
  type LeaseRecord,
  type LeaseTiming,
  nextLeaseStep,
  type Observation,
  observe,
  releasedRecord,
  timingProblems,
} from '../../src/core/leadership.js';

const LEASE = 15_000;
const DEADLINE = 10_000;
const TIMING: LeaseTiming = { leaseDurationMs: LEASE, renewDeadlineMs: DEADLINE, retryPeriodMs: 2_000 };
const FAST: LeaseTiming = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

const held = (holder: string, transitions = 3): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationMs: LEASE,
  acquireTime: 1,
  renewTime: 2,
  leaseTransitions: transitions,
});
const seen = (record: LeaseRecord, observedAt: number, version = '7'): Observation => ({
  version,
  record,
  observedAt,
});

describe('nextLeaseStep (tryAcquireOrRenew)', () => {
  it('creates a missing Lease with transitions 0', () => {
    expect(
      nextLeaseStep({ observation: undefined, identity: 'me', now: 50, leaseDurationMs: LEASE }),
    ).toEqual({
      action: 'create',
      next: {
        holderIdentity: 'me',
        leaseDurationMs: LEASE,
        acquireTime: 50,
        renewTime: 50,
        leaseTransitions: 0,
      },
    });
  });

  it('renews its own Lease: renewTime moves, acquireTime and transitions stay', () => {
    const step = nextLeaseStep({
      observation: seen(held('me'), 0),
      identity: 'me',
      now: 99_999,
      leaseDurationMs: LEASE,
    });
    expect(step).toEqual({ action: 'renew', next: { ...held('me'), renewTime: 99_999 } });
  });

  it("waits while another holder's record changed less than its leaseDuration ago by our clock", () => {
    const observation = seen(held('other'), 1_000);
    expect(
      nextLeaseStep({ observation, identity: 'me', now: 1_000 + LEASE - 1, leaseDurationMs: LEASE }),
    ).toEqual({
      action: 'wait',
      holder: 'other',
      acquirableAt: 1_000 + LEASE,
    });
  });

  it('takes an unrenewed Lease after leaseDuration, one more transition', () => {
    const observation = seen(held('other', 3), 1_000);
    const step = nextLeaseStep({ observation, identity: 'me', now: 1_000 + LEASE, leaseDurationMs: LEASE });
    expect(step).toEqual({
      action: 'acquire',
      next: {
        holderIdentity: 'me',
        leaseDurationMs: LEASE,
        acquireTime: 1_000 + LEASE,
        renewTime: 1_000 + LEASE,
        leaseTransitions: 4,
      },
    });
  });

  it('ignores the renewTime written in the record (another clock): only the observation counts', () => {
    const record = { ...held('other'), renewTime: 0 }; // "renewed" at the epoch by its clock
    const step = nextLeaseStep({
      observation: seen(record, 5_000),
      identity: 'me',
      now: 5_001,
      leaseDurationMs: LEASE,
    });
    expect(step.action).toBe('wait');
  });

  it('takes a released Lease at once', () => {
    const released = releasedRecord(held('other', 5), 10);
    expect(released).toEqual({
      holderIdentity: '',
      leaseDurationMs: 1_000,
      acquireTime: 10,
      renewTime: 10,
      leaseTransitions: 5,
    });
    const step = nextLeaseStep({
      observation: seen(released, 10),
      identity: 'me',
      now: 10,
      leaseDurationMs: LEASE,
    });
    expect(step).toMatchObject({ action: 'acquire', next: { holderIdentity: 'me', leaseTransitions: 6 } });
  });

  it("uses the record's own leaseDuration for someone else's Lease", () => {
    const record = { ...held('other'), leaseDurationMs: 60_000 };
    const step = nextLeaseStep({
      observation: seen(record, 0),
      identity: 'me',
      now: LEASE,
      leaseDurationMs: LEASE,
    });
    expect(step).toMatchObject({ action: 'wait', acquirableAt: 60_000 });
  });
});

describe('observe', () => {
  it('keeps the first time a version was seen, and restarts the count on any change', () => {
    const first = observe(undefined, '1', held('x'), 100);
    expect(observe(first, '1', held('x'), 900)).toBe(first);
    expect(observe(first, '2', held('x'), 900)).toEqual(seen(held('x'), 900, '2'));
  });
});

describe('canAct (the fence)', () => {
  it('is open for renewDeadline from when the last successful renew was sent, then closed', () => {
    expect(canAct(undefined, 0, DEADLINE)).toBe(false);
    expect(canAct(1_000, 1_000, DEADLINE)).toBe(true);
    expect(canAct(1_000, 1_000 + DEADLINE - 1, DEADLINE)).toBe(true);
    expect(canAct(1_000, 1_000 + DEADLINE, DEADLINE)).toBe(false);
    expect(actDeadline(1_000, DEADLINE)).toBe(1_000 + DEADLINE);
  });
});

describe('timingProblems', () => {
  it('accepts the defaults and refuses a renewDeadline the Lease would not outlast', () => {
    expect(timingProblems(TIMING)).toEqual([]);
    expect(timingProblems({ ...TIMING, renewDeadlineMs: LEASE })).toEqual([
      'leaseDuration must be greater than renewDeadline',
    ]);
    expect(timingProblems({ ...TIMING, retryPeriodMs: DEADLINE })).toEqual([
      'renewDeadline must be greater than retryPeriod',
    ]);
    expect(timingProblems({ ...TIMING, retryPeriodMs: 0 })).toContain('retryPeriod must be positive');
  });
});

describe("the leader's window and the follower's wait", () => {
  it("a leader's fence always closes before a follower may take its Lease (any delays, clocks agree)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }), // renew sent
        fc.integer({ min: 0, max: 5_000 }), // ... written by the API server after
        fc.integer({ min: 0, max: 5_000 }), // ... first seen by the follower after
        fc.integer({ min: 0, max: 30_000 }), // the instant considered, after that
        fc.constantFrom(TIMING, FAST),
        (sentAt, writeDelay, seenDelay, later, timing) => {
          const observedAt = sentAt + writeDelay + seenDelay;
          const now = observedAt + later;
          const record = { ...held('leader'), leaseDurationMs: timing.leaseDurationMs };
          const step = nextLeaseStep({
            observation: seen(record, observedAt),
            identity: 'follower',
            now,
            leaseDurationMs: timing.leaseDurationMs,
          });
          if (step.action === 'acquire') expect(canAct(sentAt, now, timing.renewDeadlineMs)).toBe(false);
          if (step.action === 'wait')
            expect(step.acquirableAt).toBeGreaterThan(actDeadline(sentAt, timing.renewDeadlineMs));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

// ---- Two replicas and an API server, any interleaving ------------------------------------------------
//
// Each replica runs the elector's round in phases that the network may delay or lose: it sends the
// read (round start), the server reads, the replica receives and decides, the server applies the
// write if the resourceVersion still matches (CAS), the replica receives the answer. Both share one
// clock (clocks agree); fast-check picks who moves, how much time passes and which answers get lost.

interface Server {
  version: number;
  record: LeaseRecord | undefined;
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'sent-read'; roundStart: number }
  | { kind: 'read'; roundStart: number; version: number; record: LeaseRecord | undefined }
  | { kind: 'sent-write'; roundStart: number; basedOn: number; next: LeaseRecord; create: boolean }
  | { kind: 'written'; roundStart: number; version: number; next: LeaseRecord };

interface Replica {
  identity: string;
  observation: Observation | undefined;
  lastRenewSentAt: number | undefined;
  phase: Phase;
}

interface Move {
  who: 0 | 1;
  dt: number;
  lose: boolean;
}

// Mostly short steps (rounds run into each other), now and then a long pause or a lost answer; one
// replica often makes several moves in a row while the other is stalled (a pause, a partition).
const stepArb = fc.record({
  dt: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 600 }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 4_000 }), weight: 1 },
  ),
  lose: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
});
const movesArb = fc
  .array(
    fc.record({
      who: fc.constantFrom<0 | 1>(0, 1),
      steps: fc.array(stepArb, { minLength: 1, maxLength: 12 }),
    }),
    { minLength: 2, maxLength: 30, size: 'max' },
  )
  .map((runs) => runs.flatMap(({ who, steps }) => steps.map((step): Move => ({ who, ...step }))));

/**
 * Runs the moves; calls `check` at every instant something happens. Returns false (and what broke)
 * as soon as `check` fails.
 */
function simulate(
  timing: LeaseTiming,
  moves: readonly Move[],
  check: (event: string, replicas: Replica[], now: number) => string | undefined,
): string | undefined {
  const server: Server = { version: 0, record: undefined };
  const replicas: Replica[] = ['a', 'b'].map((identity) => ({
    identity,
    observation: undefined,
    lastRenewSentAt: undefined,
    phase: { kind: 'idle' },
  }));
  let now = 0;
  for (const { who, dt, lose } of moves) {
    now += dt;
    const me = replicas[who]!;
    // The elector steps down once the fence closed (timer or next round).
    for (const r of replicas)
      if (!canAct(r.lastRenewSentAt, now, timing.renewDeadlineMs)) r.lastRenewSentAt = undefined;
    const phase = me.phase;
    let event = `${me.identity}:${phase.kind}`;
    if (lose && phase.kind !== 'idle') {
      // The request or its answer is lost (timeout): a write that was 'written' has still landed.
      me.phase = { kind: 'idle' };
      event += ':lost';
    } else if (phase.kind === 'idle') {
      me.phase = { kind: 'sent-read', roundStart: now };
    } else if (phase.kind === 'sent-read') {
      me.phase = {
        kind: 'read',
        roundStart: phase.roundStart,
        version: server.version,
        record: server.record,
      };
    } else if (phase.kind === 'read') {
      me.observation = phase.record
        ? observe(me.observation, String(phase.version), phase.record, now)
        : undefined;
      const step = nextLeaseStep({
        observation: me.observation,
        identity: me.identity,
        now,
        leaseDurationMs: timing.leaseDurationMs,
      });
      if (step.action === 'wait') {
        me.lastRenewSentAt = undefined; // someone else holds it
        me.phase = { kind: 'idle' };
      } else {
        me.phase = {
          kind: 'sent-write',
          roundStart: phase.roundStart,
          basedOn: phase.version,
          next: step.next,
          create: step.action === 'create',
        };
      }
    } else if (phase.kind === 'sent-write') {
      const conflict = phase.create ? server.record !== undefined : server.version !== phase.basedOn;
      if (conflict) {
        me.phase = { kind: 'idle' }; // 409
      } else {
        server.version += 1;
        server.record = phase.next;
        me.phase = {
          kind: 'written',
          roundStart: phase.roundStart,
          version: server.version,
          next: phase.next,
        };
        event = `${me.identity}:commit`;
      }
    } else {
      me.observation = observe(me.observation, String(phase.version), phase.next, now);
      me.lastRenewSentAt = phase.roundStart;
      me.phase = { kind: 'idle' };
    }
    const broken = check(event, replicas, now);
    if (broken) return `${broken} at t=${now} after ${event}`;
  }
  return undefined;
}

const bothAct = (timing: LeaseTiming) => (_event: string, replicas: Replica[], now: number) =>
  replicas.every((r) => canAct(r.lastRenewSentAt, now, timing.renewDeadlineMs))
    ? 'both replicas may act'
    : undefined;

describe('two replicas, any interleaving of reads, writes, delays and lost answers (clocks agree)', () => {
  it('never both may act at the same instant', () => {
    fc.assert(
      fc.property(movesArb, (moves) => {
        expect(simulate(FAST, moves, bothAct(FAST))).toBeUndefined();
      }),
      { numRuns: 1500 },
    );
  });

  it("a Lease write by one replica always lands after the other's fence closed", () => {
    fc.assert(
      fc.property(movesArb, (moves) => {
        const fenceOpenAtCommit = (event: string, replicas: Replica[], now: number) => {
          if (!event.includes(':commit')) return undefined;
          const writer = replicas.find((r) => event.startsWith(`${r.identity}:`))!;
          const other = replicas.find((r) => r !== writer)!;
          return canAct(other.lastRenewSentAt, now, FAST.renewDeadlineMs)
            ? `${writer.identity} wrote the Lease while ${other.identity} may still act`
            : undefined;
        };
        expect(simulate(FAST, moves, fenceOpenAtCommit)).toBeUndefined();
      }),
      { numRuns: 1500 },
    );
  });

  it('can fail: with renewDeadline >= leaseDuration fast-check finds two replicas acting at once', () => {
    const broken: LeaseTiming = { leaseDurationMs: 2_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
    const result = fc.check(
      fc.property(movesArb, (moves) => simulate(broken, moves, bothAct(broken)) === undefined),
      { numRuns: 2_000, seed: 42 },
    );
    expect(result.failed).toBe(true);
  });

  it('makes progress: replicas taking turns with short delays and no losses end with exactly one leader', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 20, maxLength: 80 }), (dts) => {
        // A round is 5 phases: taking turns, each replica completes one within 1 s < renewDeadline.
        const moves = dts.map((dt, i): Move => ({ who: (i % 2) as 0 | 1, dt, lose: false }));
        let leaders = -1;
        simulate(FAST, moves, (_event, replicas, now) => {
          leaders = replicas.filter((r) => canAct(r.lastRenewSentAt, now, FAST.renewDeadlineMs)).length;
          return undefined;
        });
        expect(leaders).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
