import type { Logger } from '../../logger.js';
import { isNotLeader, type LeaseTerm } from './not-leader.js';
import type { OutboxFailure } from './outbox-errors.js';
import type { Journal, OutboxJob } from './outbox-journal.js';

export interface OutboxOptions<P> {
  journal: Journal<P>;
  /**
   * Leader fencing (several replicas over a shared journal): called right before every `execute`.
   * It throws a NotLeaderError when this replica may no longer make calls: the job is not attempted,
   * stays pending for the next leader, and the outbox stops sending (it follows). What it returns, the
   * Lease term, reaches `execute` as `Attempt.term`.
   */
  fence?: () => LeaseTerm | undefined;
  /**
   * Whether the outbox starts as the one that sends (default true: on a file journal it always is).
   * A replica of a shared journal starts following and sends once told `lead()`.
   */
  leading?: boolean;
  /** Runs one job; what it resolves with is handed to whoever awaits `deliver`. */
  execute: (payload: P, attempt: Attempt) => Promise<unknown>;
  classify: (error: unknown) => OutboxFailure;
  log: Logger;
  /** Called with the number of pending jobs whenever it changes. */
  onDepth?: (depth: number) => void;
  /** Backoff after a retryable failure: `min(maxBackoffMs, baseBackoffMs · 2^(attempt-1))`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Compact the journal when the queue is empty and it has grown past this many lines. */
  compactAfterLines?: number;
  /**
   * Jobs of different keys sent at once (default 4). Within a key the order is kept (one at a time);
   * a 429 still pauses everything.
   */
  concurrency?: number;
  now?: () => number;
  /** What a job is called in the log lines (default "Slack post"; the notify outbox sends deliveries). */
  noun?: string;
}

/** How long after a 429 the outbox sends one call at a time. */
const RATE_LIMIT_CALM_MS = 30_000;

/** What the executor knows about a job besides its payload. */
export interface Attempt {
  id: string;
  /**
   * The job may already have reached Slack: it was read back from the journal after a restart, or an
   * earlier try failed without a clear answer (a 5xx, a timeout). A post then looks for itself first.
   */
  uncertain: boolean;
  /** The Lease term the call is made under, when the outbox is fenced (posts carry it in metadata). */
  term?: LeaseTerm;
  /**
   * Fenced outboxes: checks the Lease again (throws NotLeaderError when it is lost). A job that makes
   * several calls, or reads before it writes, calls it right before each write: the first check may be
   * seconds old by then.
   */
  recheck?: () => void;
}

/** How many finished job ids are remembered, so a job a shared journal reports late is not sent again. */
const FINISHED_REMEMBERED = 10_000;

/**
 * One queue for everything the bot posts to Slack. Durable (a journal replayed at start), in order per
 * key, one call at a time. A 429 pauses the whole queue for `Retry-After` (Slack limits per channel and
 * per method; pausing everything keeps us well-behaved); a 5xx or network error backs off that key
 * only; an error resending cannot fix is logged and dropped.
 */
export class Outbox<P> {
  private pending: OutboxJob<P>[] = [];
  /** Being journalled right now: counted by compaction, so a job is never in neither place. */
  private readonly staged = new Set<OutboxJob<P>>();
  /** Being sent: at most one per key, at most `concurrency` in all. */
  private readonly inFlight = new Map<OutboxJob<P>, Promise<void>>();
  private kicked = false;
  /** After a 429, one call at a time until Slack has not limited us for a while (see RATE_LIMIT_CALM_MS). */
  private serialUntil = 0;
  private pausedUntil = 0;
  private readonly keyBlockedUntil = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private started = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Callers awaiting a job's result (`deliver`): only in this process; a replayed job has none. */
  private readonly deliveries = new Map<
    string,
    { resolve: (result: unknown) => void; reject: (error: unknown) => void }
  >();
  private readonly now: () => number;
  private readonly noun: string;
  /** Jobs that may have been sent already (see `Attempt.uncertain`). */
  private readonly uncertain = new Set<string>();
  /** Whether this outbox sends (see `lead` and `follow`). */
  private leading: boolean;
  /** `lead()` is reading the journal: nothing is sent until it knows what the last leader left. */
  private replaying = false;
  /** Ids finished here lately (see FINISHED_REMEMBERED). */
  private readonly finished = new Set<string>();
  private unfollow: (() => void) | undefined;

  constructor(private readonly options: OutboxOptions<P>) {
    this.now = options.now ?? Date.now;
    this.noun = options.noun ?? 'Slack post';
    this.leading = options.leading ?? true;
  }

  /** Whether this outbox sends now (it stops when its fence says it is not the leader). */
  get isLeading(): boolean {
    return this.leading;
  }

  /**
   * Reads the journal (pending jobs are queued again, when leading) and compacts it; returns every
   * fencing key it held.
   */
  async open(): Promise<string[]> {
    const { pending, fences } = await this.options.journal.replay();
    if (this.leading) {
      this.pending = pending;
      for (const job of pending) this.uncertain.add(job.id);
    }
    // A follower holds nothing of the queue: it must not compact it away.
    if (this.leading) await this.options.journal.compact(() => this.pending);
    if (this.leading && pending.length > 0)
      this.options.log.info({ pending: pending.length }, `outbox: resuming pending ${this.noun}s`);
    this.reportDepth();
    return fences;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unfollow = this.options.journal.follow?.((jobs) => this.followed(jobs));
    this.loop = this.run();
  }

  /** Finishes the call in progress and stops; what is still queued stays in the journal. */
  async stop(): Promise<void> {
    this.started = false;
    this.unfollow?.();
    this.unfollow = undefined;
    this.kick();
    await this.loop;
    await Promise.all(this.inFlight.values());
  }

  get depth(): number {
    return this.pending.length;
  }

  /**
   * This replica won the Lease: reads the journal again and sends what is pending. Every pending job
   * is uncertain, as the previous leader may have sent it before it stopped. Returns the journal's
   * fencing keys. Nothing is sent before the journal is read.
   */
  async lead(): Promise<string[]> {
    this.leading = true;
    this.replaying = true;
    let replayed: Awaited<ReturnType<Journal<P>['replay']>>;
    try {
      replayed = await this.options.journal.replay();
    } catch (error) {
      this.replaying = false;
      this.follow();
      throw error;
    }
    this.replaying = false;
    if (!this.leading) return replayed.fences; // told to follow meanwhile
    // Jobs enqueued or reported while the journal was read are kept; the journal's order goes first.
    const known = new Set(this.pending.map((job) => job.id));
    for (const job of replayed.pending) this.uncertain.add(job.id);
    const fresh = replayed.pending.filter((job) => !known.has(job.id) && !this.finished.has(job.id));
    this.pending = [...fresh, ...this.pending];
    this.pausedUntil = 0;
    if (this.pending.length > 0)
      this.options.log.info(
        { pending: this.pending.length },
        `outbox: leading; sending pending ${this.noun}s`,
      );
    this.reportDepth();
    this.kick();
    return replayed.fences;
  }

  /**
   * Another replica leads: stops sending before the next call (the calls in flight finish). Jobs are
   * still journalled by `enqueue`, for the leader to send; callers of `deliver` are told the result
   * the leader records.
   */
  follow(): void {
    if (!this.leading) return;
    this.leading = false;
    this.replaying = false;
    const kept = this.pending.filter((job) => this.inFlight.has(job));
    for (const job of this.pending) if (!kept.includes(job)) this.uncertain.delete(job.id);
    this.pending = kept;
    this.keyBlockedUntil.clear();
    this.attempts.clear();
    this.handOverDeliveries();
    this.reportDepth();
    this.resolveIdleWaiters();
    this.kick();
  }

  /** Callers awaiting jobs this replica will not send now learn their result from the shared journal. */
  private handOverDeliveries(): void {
    const resultOf = this.options.journal.resultOf?.bind(this.options.journal);
    if (!resultOf) return; // one replica: it leads again, and settles them itself
    const sending = new Set([...this.inFlight.keys()].map((job) => job.id));
    for (const [id, delivery] of this.deliveries) {
      if (sending.has(id)) continue;
      this.deliveries.delete(id);
      resultOf(id).then(delivery.resolve, delivery.reject);
    }
  }

  /** Jobs another replica journalled: the leader sends them (once: not if queued or finished here). */
  private followed(jobs: readonly OutboxJob<P>[]): void {
    if (!this.leading) return;
    const known = new Set([...this.pending, ...this.staged].map((job) => job.id));
    const fresh = jobs.filter((job) => !known.has(job.id) && !this.finished.has(job.id));
    if (fresh.length > 0) this.queue(fresh);
  }

  /**
   * Journals the job, queues it, and resolves with what `execute` returned once it is sent (a thread
   * parent's `ts`, say); rejects with Slack's error when it is dropped. Should the process die first,
   * the job is still sent after the restart; only the answer is lost.
   */
  async deliver<R>(job: OutboxJob<P>): Promise<R> {
    const { journal } = this.options;
    if (!this.leading && journal.resultOf) {
      // The leader sends it; its result comes through the shared journal.
      await this.enqueue([job]);
      return (await journal.resultOf(job.id)) as R;
    }
    const delivered = new Promise<R>((resolve, reject) => {
      this.deliveries.set(job.id, { resolve: resolve as (result: unknown) => void, reject });
    });
    try {
      await this.enqueue([job]);
    } catch (error) {
      this.deliveries.delete(job.id);
      throw error;
    }
    return delivered;
  }

  /**
   * Journals the jobs (durable when this resolves) and queues them. Duplicate ids are ignored.
   * `early`: queued at once, sent while the journal is written; for jobs whose sending twice is
   * prevented otherwise (a group's message: the caller answers only once both are done, and a
   * replay looks for the post first).
   */
  async enqueue(jobs: readonly OutboxJob<P>[], options: { early?: boolean } = {}): Promise<void> {
    const fresh = jobs.filter((job) => !this.isRedundant(job));
    if (fresh.length === 0) return;
    for (const job of fresh) this.staged.add(job);
    if (options.early) this.queue(fresh);
    let finished: readonly string[] | undefined;
    try {
      finished = await this.options.journal.enqueued(fresh);
    } finally {
      for (const job of fresh) this.staged.delete(job);
      this.resolveIdleWaiters();
    }
    // Sent already (another try of the same change, or by another replica): never again.
    for (const id of finished ?? []) this.finished.add(id);
    if (finished?.length) {
      this.pending = this.pending.filter((job) => !finished.includes(job.id) || this.inFlight.has(job));
      this.reportDepth();
    }
    if (!options.early) this.queue(fresh.filter((job) => !this.isRedundant(job)));
  }

  private queue(jobs: readonly OutboxJob<P>[]): void {
    if (!this.leading) return; // journalled: the leader sends it
    this.pending.push(...jobs);
    this.reportDepth();
    this.kick();
  }

  /** Resolves when nothing is queued (for tests and the benchmark). */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.staged.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * A job already queued under the same id, or a pending one it coalesces with. The pending one then
   * takes the higher priority of the two: a change to a group must not wait behind a mere refresh.
   */
  private isRedundant(job: OutboxJob<P>): boolean {
    if (this.finished.has(job.id)) return true;
    const other = this.pending.find(
      (pending) =>
        pending.id === job.id ||
        (job.coalesce !== undefined && pending.coalesce === job.coalesce && !this.inFlight.has(pending)),
    );
    if (other && other.id !== job.id && job.priority > other.priority) other.priority = job.priority;
    return other !== undefined;
  }

  private async run(): Promise<void> {
    const most = Math.max(1, this.options.concurrency ?? 4);
    while (this.started) {
      const now = this.now();
      // Under Slack's rate limit, calls in parallel only earn more 429s: one at a time, as it allows.
      const limit = now < this.serialUntil ? 1 : most;
      while (this.leading && !this.replaying && this.inFlight.size < limit) {
        const next = this.pick(now);
        if (!next) break;
        const attempt = this.attempt(next).finally(() => {
          this.inFlight.delete(next);
          // Still pending after a failed try, but no longer this replica's to send.
          if (!this.leading) this.pending = this.pending.filter((job) => job !== next);
          this.kick();
        });
        this.inFlight.set(next, attempt);
      }
      await this.sleep(this.nextWakeAt(now) - now);
    }
  }

  /**
   * The first job of each key is a candidate, ranked by the highest priority queued under its key (an
   * escalation queued behind a group's refresh lifts the refresh, which must go first to keep the
   * order); of the ready ones, the highest, then the oldest.
   */
  private pick(now: number): OutboxJob<P> | undefined {
    if (now < this.pausedUntil) return undefined;
    const keys = new Map<string, { first: OutboxJob<P>; priority: number }>();
    for (const job of this.pending) {
      const seen = keys.get(job.key);
      if (!seen) keys.set(job.key, { first: job, priority: job.priority });
      else if (job.priority > seen.priority) seen.priority = job.priority;
    }
    let best: { first: OutboxJob<P>; priority: number } | undefined;
    for (const [key, candidate] of keys) {
      if ((this.keyBlockedUntil.get(key) ?? 0) > now) continue;
      if (this.inFlight.has(candidate.first)) continue; // its key is busy: order within a key
      if (!best || candidate.priority > best.priority) best = candidate;
    }
    return best?.first;
  }

  private nextWakeAt(now: number): number {
    if (this.pending.length === 0) return now + 60_000;
    if (now < this.pausedUntil) return this.pausedUntil;
    const blocked = [...this.keyBlockedUntil.values()].filter((until) => until > now);
    return blocked.length > 0 ? Math.min(...blocked) : now + 60_000;
  }

  private async attempt(job: OutboxJob<P>): Promise<void> {
    // Checked right before the call (no await between): a replica that lost the Lease makes none.
    let term: LeaseTerm | undefined;
    try {
      term = this.options.fence?.();
    } catch (error) {
      this.fenced(job, error);
      return;
    }
    // In flight until it is finished, so nothing coalesces into a job already sent.
    try {
      const result = await this.options.execute(job.payload, {
        id: job.id,
        uncertain: this.uncertain.has(job.id),
        ...(term && { term: { holder: term.holder, transitions: term.transitions } }),
        ...(this.options.fence && { recheck: () => void this.options.fence?.() }),
      });
      await this.finish(job, undefined, result);
      this.settle(job.id, (delivery) => delivery.resolve(result));
    } catch (error) {
      // The Lease was lost between the job's reads and its write: nothing was sent; the leader sends it.
      if (isNotLeader(error)) {
        this.fenced(job, error);
        this.pending = this.pending.filter((other) => other !== job);
        this.reportDepth();
        this.resolveIdleWaiters();
        return;
      }
      await this.failed(job, error);
    }
  }

  /** The fence refused a call: not the leader any more (follow), or it could not tell (try later). */
  private fenced(job: OutboxJob<P>, error: unknown): void {
    if (isNotLeader(error)) {
      this.options.log.info({ job: job.id }, `outbox: not the leader; stops sending ${this.noun}s`);
      this.follow();
      return;
    }
    const backoff = this.options.maxBackoffMs ?? 30_000;
    this.keyBlockedUntil.set(job.key, this.now() + backoff);
    this.options.log.error(
      { err: error, job: job.id },
      'outbox: the leader fence failed; not sending for now',
    );
  }

  private async failed(job: OutboxJob<P>, error: unknown): Promise<void> {
    const classified = this.options.classify(error);
    const tries = (this.attempts.get(job.key) ?? 0) + 1;
    const failure =
      classified.kind === 'retry' && classified.maxAttempts !== undefined && tries >= classified.maxAttempts
        ? { kind: 'drop' as const, reason: `${classified.reason} (gave up after ${tries} attempts)` }
        : classified;
    if (failure.kind === 'drop') {
      this.options.log.error(
        { err: error, job: job.id, reason: failure.reason },
        `outbox: dropping a ${this.noun}`,
      );
      await this.finish(job, failure.reason);
      this.settle(job.id, (delivery) => delivery.reject(error));
    } else if (failure.kind === 'rate-limited') {
      this.pausedUntil = this.now() + failure.retryAfterMs;
      this.serialUntil = this.pausedUntil + RATE_LIMIT_CALM_MS;
      this.options.log.warn({ retryAfterMs: failure.retryAfterMs }, 'outbox: rate limited by Slack; pausing');
    } else {
      this.uncertain.add(job.id);
      const attempt = (this.attempts.get(job.key) ?? 0) + 1;
      this.attempts.set(job.key, attempt);
      const backoff = Math.min(
        this.options.maxBackoffMs ?? 30_000,
        (this.options.baseBackoffMs ?? 250) * 2 ** (attempt - 1),
      );
      this.keyBlockedUntil.set(job.key, this.now() + backoff);
      this.options.log.warn(
        { err: error, job: job.id, attempt, backoff },
        this.noun === 'Slack post'
          ? 'outbox: Slack call failed; will retry'
          : `outbox: ${this.noun} failed; will retry`,
      );
    }
  }

  private settle(
    id: string,
    how: (delivery: { resolve: (result: unknown) => void; reject: (error: unknown) => void }) => void,
  ): void {
    const delivery = this.deliveries.get(id);
    if (!delivery) return;
    this.deliveries.delete(id);
    how(delivery);
  }

  private async finish(job: OutboxJob<P>, dropped?: string, result?: unknown): Promise<void> {
    await this.options.journal.done(job.id, dropped, result);
    this.uncertain.delete(job.id);
    this.finished.add(job.id);
    if (this.finished.size > FINISHED_REMEMBERED) this.finished.delete(this.finished.values().next().value!);
    this.pending = this.pending.filter((other) => other !== job);
    this.attempts.delete(job.key);
    this.keyBlockedUntil.delete(job.key);
    this.reportDepth();
    if (this.pending.length === 0 && this.staged.size === 0) {
      this.resolveIdleWaiters();
      if (this.options.journal.size > (this.options.compactAfterLines ?? 1_000)) {
        await this.options.journal.compact(() => [...new Set([...this.pending, ...this.staged])]);
      }
    }
  }

  private resolveIdleWaiters(): void {
    if (this.pending.length > 0 || this.staged.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Wakes the loop; remembered if it is not asleep yet, so a wake-up is never lost. */
  private kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        this.kicked = false;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        if (this.wake === wake) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.wake = wake;
    });
  }

  private reportDepth(): void {
    this.options.onDepth?.(this.pending.length);
  }
}
