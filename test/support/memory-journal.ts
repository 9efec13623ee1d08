import type { Journal, OutboxJob } from '../../src/adapters/slack/outbox-journal.js';

/** An outbox journal in memory (one replica): what is pending, and every call made to it. */
export class MemoryJournal<P> implements Journal<P> {
  readonly jobs = new Map<string, { job: OutboxJob<P>; done?: { dropped?: string; result?: unknown } }>();

  async replay(): Promise<{ pending: OutboxJob<P>[]; fences: string[] }> {
    const all = [...this.jobs.values()];
    return {
      pending: all.filter((entry) => !entry.done).map((entry) => entry.job),
      fences: all.flatMap((entry) => (entry.job.fence ? [entry.job.fence] : [])),
    };
  }

  /** As a shared journal does: says which of the jobs it already held as finished. */
  async enqueued(jobs: readonly OutboxJob<P>[]): Promise<string[]> {
    const finished = jobs.filter((job) => this.jobs.get(job.id)?.done).map((job) => job.id);
    for (const job of jobs) if (!this.jobs.has(job.id)) this.jobs.set(job.id, { job });
    return finished;
  }

  async done(id: string, dropped?: string, result?: unknown): Promise<void> {
    const entry = this.jobs.get(id);
    if (entry) entry.done = { ...(dropped !== undefined && { dropped }), result };
  }

  async compact(): Promise<void> {}

  get size(): number {
    return 0;
  }

  pendingIds(): string[] {
    return [...this.jobs.values()].filter((entry) => !entry.done).map((entry) => entry.job.id);
  }
}
