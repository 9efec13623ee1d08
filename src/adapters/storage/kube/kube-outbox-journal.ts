import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../logger.js';
import type { Journal, OutboxJob } from '../../slack/outbox-journal.js';
import {
  bySequence,
  DEFAULT_OUTBOX_RETENTION_MS,
  DONE_KEY,
  type DoneRecord,
  JOB_KEY,
  JOB_STATE_LABEL,
  type JobObject,
  MAX_RESULT_BYTES,
  OUTBOX_JOB_KIND,
  OUTBOX_LABEL,
  OutboxJobDropped,
  type OutboxQueue,
  outboxJobName,
  parseJobObject,
  SEQ_KEY,
} from './outbox-job-object.js';
import { ConfigMapWatch } from './outbox-job-watch.js';
import { KubeStateObjects, StateConflict, type StateObject, selectorOf } from './state-objects.js';

export { DEFAULT_OUTBOX_RETENTION_MS, OutboxJobDropped, type OutboxQueue, outboxJobName };

export interface KubeOutboxJournalOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  queue: OutboxQueue;
  log: Logger;
  /** The backend's objects client, when it has one already. */
  objects?: KubeStateObjects;
  retentionMs?: number;
  now?: () => number;
  /** Wait before listing again after a failed watch. */
  watchRetryMs?: number;
}

/**
 * The outbox's journal shared by every replica: one ConfigMap per job (`outbox-job` objects labelled
 * with their queue and state). Any replica enqueues; the leader sends and marks jobs done, with their
 * result, which the replica that enqueued a job reads back. Finished jobs are kept for a retention
 * (their fencing keys count, and late readers find their result), then pruned.
 */
export class KubeOutboxJournal<P> implements Journal<P> {
  private readonly objects: KubeStateObjects;
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly selector: string;
  private counter = 0;
  /** Created here: not reported to this replica's `follow` (its outbox has them already). */
  private readonly mine = new Set<string>();
  /** Finished (seen done, or marked done here): never reported as pending again, even by a late event. */
  private readonly knownDone = new Set<string>();
  /** Being created: a job finished before its object exists is created done (see `done`). */
  private readonly creating = new Map<string, { job: OutboxJob<P>; seq: string }>();
  private readonly followers = new Set<(jobs: OutboxJob<P>[]) => void>();
  private readonly waiters = new Map<
    string,
    Array<{ resolve: (result: unknown) => void; reject: (error: unknown) => void }>
  >();
  private watch: ConfigMapWatch | undefined;
  private doneSincePrune = 0;
  private lastPruneAt: number;

  constructor(private readonly options: KubeOutboxJournalOptions) {
    this.objects = options.objects ?? new KubeStateObjects(options.kubeConfig, options.namespace);
    this.now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS;
    this.selector = `${OUTBOX_LABEL}=${options.queue}`;
    this.lastPruneAt = this.now();
  }

  private name(id: string): string {
    return outboxJobName(this.options.queue, id);
  }

  private labels(state: 'pending' | 'done'): Record<string, string> {
    return { [OUTBOX_LABEL]: this.options.queue, [JOB_STATE_LABEL]: state };
  }

  async replay(): Promise<{ pending: OutboxJob<P>[]; fences: string[] }> {
    const pending: Array<JobObject<P> & { job: OutboxJob<P> }> = [];
    const fences = new Set<string>();
    for (const object of await this.objects.list(OUTBOX_JOB_KIND, this.selector)) {
      const parsed = this.parse(object);
      if (!parsed) continue;
      if (parsed.job?.fence) fences.add(parsed.job.fence);
      if (parsed.done) this.knownDone.add(parsed.id);
      else if (parsed.job) pending.push({ ...parsed, job: parsed.job });
    }
    pending.sort(bySequence);
    return { pending: pending.map((entry) => entry.job), fences: [...fences] };
  }

  async enqueued(jobs: readonly OutboxJob<P>[]): Promise<string[]> {
    const finished: string[] = [];
    await Promise.all(
      jobs.map(async (job) => {
        const seq = this.nextSeq();
        this.mine.add(job.id);
        this.creating.set(job.id, { job, seq });
        try {
          await this.objects.create(
            this.name(job.id),
            OUTBOX_JOB_KIND,
            { [JOB_KEY]: JSON.stringify(job), [SEQ_KEY]: seq },
            this.labels('pending'),
          );
        } catch (error) {
          // There already: journalled before (a retry, or another replica with the same id).
          if (!(error instanceof StateConflict)) {
            this.mine.delete(job.id);
            throw error;
          }
          // Already sent (or dropped): the same job queued again must not go a second time.
          const existing = await this.objects.get(this.name(job.id));
          if (existing?.data[DONE_KEY] !== undefined) finished.push(job.id);
        } finally {
          this.creating.delete(job.id);
        }
      }),
    );
    return finished;
  }

  async done(id: string, dropped?: string, result?: unknown): Promise<void> {
    const record: DoneRecord = {
      at: new Date(this.now()).toISOString(),
      id,
      ...(dropped !== undefined && { dropped }),
      ...(result !== undefined && { result }),
    };
    const text = this.doneText(id, record);
    const creating = this.creating.get(id);
    await this.objects.mutate(this.name(id), OUTBOX_JOB_KIND, (current) => {
      if (current?.labels[JOB_STATE_LABEL] === 'done') return { result: undefined };
      // Sent before its object was written (an early job): created done, so its create finds it there.
      const base =
        current?.data ??
        (creating ? { [JOB_KEY]: JSON.stringify(creating.job), [SEQ_KEY]: creating.seq } : {});
      return { data: { ...base, [DONE_KEY]: text }, labels: this.labels('done'), result: undefined };
    });
    this.knownDone.add(id);
    this.mine.delete(id);
    this.doneSincePrune++;
    this.settle(id, record);
    if (this.now() - this.lastPruneAt >= this.retentionMs) {
      this.prune(this.now()).catch((error) =>
        this.options.log.warn({ err: error, queue: this.options.queue }, 'outbox journal: pruning failed'),
      );
    }
  }

  /** The record as JSON; a result too big (or not JSON) is left out rather than failing the job. */
  private doneText(id: string, record: DoneRecord): string {
    try {
      const text = JSON.stringify(record);
      if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
    } catch {}
    this.options.log.warn({ job: id }, 'outbox journal: a job result too big to keep; recorded without it');
    const { result: _left, ...rest } = record;
    return JSON.stringify(rest);
  }

  get size(): number {
    return this.doneSincePrune;
  }

  /** Pending jobs are the API server's to keep: compacting prunes finished jobs past retention. */
  async compact(): Promise<void> {
    await this.prune(this.now());
  }

  /** Deletes finished jobs older than the retention (never a pending one); returns how many. */
  async prune(now: number): Promise<number> {
    this.lastPruneAt = now;
    this.doneSincePrune = 0;
    let pruned = 0;
    const selector = `${this.selector},${JOB_STATE_LABEL}=done`;
    for (const object of await this.objects.list(OUTBOX_JOB_KIND, selector)) {
      const parsed = this.parse(object);
      if (!parsed?.done) continue;
      const at = Date.parse(parsed.done.at);
      if (!(now - at >= this.retentionMs)) continue;
      try {
        if (await this.objects.delete(object.name, object.resourceVersion)) pruned++;
        this.knownDone.delete(parsed.id);
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error;
      }
    }
    return pruned;
  }

  follow(onJobs: (jobs: OutboxJob<P>[]) => void): () => void {
    this.followers.add(onJobs);
    this.watchStarted();
    return () => {
      this.followers.delete(onJobs);
      this.watchMaybeStopped();
    };
  }

  resultOf(id: string): Promise<unknown> {
    const promise = new Promise<unknown>((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
    this.watchStarted();
    // Finished before the watch saw it: read it once (the watch's first list would tell too).
    this.objects.get(this.name(id)).then(
      (object) => object && this.seen([object]),
      () => undefined,
    );
    return promise.finally(() => this.watchMaybeStopped());
  }

  /** Ends the watch (at shutdown): waiting `resultOf`s are left unresolved. */
  async stop(): Promise<void> {
    this.followers.clear();
    const watch = this.watch;
    this.watch = undefined;
    await watch?.stop();
  }

  private watchStarted(): void {
    if (this.watch) return;
    this.watch = new ConfigMapWatch(
      this.options.kubeConfig,
      this.objects.namespace,
      selectorOf(OUTBOX_JOB_KIND, this.selector),
      { seen: (objects) => this.seen(objects), gone: (object) => this.gone(object) },
      this.options.log,
      this.options.watchRetryMs,
    );
    this.watch.start();
  }

  private watchMaybeStopped(): void {
    if (this.followers.size > 0 || this.waiters.size > 0 || !this.watch) return;
    const watch = this.watch;
    this.watch = undefined;
    void watch.stop();
  }

  private seen(objects: StateObject[]): void {
    const fresh: Array<{ job: OutboxJob<P>; seq: string; id: string }> = [];
    for (const object of objects) {
      const parsed = this.parse(object);
      if (!parsed) continue;
      if (parsed.done) {
        this.knownDone.add(parsed.id);
        this.mine.delete(parsed.id);
        this.settle(parsed.id, parsed.done);
      } else if (parsed.job && !this.mine.has(parsed.id) && !this.knownDone.has(parsed.id)) {
        fresh.push({ job: parsed.job, seq: parsed.seq, id: parsed.id });
      }
    }
    if (fresh.length === 0) return;
    fresh.sort(bySequence);
    const jobs = fresh.map((entry) => entry.job);
    for (const follower of this.followers) follower(jobs);
  }

  private gone(object: StateObject): void {
    const parsed = this.parse(object);
    if (!parsed) return;
    // Pruned: nothing can report it again, so it need not be remembered.
    this.knownDone.delete(parsed.id);
    this.mine.delete(parsed.id);
    if (parsed.done) return;
    // Deleted while pending (by hand): nobody will finish it.
    for (const waiter of this.waiters.get(parsed.id) ?? []) {
      waiter.reject(new OutboxJobDropped(parsed.id, 'its outbox object was deleted'));
    }
    this.waiters.delete(parsed.id);
  }

  private settle(id: string, record: DoneRecord): void {
    const waiting = this.waiters.get(id);
    if (!waiting) return;
    this.waiters.delete(id);
    for (const waiter of waiting) {
      if (record.dropped !== undefined) waiter.reject(new OutboxJobDropped(id, record.dropped));
      else waiter.resolve(record.result);
    }
  }

  private parse(object: StateObject): JobObject<P> | undefined {
    try {
      return parseJobObject<P>(object);
    } catch (error) {
      this.options.log.warn(
        { err: error, object: object.name, queue: this.options.queue },
        'outbox journal: an unreadable job object; skipped',
      );
      return undefined;
    }
  }

  private nextSeq(): string {
    this.counter = (this.counter + 1) % 1e9;
    return `${String(this.now()).padStart(15, '0')}-${String(this.counter).padStart(9, '0')}`;
  }
}
