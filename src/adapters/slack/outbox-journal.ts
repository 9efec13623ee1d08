import { Mutex } from 'async-mutex';
import { z } from 'zod';
import { removeStaleTemps, writeFileAtomic } from '../storage/atomic-file.js';
import { JsonLinesLog } from '../storage/json-lines-log.js';
import type { Quarantine } from '../storage/quarantine.js';
import { firstIssue } from '../storage/state-schemas.js';

/** One queued Slack job. `key` orders jobs (one alert group); `fence` is an escalation's fencing key. */
export interface OutboxJob<P> {
  id: string;
  key: string;
  /** Higher runs first among the keys that are ready (top-level messages before thread notes). */
  priority: number;
  /** A pending, not yet started job with the same `coalesce` makes this one redundant. */
  coalesce?: string;
  fence?: string;
  payload: P;
}

/**
 * What the Outbox needs of its durable record. The file journal serves one replica; a shared journal
 * (several replicas over one queue in the API server) also reports jobs other replicas enqueue and the
 * results of jobs another replica sent.
 */
export interface Journal<P> {
  /** Pending jobs in enqueue order, and the fencing keys of every job the journal still holds. */
  replay(): Promise<{ pending: OutboxJob<P>[]; fences: string[] }>;
  /** Durable when this resolves. A job already journalled is not an error. */
  /**
   * Journals the jobs. A shared journal resolves with the ids it already held as finished (sent or
   * dropped, by any replica): queued again (a change re-run after a conflict), they must not be sent.
   */
  enqueued(jobs: readonly OutboxJob<P>[]): Promise<readonly string[] | undefined>;
  /** The job is finished: sent (`result`, what the call returned) or dropped (`dropped`, why). */
  done(id: string, dropped?: string, result?: unknown): Promise<void>;
  /** Drops what is no longer needed; `pending()` is what must be kept. */
  compact(pending: () => readonly OutboxJob<P>[]): Promise<void>;
  /** How much the journal has grown since it was last compacted (the Outbox compacts past a bound). */
  readonly size: number;
  /**
   * Shared journals only: jobs enqueued by other replicas, as they appear (a job may be reported again,
   * after the journal re-read its store: ignore ids already known). Returns a stop function.
   */
  follow?(onJobs: (jobs: OutboxJob<P>[]) => void): () => void;
  /** Shared journals only: resolves with a job's result once any replica finished it. */
  resultOf?(id: string): Promise<unknown>;
}

type Entry<P> = { op: 'enqueue'; job: OutboxJob<P> } | { op: 'done'; id: string; dropped?: string };

const entrySchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('enqueue'),
    job: z.looseObject({
      id: z.string().min(1),
      key: z.string(),
      priority: z.number(),
      coalesce: z.string().optional(),
      fence: z.string().optional(),
      payload: z.looseObject({}),
    }),
  }),
  z.object({ op: z.literal('done'), id: z.string().min(1), dropped: z.string().optional() }),
]);

/**
 * The outbox's durable record: an append-only JSON-lines journal of enqueued and done jobs. Appends
 * that arrive while one is being written are written together (one fsync for the lot). Compaction
 * rewrites the file atomically with only the pending jobs.
 */
export class OutboxJournal<P> implements Journal<P> {
  private readonly log: JsonLinesLog<Entry<P>>;
  private readonly mutex = new Mutex();
  private buffer: Array<{ entries: Entry<P>[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing = false;
  private lines = 0;

  constructor(
    private readonly path: string,
    /** Where the journal is kept as it was when it holds damaged lines (they are then dropped). */
    private readonly quarantine?: Quarantine,
  ) {
    this.log = new JsonLinesLog(path, (value) => {
      const parsed = entrySchema.safeParse(value);
      return parsed.success
        ? { ok: true, record: parsed.data as Entry<P> }
        : { ok: false, reason: `not a journal entry (${firstIssue(parsed.error)})` };
    });
  }

  /** Pending jobs in enqueue order, and the fencing keys of every job the journal still holds. */
  async replay(): Promise<{ pending: OutboxJob<P>[]; fences: string[] }> {
    const pending = new Map<string, OutboxJob<P>>();
    const fences = new Set<string>();
    await removeStaleTemps(this.path);
    const { records, damaged } = await this.log.read();
    if (damaged.length > 0) {
      const first = damaged[0]!;
      const reason = `${damaged.length} damaged line(s), first line ${first.line}: ${first.reason}`;
      const outcome = `kept the ${records.length} valid entries; a Slack post whose line was damaged may be missing`;
      if (!this.quarantine) throw new Error(`outbox journal ${this.path}: ${reason}`);
      await this.quarantine.copyFile(this.path, reason, outcome);
    }
    // A job sent while its enqueue line was being written may have its done line first.
    const done = new Set<string>();
    for (const entry of records) {
      if (entry.op === 'enqueue') {
        if (entry.job.fence) fences.add(entry.job.fence);
        if (!pending.has(entry.job.id) && !done.has(entry.job.id)) pending.set(entry.job.id, entry.job);
      } else {
        pending.delete(entry.id);
        done.add(entry.id);
      }
    }
    return { pending: [...pending.values()], fences: [...fences] };
  }

  async enqueued(jobs: readonly OutboxJob<P>[]): Promise<undefined> {
    await this.append(jobs.map((job) => ({ op: 'enqueue', job })));
    return undefined;
  }

  /** The result is not kept: in one process, whoever awaits it is told directly. */
  done(id: string, dropped?: string, _result?: unknown): Promise<void> {
    return this.append([{ op: 'done', id, ...(dropped && { dropped }) }]);
  }

  get size(): number {
    return this.lines;
  }

  /** Replaces the journal with `pending()` (read under the write lock, so no append slips between). */
  compact(pending: () => readonly OutboxJob<P>[]): Promise<void> {
    return this.mutex.runExclusive(async () => {
      const jobs = pending();
      await writeFileAtomic(
        this.path,
        jobs.map((job) => `${JSON.stringify({ op: 'enqueue', job })}\n`).join(''),
      );
      this.lines = jobs.length;
    });
  }

  private append(entries: Entry<P>[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.buffer.push({ entries, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0);
      const entries = batch.flatMap((item) => item.entries);
      try {
        await this.mutex.runExclusive(() => this.log.append(entries));
        this.lines += entries.length;
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.flushing = false;
  }
}
