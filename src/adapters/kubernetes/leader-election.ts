import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  Observable,
  type V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import {
  actDeadline,
  canAct,
  type LeadershipState,
  type LeaseRecord,
  nextLeaseStep,
  type Observation,
  observe,
  releasedRecord,
  timingProblems,
} from '../../core/leadership.js';
import type { Logger } from '../../logger.js';

export type { LeadershipState };

/** Thrown by `check()` when this replica may not act as the leader (now or any more). */
export class NotLeaderError extends Error {
  constructor(message = 'this replica does not hold the leader Lease') {
    super(message);
    this.name = 'NotLeaderError';
  }
}

/** What outbound work checks before each external call. */
export interface Fence {
  /** The lease term to stamp on the call; throws NotLeaderError unless this replica may act. */
  check(): { holder: string; transitions: number };
  readonly leading: boolean;
}

export interface LeadershipEvents {
  started(term: { holder: string; transitions: number }): void;
  stopped(): void;
}

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** The clock for observed times and the fence (tests inject one). Default Date.now. */
  now?: () => number;
}

/** A replica's identity in the Lease: the pod's name, or the host name and a random suffix. */
export function replicaIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const pod = env.POD_NAME?.trim();
  if (pod) return pod;
  return `${hostname()}-${randomBytes(4).toString('hex')}`;
}

/** The request took longer than its bound: treated as a failed round (the API server may hang). */
class CallTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

/**
 * Lease leader election (client-go's leaderelection): every retryPeriod, read the Lease, then renew
 * it (leader) or take it when it is free or its record has not changed for leaseDuration by our own
 * clock (follower); every write carries the resourceVersion read, so two takers cannot both win. The
 * leader steps down when its last successful renew was sent renewDeadline ago, and `check()` refuses
 * from that instant, before any follower may take the Lease.
 */
export class LeaderElector implements Fence {
  private readonly api: CoordinationV1Api;
  private readonly now: () => number;
  private readonly callTimeoutMs: number;
  private observation: Observation | undefined;
  /** When the request of our last successful acquire/renew was sent (our clock); undefined: follower. */
  private lastRenewSentAt: number | undefined;
  private term: { holder: string; transitions: number } | undefined;
  private events: LeadershipEvents | undefined;
  private running = false;
  /** A write of ours may have landed without our seeing the answer (stopped mid-acquire). */
  private writeInFlight = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<AbortController>();
  private readonly listeners = new Set<(state: LeadershipState) => void>();

  constructor(private readonly options: LeaderElectorOptions) {
    const problems = timingProblems(options);
    if (problems.length > 0) throw new Error(`leader election: ${problems.join('; ')}`);
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? Date.now;
    // A round is a read and a write: both together stay within renewDeadline.
    this.callTimeoutMs = Math.max(1, Math.floor(options.renewDeadlineMs / 2));
  }

  get leading(): boolean {
    return this.term !== undefined;
  }

  /** The Lease's leaseTransitions as last seen (or written) by this replica. */
  get transitions(): number {
    return this.term?.transitions ?? this.observation?.record.leaseTransitions ?? 0;
  }

  /** The holder as last seen: this replica while leading; undefined when nobody holds it. */
  get holder(): string | undefined {
    if (this.term) return this.term.holder;
    const holder = this.observation?.record.holderIdentity;
    return holder ? holder : undefined;
  }

  get identity(): string {
    return this.options.identity;
  }

  check(): { holder: string; transitions: number } {
    const term = this.term;
    if (!term) throw new NotLeaderError();
    if (!canAct(this.lastRenewSentAt, this.now(), this.options.renewDeadlineMs)) {
      this.stepDown('renew deadline passed');
      throw new NotLeaderError('the leader Lease was not renewed within renewDeadline');
    }
    return { ...term };
  }

  /** The state now: leading, the holder and transitions as last seen. */
  get state(): LeadershipState {
    return {
      leading: this.leading,
      transitions: this.transitions,
      ...(this.holder !== undefined ? { holder: this.holder } : {}),
    };
  }

  /** Calls `listener` with the state now, then after every round and transition; returns an unsubscribe. */
  onStateChange(listener: (state: LeadershipState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  start(events: LeadershipEvents): void {
    if (this.running) throw new Error('leader elector already started');
    this.running = true;
    this.events = events;
    this.loop = this.run();
  }

  /** Stops the loop; when leading, releases the Lease at once so another replica takes over. */
  async stop(): Promise<void> {
    const mayHold = () => this.term !== undefined || this.writeInFlight;
    const holdsBeforeHalt = mayHold();
    await this.halt();
    const mayHoldNow = holdsBeforeHalt || mayHold();
    this.stepDown('stopping');
    if (mayHoldNow) await this.release();
  }

  /**
   * Test-only: stops the loop without releasing, as a SIGKILL would (the Lease stays held until it
   * expires for the others).
   */
  async abandon(): Promise<void> {
    await this.halt();
    this.stepDown('abandoned');
  }

  private async halt(): Promise<void> {
    this.running = false;
    for (const controller of this.inflight) controller.abort();
    clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const roundStartedAt = this.now();
      try {
        await this.round();
      } catch (error) {
        // A call aborted by stop() is no failure worth a warning.
        if (this.running)
          this.options.log.warn(
            { err: error, lease: this.options.leaseName, identity: this.options.identity },
            'leader election: round failed',
          );
      }
      if (this.term && !canAct(this.lastRenewSentAt, this.now(), this.options.renewDeadlineMs)) {
        this.stepDown('renew deadline passed');
      }
      this.notify();
      if (!this.running) break;
      const wait = Math.max(0, roundStartedAt + this.options.retryPeriodMs - this.now());
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.sleepTimer = setTimeout(resolve, wait);
      });
      this.wake = undefined;
    }
  }

  /** One tryAcquireOrRenew: read, decide, write with the read's resourceVersion. */
  private async round(): Promise<void> {
    const sentAt = this.now();
    const { namespace, leaseName: name, identity, leaseDurationMs } = this.options;
    let lease: V1Lease | undefined;
    try {
      lease = await this.call('reading the Lease', (options) =>
        this.api.readNamespacedLease({ name, namespace }, options),
      );
    } catch (error) {
      if (codeOf(error) !== 404) throw error;
    }
    if (!this.running) return;
    this.observation = lease
      ? observe(this.observation, lease.metadata?.resourceVersion ?? '', recordOf(lease), this.now())
      : undefined;
    const step = nextLeaseStep({ observation: this.observation, identity, now: this.now(), leaseDurationMs });
    if (step.action === 'wait') {
      if (this.term) this.stepDown(`the Lease is held by ${step.holder}`);
      return;
    }
    let written: V1Lease;
    this.writeInFlight = true;
    try {
      written = await this.call(`${step.action} the Lease`, (options) =>
        step.action === 'create'
          ? this.api.createNamespacedLease({ namespace, body: leaseOf(name, namespace, step.next) }, options)
          : this.api.replaceNamespacedLease(
              {
                name,
                namespace,
                body: leaseOf(name, namespace, step.next, lease?.metadata?.resourceVersion),
              },
              options,
            ),
      );
    } catch (error) {
      const code = codeOf(error);
      if (code === 409) {
        this.options.log.debug({ lease: name, identity }, 'leader election: lost the race for the Lease');
        return;
      }
      throw error;
    } finally {
      this.writeInFlight = false;
    }
    if (!this.running) return;
    this.observation = observe(
      this.observation,
      written.metadata?.resourceVersion ?? '',
      recordOf(written),
      this.now(),
    );
    this.renewed(sentAt, step.next.leaseTransitions);
  }

  private renewed(sentAt: number, transitions: number): void {
    this.lastRenewSentAt = sentAt;
    const deadline = actDeadline(sentAt, this.options.renewDeadlineMs);
    clearTimeout(this.stepDownTimer);
    // Step down on time even when the loop is stuck in a slow call.
    this.stepDownTimer = setTimeout(
      () => {
        if (this.term && !canAct(this.lastRenewSentAt, this.now(), this.options.renewDeadlineMs)) {
          this.stepDown('renew deadline passed');
          this.notify();
        }
      },
      Math.max(0, deadline - this.now()),
    );
    this.stepDownTimer.unref();
    if (this.term) return;
    this.term = { holder: this.options.identity, transitions };
    this.options.log.info(
      { lease: this.options.leaseName, identity: this.options.identity, transitions },
      'leader election: leading',
    );
    this.notify();
    this.events?.started({ ...this.term });
  }

  private stepDown(reason: string): void {
    clearTimeout(this.stepDownTimer);
    this.lastRenewSentAt = undefined;
    if (!this.term) return;
    this.term = undefined;
    this.options.log.warn(
      { lease: this.options.leaseName, identity: this.options.identity, reason },
      'leader election: stopped leading',
    );
    this.notify();
    this.events?.stopped();
  }

  /** ReleaseOnCancel: holder cleared, transitions kept; only if we still hold it (CAS). */
  private async release(): Promise<void> {
    const { namespace, leaseName: name, identity } = this.options;
    try {
      const lease = await this.call('reading the Lease', (options) =>
        this.api.readNamespacedLease({ name, namespace }, options),
      );
      if (lease.spec?.holderIdentity !== identity) return;
      const released = releasedRecord(recordOf(lease), this.now());
      const body = leaseOf(name, namespace, released, lease.metadata?.resourceVersion);
      await this.call('releasing the Lease', (options) =>
        this.api.replaceNamespacedLease({ name, namespace, body }, options),
      );
      this.observation = undefined;
      this.options.log.info({ lease: name, identity }, 'leader election: released the Lease');
    } catch (error) {
      this.options.log.warn({ err: error, lease: name, identity }, 'leader election: release failed');
    }
    this.notify();
  }

  /** One API call, aborted after callTimeoutMs so a hanging API server cannot hold the loop. */
  private async call<T>(what: string, request: (options: CallOptions) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.inflight.add(controller);
    const timer = setTimeout(
      () => controller.abort(new CallTimeout(what, this.callTimeoutMs)),
      this.callTimeoutMs,
    );
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () =>
        reject(controller.signal.reason ?? new CallTimeout(what, this.callTimeoutMs)),
      );
    });
    try {
      const options: CallOptions = {
        middleware: [
          {
            pre: (context) => {
              context.setSignal(controller.signal);
              return new Observable(Promise.resolve(context));
            },
            post: (context) => new Observable(Promise.resolve(context)),
          },
        ],
        middlewareMergeStrategy: 'append',
      };
      return await Promise.race([request(options), aborted]);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  private notify(): void {
    const state = this.state;
    for (const listener of this.listeners) listener(state);
  }
}

type CallOptions = NonNullable<Parameters<CoordinationV1Api['readNamespacedLease']>[1]>;

function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    ...(spec.holderIdentity ? { holderIdentity: spec.holderIdentity } : {}),
    leaseDurationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
    ...(spec.acquireTime ? { acquireTime: new Date(spec.acquireTime).getTime() } : {}),
    ...(spec.renewTime ? { renewTime: new Date(spec.renewTime).getTime() } : {}),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function leaseOf(name: string, namespace: string, record: LeaseRecord, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity ?? '',
      // The API takes whole seconds; round up so a follower never waits less than configured.
      leaseDurationSeconds: Math.max(1, Math.ceil(record.leaseDurationMs / 1000)),
      ...(record.acquireTime !== undefined ? { acquireTime: new V1MicroTime(record.acquireTime) } : {}),
      ...(record.renewTime !== undefined ? { renewTime: new V1MicroTime(record.renewTime) } : {}),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}
