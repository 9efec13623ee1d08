import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LeaderElector,
  type LeadershipEvents,
  NotLeaderError,
} from '../../src/adapters/kubernetes/leader-election.js';
import { KubeEmulator, type Lease } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/http.js';

const NAMESPACE = 'switchyard';
const LEASE = 'switchyard-leader';
const TOKENS = { a: 'token-replica-a', b: 'token-replica-b' } as const;
const USERS = {
  a: 'system:serviceaccount:switchyard:replica-a',
  b: 'system:serviceaccount:switchyard:replica-b',
} as const;
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

type Replica = 'a' | 'b';

let kube: KubeEmulator;
let electors: LeaderElector[] = [];
/** What happened, in order, on one clock: `a:started`, `b:stopped`, … */
let log: string[];

beforeEach(async () => {
  kube = new KubeEmulator({
    token: 'admin-token',
    users: { [TOKENS.a]: USERS.a, [TOKENS.b]: USERS.b },
  });
  await kube.start();
  log = [];
});

afterEach(async () => {
  await Promise.all(electors.map((elector) => elector.abandon()));
  electors = [];
  await kube.stop();
});

function elector(
  replica: Replica,
  options: { now?: () => number; leaseDurationMs?: number; renewDeadlineMs?: number } = {},
): LeaderElector {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeconfigFor(TOKENS[replica], NAMESPACE));
  const made = new LeaderElector({
    kubeConfig,
    namespace: NAMESPACE,
    leaseName: LEASE,
    identity: `replica-${replica}`,
    ...TIMING,
    ...options,
    log: createLogger('silent'),
  });
  electors.push(made);
  return made;
}

function events(replica: Replica, extra: Partial<LeadershipEvents> = {}): LeadershipEvents {
  return {
    started: (term) => {
      extra.started?.(term);
      log.push(`${replica}:started:${term.transitions}`);
    },
    stopped: () => {
      extra.stopped?.();
      log.push(`${replica}:stopped`);
    },
  };
}

function lease(): Lease['spec'] {
  return kube.get('Lease', NAMESPACE, LEASE)?.spec;
}

/** Both replicas started; resolves with [leader, follower] once one leads and the other has seen it. */
async function twoReplicas(
  options: { now?: () => number; leaseDurationMs?: number; renewDeadlineMs?: number } = {},
): Promise<Record<Replica, LeaderElector> & { leader: Replica; follower: Replica }> {
  const a = elector('a', options);
  const b = elector('b', options);
  a.start(events('a'));
  b.start(events('b'));
  const leader = await eventually(() => {
    const leading = [a, b].filter((e) => e.leading);
    expect(leading).toHaveLength(1);
    return leading[0] === a ? 'a' : 'b';
  });
  const follower = leader === 'a' ? 'b' : 'a';
  const pair = { a, b };
  await eventually(() => expect(pair[follower].holder).toBe(`replica-${leader}`));
  return { ...pair, leader, follower };
}

/** Resolves once `replica` has sent `count` more requests (each round reads the Lease). */
async function rounds(replica: Replica, count: number): Promise<void> {
  const seen = () => kube.requests.filter((r) => r.user === USERS[replica] && r.verb === 'get').length;
  const target = seen() + count;
  await eventually(() => expect(seen()).toBeGreaterThanOrEqual(target));
}

describe('Lease leader election against the emulator', () => {
  it('elects exactly one leader, who holds the Lease and keeps renewing it', async () => {
    // Long deadlines: a starved event loop must not make the leader miss a renew here.
    const pair = await twoReplicas({ leaseDurationMs: 60_000, renewDeadlineMs: 30_000 });
    const leader = pair[pair.leader];
    const follower = pair[pair.follower];
    expect(lease()?.holderIdentity).toBe(`replica-${pair.leader}`);
    expect(leader.check()).toEqual({ holder: `replica-${pair.leader}`, transitions: 0 });
    expect(() => follower.check()).toThrow(NotLeaderError);

    const renewedAt = lease()?.renewTime;
    await rounds(pair.follower, 3);
    expect(new Date(lease()!.renewTime!).getTime()).toBeGreaterThan(new Date(renewedAt!).getTime());
    expect(follower.leading).toBe(false);
    expect(log).toEqual([`${pair.leader}:started:0`]);
    // Every write carried the resourceVersion read.
    const writes = kube.requests.filter((r) => r.verb === 'update');
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((r) => r.status === 200 || r.status === 409)).toBe(true);
  });

  it('hands over at once when the leader stops gracefully (the Lease is released, not left to expire)', async () => {
    // A lease far longer than the test's patience: only the release can explain a takeover.
    const pair = await twoReplicas({ leaseDurationMs: 120_000, renewDeadlineMs: 60_000 });
    await pair[pair.leader].stop();
    expect(lease()).toMatchObject({ holderIdentity: '', leaseTransitions: 0, leaseDurationSeconds: 1 });
    await eventually(() => expect(pair[pair.follower].leading).toBe(true));
    expect(lease()).toMatchObject({ holderIdentity: `replica-${pair.follower}`, leaseTransitions: 1 });
    expect(log).toEqual([`${pair.leader}:started:0`, `${pair.leader}:stopped`, `${pair.follower}:started:1`]);
  });

  it('after a SIGKILL (no release) the other replica takes over only once the Lease went unrenewed for leaseDuration by its clock', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const pair = await twoReplicas({ now: clock });
    const follower = pair[pair.follower];
    await pair[pair.leader].abandon(); // the process dies: the Lease stays held
    expect(lease()?.holderIdentity).toBe(`replica-${pair.leader}`);

    await rounds(pair.follower, 2);
    now += TIMING.leaseDurationMs - 1;
    await rounds(pair.follower, 3);
    expect(follower.leading).toBe(false);
    expect(lease()?.holderIdentity).toBe(`replica-${pair.leader}`);

    now += 1;
    await eventually(() => expect(follower.leading).toBe(true));
    expect(lease()).toMatchObject({ holderIdentity: `replica-${pair.follower}`, leaseTransitions: 1 });
    expect(follower.check()).toEqual({ holder: `replica-${pair.follower}`, transitions: 1 });
    expect(follower.transitions).toBe(1);
  });

  it('a leader cut off from the API server stops acting before the other replica starts leading', async () => {
    const pair = await twoReplicas();
    const leader = pair[pair.leader];
    const follower = pair[pair.follower];
    let leaderCheckAtTakeover: unknown = 'not called';
    // Re-start the follower's events so its `started` looks at the old leader at that very instant.
    await follower.abandon();
    follower.start(
      events(pair.follower, {
        started: () => {
          try {
            leaderCheckAtTakeover = leader.check();
          } catch (error) {
            leaderCheckAtTakeover = error;
          }
        },
      }),
    );

    const term = leader.check().transitions;
    log.length = 0;
    kube.partition(USERS[pair.leader]);
    await eventually(() => expect(follower.leading).toBe(true));

    // At the instant the follower starts leading, the old leader's fence has already closed …
    expect(leaderCheckAtTakeover).toBeInstanceOf(NotLeaderError);
    // … and it had already told its work to stop (events in the order they happened, one clock).
    expect(log).toEqual([`${pair.leader}:stopped`, `${pair.follower}:started:${term + 1}`]);
    // Its requests hang unanswered, yet its loop goes on: each call is cut off by its timeout.
    await rounds(pair.leader, 2);
    const hanging = kube.requests.filter((r) => r.user === USERS[pair.leader] && r.status === 0);
    expect(hanging.length).toBeGreaterThanOrEqual(3);

    // Healed, it sees the new holder and stays a follower.
    kube.heal(USERS[pair.leader]);
    await rounds(pair.leader, 2);
    expect(leader.leading).toBe(false);
    expect(leader.holder).toBe(`replica-${pair.follower}`);
    expect(() => leader.check()).toThrow(NotLeaderError);
  });
});
