import { randomUUID } from 'node:crypto';
import {
  type ConfirmationResult,
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
import type { StatusPage } from '../ports/status-page.js';
import type { ClusterServices } from './cluster-services.js';
import type { ConfirmationOutcome } from './confirmations.js';

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
  /** Where a status-update step's text goes (the webhooks of `notify.webhooks`); absent: by hand. */
  statusPage?: StatusPage;
  now: () => Date;
  newId?: () => string;
}

export type StartOutcome =
  | { kind: 'started'; run: StoredRun; link: string }
  | { kind: 'busy'; run: StoredRun; link: string };

export type AbortOutcome = { kind: 'aborted'; run: StoredRun; link: string } | { kind: 'none' };

/** What the clicker is told (only them); undefined when the updated messages say it all. */
export type ClickAnswer = string | undefined;

/** The `kind` of the confirmations a runbook step opens (see `Confirmations.onSettled`). */
export const RUNBOOK_STEP_OPENER = 'runbook-step';

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
      return { next: withoutOldRuns({ ...runs, [run.id]: stored }), result: { kind: 'new', stored } };
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
      if (stored.run.aborted) {
        return `This run was aborted by <@${stored.run.aborted.by}>; nothing was changed. Start it again with \`/runbook run\`.`;
      }
      return isComplete(stored.run)
        ? 'This run is already complete; nothing was changed.'
        : `This step is not the current one (it is ${settled?.status ?? 'unknown'}${who}); nothing was changed.`;
    }
    const step = runbook.steps[index];
    if (!step) return 'This runbook changed since the run started; start it again.';
    return { stored, runbook, step };
  }

  /**
   * Done or Skip on the current step. Done is taken only where it is offered: on a manual step,
   * or once the step says Done may be clicked (its change was made directly, or its check has to
   * be made by hand). A step whose action needs a confirmation is done by that confirmation.
   */
  async settle(
    id: string,
    index: number,
    type: 'done' | 'skip' | 'fail',
    user: string,
    note?: string,
  ): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    if (type === 'done' && found.step.kind !== 'manual' && !found.stored.run.steps[index]?.doneOffered) {
      return found.step.kind === 'check' || found.step.kind === 'rollout-status'
        ? 'Done is offered once the check has run or has to be made by hand: use its button first, or Skip. Nothing was changed.'
        : 'This step is done by its action: Do it (a change that needs a confirmation is done once it is confirmed and succeeds), or Skip. Nothing was changed.';
    }
    return this.apply(id, { type, step: index, by: user, at: this.deps.now().toISOString(), note });
  }

  /**
   * A reference for a confirmation the current step is about to open: `<run>:<step>:<nonce>`, so an
   * outcome names the very confirmation (a second Do it opens another one).
   */
  confirmationRef(id: string, index: number): string {
    return `${id}:${index}:${randomUUID().slice(0, 8)}`;
  }

  /** Do it opened the confirmation `ref` (recorded): the step stays current and waits for it. */
  async opened(id: string, index: number, ref: string, user: string, command: string): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    return this.apply(id, {
      type: 'opened',
      step: index,
      ref,
      by: user,
      at: this.deps.now().toISOString(),
      note: `Confirmation of \`${command}\` opened. This step is done once that confirmation is executed and succeeds; cancelled, failed or expired, it stays to do.`,
    });
  }

  /** Do it made the change directly (no confirmation was needed): the step offers Done. */
  async acted(id: string, index: number, answer: string): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    const { text } = resultOf(answer);
    return this.apply(id, {
      type: 'note',
      step: index,
      note: `Made directly (no confirmation needed): ${text}\nClick Done once it has taken effect, or Skip.`,
      offerDone: true,
    });
  }

  /**
   * How a confirmation a step opened ended (the `Confirmations.onSettled` listener for
   * `RUNBOOK_STEP_OPENER`): executed → the step is done, linked to the result; otherwise it stays
   * to do, saying why. A reference the run does not wait for changes nothing.
   */
  async confirmationSettled(ref: string, outcome: ConfirmationOutcome): Promise<void> {
    const match = /^(.+):(\d{1,4}):([0-9a-f]{8})$/.exec(ref);
    if (!match) return;
    const id = match[1]!;
    const step = Number(match[2]);
    const at = new Date(outcome.at).toISOString();
    const result: ConfirmationResult = outcome.kind;
    const base = { type: 'confirmation' as const, step, ref, result, at };
    switch (outcome.kind) {
      case 'executed': {
        const { text, link } = resultOf(outcome.text);
        await this.apply(id, { ...base, by: outcome.by, note: text, ...(link ? { link } : {}) });
        return;
      }
      case 'failed':
        await this.apply(id, {
          ...base,
          by: outcome.by,
          note: `:x: The confirmed action failed: ${resultOf(outcome.reason).text}\nThe step is still to do: Do it again, or Skip.`,
        });
        return;
      case 'cancelled':
        await this.apply(id, {
          ...base,
          by: outcome.by,
          note: 'The confirmation was cancelled; nothing was changed. The step is still to do: Do it again, or Skip.',
        });
        return;
      case 'expired':
        await this.apply(id, {
          ...base,
          note: 'The confirmation expired before it was confirmed; nothing was changed. The step is still to do: Do it again, or Skip.',
        });
        return;
    }
  }

  /** `/runbook abort`: ends the run of `runbook` in progress, if there is one. */
  async abort(runbook: Runbook, user: string): Promise<AbortOutcome> {
    const at = this.deps.now().toISOString();
    const changed = await this.deps.store.update((runs) => {
      const active = Object.values(runs).find(
        (stored) => stored.run.runbook === runbook.name && !isComplete(stored.run),
      );
      if (!active) return { next: runs, result: undefined };
      const updated = { ...active, run: next(active.run, { type: 'abort', by: user, at }) };
      return { next: { ...runs, [active.run.id]: updated }, result: { before: active, after: updated } };
    });
    if (!changed) return { kind: 'none' };
    await this.refresh(changed.before, changed.after);
    return { kind: 'aborted', run: changed.after, link: permalink(changed.after) };
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
        note: ':warning: No Prometheus is configured (`PROMETHEUS_URL`), so I cannot run this query. Check it by hand, then click Done (or Skip).',
        offerDone: true,
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
        note: `:warning: The query did not run: ${reason}. Run it again, or check it by hand and click Done (or Skip).`,
        offerDone: true,
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
        note: ':warning: No Kubernetes cluster is configured, so I cannot show the rollout. Check it by hand, then click Done (or Skip).',
        offerDone: true,
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
          : { type: 'note', step: index, note, offerDone: true },
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return this.apply(id, {
        type: 'note',
        step: index,
        note: `:warning: The cluster did not answer: ${reason}. Try again, or check it by hand and click Done (or Skip).`,
        offerDone: true,
      });
    }
  }

  /**
   * Send update: the step's text as a `status-update` event to every webhook that takes it. Done once
   * the deliveries are recorded (the outbox sends and retries them; each is in the delivery record).
   * With no such webhook, the update has to be made by hand: the step says so and offers Done.
   */
  async statusUpdate(id: string, index: number, user: string): Promise<ClickAnswer> {
    const found = await this.currentOf(id, index);
    if (typeof found === 'string') return found;
    if (found.step.kind !== 'status-update') return 'This step has no status update to send.';
    const targets = this.deps.statusPage ? await this.deps.statusPage.statusUpdate(found.step.text, user) : 0;
    if (targets === 0) {
      return this.apply(id, {
        type: 'note',
        step: index,
        note: ':warning: No webhook takes status updates (`notify.webhooks` with the `status-update` event), so nothing was sent. Update the status page by hand, then click Done (or Skip).',
        offerDone: true,
      });
    }
    return this.apply(id, {
      type: 'done',
      step: index,
      by: user,
      at: this.deps.now().toISOString(),
      note: `Status update queued for ${targets} webhook${targets === 1 ? '' : 's'}: “${found.step.text}”`,
    });
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

/** A link to a Slack message, as the bot's own answers write them. */
const SLACK_LINK = /<(https:\/\/slack\.com\/archives\/[A-Z0-9]+\/p\d+)(?:\|([^>]*))?>/;

/**
 * An action's answer as a step's result: its words without Slack markup (the step shows them
 * escaped), and the first link to a Slack message in it (a rollback's thread), kept as the link.
 */
export function resultOf(answer: string): { text: string; link?: string } {
  const link = SLACK_LINK.exec(answer)?.[1];
  const text = answer.replace(/<([^<>|]*)\|([^<>]*)>/g, '$2').replace(/<([^<>]*)>/g, '$1');
  return link ? { text, link } : { text };
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

/** Finished runs kept (the newest): the record stays bounded, as a state object in the cluster must. */
export const FINISHED_RUNS_KEPT = 200;

/** The runs with only the newest FINISHED_RUNS_KEPT finished ones; running ones are always kept. */
export function withoutOldRuns(runs: RunbookRuns): RunbookRuns {
  const finished = Object.values(runs)
    .filter((stored) => isComplete(stored.run))
    .sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt));
  const drop = finished.slice(0, Math.max(0, finished.length - FINISHED_RUNS_KEPT));
  if (drop.length === 0) return runs;
  const next = { ...runs };
  for (const stored of drop) delete next[stored.run.id];
  return next;
}
