import { randomUUID } from 'node:crypto';
import {
  currentStep,
  isComplete,
  next,
  type RunbookRun,
  type RunEvent,
  startRun,
} from '../core/runbooks/run.js';
import { findRunbook, type Runbook, type RunbookStep } from '../core/runbooks/runbook.js';
import type { Chat } from '../ports/chat.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { PrometheusQuery, QueryResult } from '../ports/prometheus.js';
import type { ClusterServices } from './cluster-services.js';

export type { PrometheusQuery, QueryResult } from '../ports/prometheus.js';

/** A run and where it lives in Slack: the top-level message and one thread message per step. */
export interface StoredRun {
  run: RunbookRun;
  channel: string;
  ts: string;
  stepTs: string[];
}

export type RunbookRuns = Record<string, StoredRun>;

export interface RunbookServiceDeps {
  runbooks: readonly Runbook[];
  store: DocumentStore<RunbookRuns>;
  chat: Chat;
  channel: string;
  prometheus?: PrometheusQuery;
  cluster?: ClusterServices;
  now: () => Date;
  newId?: () => string;
}

export type StartOutcome =
  | { kind: 'started'; run: StoredRun; link: string }
  | { kind: 'busy'; run: StoredRun; link: string };

/** What the clicker is told (only them); undefined when the updated messages say it all. */
export type ClickAnswer = string | undefined;

/** `/runbook run`: walks a runbook step by step in a thread, one message per step, kept durably. */
export class RunbookService {
  private readonly newId: () => string;

  constructor(private readonly deps: RunbookServiceDeps) {
    this.newId = deps.newId ?? (() => randomUUID().slice(0, 12));
  }

  find(name: string): Runbook | undefined {
    return findRunbook(this.deps.runbooks, name);
  }

  get names(): string[] {
    return this.deps.runbooks.map((runbook) => runbook.name);
  }

  async get(id: string): Promise<StoredRun | undefined> {
    return (await this.deps.store.read())[id];
  }

  /**
   * Starts a run, or points at the one of the same runbook still in progress (one at a time). With
   * `where.threadTs` (an alert's message), the run's messages go in that thread instead of a new one.
   */
  async start(runbook: Runbook, user: string, where?: { threadTs?: string }): Promise<StartOutcome> {
    const at = this.deps.now().toISOString();
    const claimed = await this.deps.store.update<{ kind: 'busy' | 'new'; stored: StoredRun }>((runs) => {
      const active = Object.values(runs).find(
        (stored) => stored.run.runbook === runbook.name && !isComplete(stored.run),
      );
      if (active) return { next: runs, result: { kind: 'busy', stored: active } };
      const run = startRun(this.newId(), runbook.name, runbook.steps.length, user, at);
      const stored: StoredRun = { run, channel: this.deps.channel, ts: '', stepTs: [] };
      return { next: { ...runs, [run.id]: stored }, result: { kind: 'new', stored } };
    });
    if (claimed.kind === 'busy') {
      return { kind: 'busy', run: claimed.stored, link: permalink(claimed.stored) };
    }
    const { run } = claimed.stored;
    try {
      const top = await this.deps.chat.post(this.deps.channel, {
        kind: 'runbook-header',
        runbook,
        run,
        now: at,
        ...(where?.threadTs && { threadTs: where.threadTs }),
      });
      await this.save(run.id, (stored) => ({ ...stored, channel: top.channel, ts: top.ts }));
      const stepTs: string[] = [];
      for (const index of runbook.steps.keys()) {
        const posted = await this.deps.chat.post(top.channel, {
          kind: 'runbook-step',
          runbook,
          run,
          index,
          threadTs: where?.threadTs ?? top.ts,
        });
        stepTs.push(posted.ts);
        await this.save(run.id, (stored) => ({ ...stored, stepTs: [...stepTs] }));
      }
    } catch (error) {
      // Not posted in full: forget the run, so the runbook can be started again.
      await this.deps.store.update((runs) => {
        const { [run.id]: _dropped, ...rest } = runs;
        return { next: rest, result: undefined };
      });
      throw error;
    }
    const stored = (await this.get(run.id))!;
    return { kind: 'started', run: stored, link: permalink(stored) };
  }

  /** The step a click names, if it is the current one of a run in progress. */
  async currentOf(
    id: string,
    index: number,
  ): Promise<{ stored: StoredRun; runbook: Runbook; step: RunbookStep } | string> {
    const stored = await this.get(id);
    const runbook = stored && this.find(stored.run.runbook);
    if (!stored || !runbook) return 'I no longer know this runbook run. Start it again with `/runbook run`.';
    if (currentStep(stored.run) !== index) {
      const settled = stored.run.steps[index];
      // An ID the bot recorded from a signed click: a Slack user, shown to the clicker only.
      const who = settled?.by ? ` by <@${settled.by}>` : '';
      return isComplete(stored.run)
        ? 'This run is already complete; nothing was changed.'
        : `This step is not the current one (it is ${settled?.status ?? 'unknown'}${who}); nothing was changed.`;
    }
    const step = runbook.steps[index];
    if (!step) return 'This runbook changed since the run started; start it again.';
    return { stored, runbook, step };
  }

  /** Done or Skip on the current step. */
  async settle(
    id: string,
    index: number,
    type: 'done' | 'skip' | 'fail',
    user: string,
    note?: string,
  ): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    return this.apply(id, { type, step: index, by: user, at: this.deps.now().toISOString(), note });
  }

  /** Run check: the step's query against Prometheus; the person judges the value against `expect`. */
  async check(id: string, index: number, user: string): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    if (found.step.kind !== 'check') return 'This step has no query to run.';
    if (!this.deps.prometheus) {
      return this.apply(id, {
        type: 'note',
        step: index,
        note: ':warning: No Prometheus is configured (`PROMETHEUS_URL`), so I cannot run this query. Check it by hand, then Skip.',
      });
    }
    try {
      const result = await this.deps.prometheus.query(found.step.query);
      return this.apply(id, {
        type: 'done',
        step: index,
        by: user,
        at: this.deps.now().toISOString(),
        note: `${formatQueryResult(result)}\nExpected: ${found.step.expect}`,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return this.apply(id, {
        type: 'note',
        step: index,
        note: `:warning: The query did not run: ${reason}. Run it again, or Skip.`,
      });
    }
  }

  /** Rollout status: the Deployment as `/rollback deployment` lists it, when a cluster is configured. */
  async rolloutStatus(id: string, index: number, user: string): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    if (found.step.kind !== 'rollout-status') return 'This step has no Deployment to look at.';
    const cluster = this.deps.cluster;
    if (!cluster) {
      return this.apply(id, {
        type: 'note',
        step: index,
        note: ':warning: No Kubernetes cluster is configured, so I cannot show the rollout. Check it by hand, then Skip.',
      });
    }
    const name = found.step.deployment;
    try {
      const rows = await cluster.rollback.listDeployments();
      const row = rows.find((candidate) => candidate.name === name);
      const note = row
        ? `\`${row.name}\` revision ${row.revision ?? '?'}: ${row.ready}/${row.desired} ready, rollout ${row.state}${row.paused ? ' (paused)' : ''}`
        : `There is no Deployment \`${name}\` in \`${cluster.namespace}\`.`;
      return this.apply(
        id,
        row
          ? { type: 'done', step: index, by: user, at: this.deps.now().toISOString(), note }
          : { type: 'note', step: index, note },
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return this.apply(id, {
        type: 'note',
        step: index,
        note: `:warning: The cluster did not answer: ${reason}`,
      });
    }
  }

  private async apply(id: string, event: RunEvent): Promise<ClickAnswer> {
    const changed = await this.deps.store.update((runs) => {
      const stored = runs[id];
      if (!stored) return { next: runs, result: undefined };
      const run = next(stored.run, event);
      if (run === stored.run) return { next: runs, result: undefined };
      const updated = { ...stored, run };
      return { next: { ...runs, [id]: updated }, result: { before: stored, after: updated } };
    });
    if (!changed) return 'Someone else settled this step first; nothing was changed.';
    await this.refresh(changed.before, changed.after);
    return undefined;
  }

  /**
   * Updates the messages of the steps whose state changed, and the top-level message: handed over
   * together, in the run's thread, so they are recorded at once and reach Slack in step order.
   */
  private async refresh(before: StoredRun, after: StoredRun): Promise<void> {
    const runbook = this.find(after.run.runbook);
    if (!runbook) return;
    const updates: Promise<void>[] = [];
    const threadTs = after.ts || undefined;
    for (const index of runbook.steps.keys()) {
      const ts = after.stepTs[index];
      if (!ts || JSON.stringify(before.run.steps[index]) === JSON.stringify(after.run.steps[index])) continue;
      updates.push(
        this.deps.chat.update(after.channel, ts, {
          kind: 'runbook-step',
          runbook,
          run: after.run,
          index,
          threadTs,
        }),
      );
    }
    if (after.ts) {
      const now = this.deps.now().toISOString();
      updates.push(
        this.deps.chat.update(after.channel, after.ts, {
          kind: 'runbook-header',
          runbook,
          run: after.run,
          now,
        }),
      );
    }
    const results = await Promise.allSettled(updates);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async save(id: string, change: (stored: StoredRun) => StoredRun): Promise<void> {
    await this.deps.store.update((runs) => {
      const stored = runs[id];
      return stored
        ? { next: { ...runs, [id]: change(stored) }, result: undefined }
        : { next: runs, result: undefined };
    });
  }
}

/** A link to a message (Slack redirects it to the workspace). */
export function permalink(stored: Pick<StoredRun, 'channel' | 'ts'>): string {
  return `https://slack.com/archives/${stored.channel}/p${stored.ts.replace('.', '')}`;
}

/** A query result as lines: `no data`, a scalar, or one line per series (the first 10). Plain text. */
export function formatQueryResult(result: QueryResult): string {
  if (result.kind === 'scalar') return `Result: \`${result.value}\``;
  if (result.samples.length === 0) return 'Result: no data (the query returned no series)';
  const lines = result.samples.slice(0, 10).map((sample) => {
    const labels = Object.entries(sample.labels)
      .map(([key, value]) => `${key}="${value}"`)
      .join(', ');
    const series = labels ? `{${labels}}` : '{}';
    return `• \`${series.length > 200 ? `${series.slice(0, 199)}…` : series}\` = \`${sample.value}\``;
  });
  const more = result.samples.length > 10 ? `\n…and ${result.samples.length - 10} more series` : '';
  return `Result:\n${lines.join('\n')}${more}`;
}
