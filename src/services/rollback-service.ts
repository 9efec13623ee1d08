import { rollbackPatch } from '../core/rollout/patch.js';
import {
  chooseSafeTarget,
  findRollaways,
  type Rollaway,
  type RollbackRecord,
  rollawayOf,
  type SkippedRevision,
} from '../core/rollout/reentry.js';
import type { RolloutResult } from '../core/rollout/result.js';
import { imagesOf, newReplicaSetOf, revisionOf } from '../core/rollout/revisions.js';
import { rolloutStatus } from '../core/rollout/status.js';
import { chooseRollbackTarget } from '../core/rollout/target.js';
import type { DeploymentView } from '../core/rollout/types.js';
import type { Logger } from '../logger.js';
import type { Chat } from '../ports/chat.js';
import type { Cluster } from '../ports/cluster.js';
import type { DocumentStore } from '../ports/document-store.js';
import { DEFAULT_WATCH_TIMING, type WatchTiming, watchRollout } from './rollback-watch.js';

export interface RevisionSummary {
  revision: number | undefined;
  images: string[];
  createdAt?: string;
}

export interface RollbackPlan {
  deployment: string;
  current: RevisionSummary;
  target: RevisionSummary & { revision: number; replicaSet: string };
  /** Newer revisions the default target passed over: a rollback moved away from them recently. */
  skipped: SkippedRevision[];
  /** A named (`--to-revision`) target that a rollback moved away from recently. */
  reentry?: Rollaway;
}

/** The bot's own rollbacks, kept so a later default target does not bring back what one removed. */
export interface RollbackAudit {
  rollbacks: RollbackRecord[];
}

/** Audit records kept (the oldest go first); far more than any reentry window needs. */
const AUDIT_KEEP = 500;

export const DEFAULT_REENTRY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Why a rollback cannot be planned, or the plan. */
export type PlanResult =
  | { kind: 'ready'; plan: RollbackPlan }
  | { kind: 'not-found'; deployment: string }
  | { kind: 'paused'; deployment: string }
  | { kind: 'no-history'; deployment: string }
  /** Every earlier revision was rolled away from within the reentry window. */
  | { kind: 'nothing-safe'; deployment: string; skipped: SkippedRevision[]; windowMs: number; now: number }
  | { kind: 'revision-not-found'; deployment: string; revision: number; available: number[] }
  | { kind: 'already-current'; deployment: string; revision: number };

export type StartResult =
  | Exclude<PlanResult, { kind: 'ready' }>
  /** The Deployment moved on since the confirmation was shown. */
  | { kind: 'moved'; deployment: string; expected: string; now: string }
  | {
      kind: 'started';
      plan: RollbackPlan;
      channel?: string;
      threadTs?: string;
      done: Promise<RolloutResult>;
    };

export interface DeploymentRow {
  name: string;
  revision: number | undefined;
  images: string[];
  ready: number;
  desired: number;
  paused: boolean;
  state: string;
}

export interface RollbackDeps {
  cluster: Cluster;
  chat: Chat;
  /** The incident channel. */
  channel: string;
  log: Logger;
  now: () => Date;
  /** Background work the bot waits for at shutdown. */
  track: <T>(work: Promise<T>) => Promise<T>;
  timing?: Partial<WatchTiming>;
  /** Where the bot's rollbacks are recorded; default in memory only. */
  audit?: DocumentStore<RollbackAudit>;
  /** `rollback.reentryWindow`: how long a revision rolled away from is skipped by the default target. */
  reentryWindowMs?: number;
}

/** `/rollback deployment`: `kubectl rollout undo`, then `kubectl rollout status` reported in a thread. */
export class RollbackService {
  private readonly stopping = new AbortController();
  private readonly timing: WatchTiming;
  private readonly audit: DocumentStore<RollbackAudit>;
  readonly reentryWindowMs: number;

  constructor(private readonly deps: RollbackDeps) {
    this.timing = { ...DEFAULT_WATCH_TIMING, ...deps.timing };
    this.audit = deps.audit ?? memoryAudit();
    this.reentryWindowMs = deps.reentryWindowMs ?? DEFAULT_REENTRY_WINDOW_MS;
  }

  get namespace(): string {
    return this.deps.cluster.namespace;
  }

  /** The bot's clock (ages in the confirmation are counted on it). */
  now(): Date {
    return this.deps.now();
  }

  async listDeployments(): Promise<DeploymentRow[]> {
    const deployments = await this.deps.cluster.listDeployments();
    return deployments
      .map((d) => ({
        name: d.name,
        revision: revisionOf(d),
        images: imagesOf(d.template),
        ready: d.status.readyReplicas ?? 0,
        desired: d.replicas ?? 1,
        paused: d.paused,
        state: rolloutStatus(d).state,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async plan(name: string, toRevision = 0): Promise<PlanResult> {
    const deployment = await this.deps.cluster.readDeployment(name);
    if (!deployment) return { kind: 'not-found', deployment: name };
    return this.planFor(deployment, toRevision);
  }

  /**
   * Rolls back to `revision` (the one the operator confirmed), provided the Deployment is still at
   * `expectedCurrent`; then announces it and watches the rollout in the background.
   */
  async start(
    name: string,
    revision: number,
    expectedCurrent: string,
    requestedBy: string,
    reason?: string,
  ): Promise<StartResult> {
    const deployment = await this.deps.cluster.readDeployment(name);
    if (!deployment) return { kind: 'not-found', deployment: name };
    const now = String(revisionOf(deployment) ?? '?');
    if (now !== expectedCurrent) return { kind: 'moved', deployment: name, expected: expectedCurrent, now };
    const replicaSets = await this.deps.cluster.listReplicaSets(deployment.selector);
    const planned = await this.planWith(deployment, replicaSets, revision);
    if (planned.kind !== 'ready') return planned;
    const target = chooseRollbackTarget(deployment, replicaSets, revision);
    if (target.kind !== 'target') throw new Error('rollback target vanished between plan and patch');
    await this.deps.cluster.patchDeployment(name, rollbackPatch(deployment, target.replicaSet));
    this.deps.log.info({ deployment: name, revision, requestedBy }, 'rolled back; watching the rollout');
    const from = newReplicaSetOf(deployment, replicaSets);
    const fromRevision = revisionOf(deployment);
    let recorded: RollbackRecord | undefined;
    if (from && fromRevision !== undefined) {
      recorded = {
        deployment: name,
        fromRevision: revisionOf(from) ?? fromRevision,
        fromReplicaSet: from.name,
        fromImages: imagesOf(from.template),
        toRevision: revision,
        at: this.deps.now().toISOString(),
        by: requestedBy,
        ...(reason && { reason }),
      };
      await this.record(recorded);
    }

    const where = await this.postThread(name, revision, requestedBy, reason);
    if (recorded && where.channel && where.threadTs)
      await this.linkThread(recorded, { channel: where.channel, ts: where.threadTs });
    const done = this.deps.track(
      watchRollout(
        {
          cluster: this.deps.cluster,
          chat: this.deps.chat,
          log: this.deps.log,
          now: () => this.deps.now().getTime(),
        },
        { deployment: name, revision, ...where },
        this.timing,
        this.stopping.signal,
      ).catch((error: unknown) => {
        this.deps.log.error({ err: error, deployment: name }, 'rollout watch failed');
        throw error;
      }),
    );
    done.catch(() => undefined);
    return { kind: 'started', plan: planned.plan, channel: where.channel, threadTs: where.threadTs, done };
  }

  /** Ends every watch (each posts that it stopped); the tracked work then settles. */
  stopWatching(): void {
    this.stopping.abort();
  }

  private async postThread(name: string, revision: number, requestedBy: string, reason?: string) {
    try {
      const top = await this.deps.chat.post(this.deps.channel, {
        kind: 'rollback-started',
        headline: { deployment: name, revision, requestedBy, reason },
      });
      const progress = await this.deps.chat.post(top.channel, {
        kind: 'rollback-progress',
        deployment: name,
        status: {
          state: 'waiting',
          message: 'Waiting for the rollout to start…',
          progress: { desired: 0, total: 0, updated: 0, ready: 0, available: 0 },
        },
        elapsedMs: 0,
        threadTs: top.ts,
      });
      return { channel: top.channel, threadTs: top.ts, progressTs: progress.ts };
    } catch (error) {
      this.deps.log.error({ err: error }, 'could not post the rollback thread');
      return {};
    }
  }

  /** Kept even when the store fails: the rollback itself was made, and the log says so. */
  private async record(entry: RollbackRecord): Promise<void> {
    // The log stream is the long-term record; the audit document keeps the newest AUDIT_KEEP.
    this.deps.log.info({ rollback: entry }, 'rollback audit');
    try {
      await this.audit.update((audit) => ({
        next: { ...audit, rollbacks: [...audit.rollbacks, entry].slice(-AUDIT_KEEP) },
        result: undefined,
      }));
    } catch (error) {
      this.deps.log.error({ err: error, rollback: entry }, 'could not record the rollback in the audit');
    }
  }

  /** Adds the Slack thread to the record just made (best effort: the rollback is recorded either way). */
  private async linkThread(entry: RollbackRecord, thread: { channel: string; ts: string }): Promise<void> {
    try {
      await this.audit.update((audit) => {
        const index = audit.rollbacks.findLastIndex(
          (r) => r.at === entry.at && r.deployment === entry.deployment && r.by === entry.by,
        );
        if (index < 0) return { next: audit, result: undefined };
        const rollbacks = [...audit.rollbacks];
        rollbacks[index] = { ...rollbacks[index]!, thread };
        return { next: { ...audit, rollbacks }, result: undefined };
      });
    } catch (error) {
      this.deps.log.warn({ err: error }, 'could not link the rollback thread in the audit');
    }
  }

  private async planFor(deployment: DeploymentView, toRevision: number): Promise<PlanResult> {
    const replicaSets = await this.deps.cluster.listReplicaSets(deployment.selector);
    return this.planWith(deployment, replicaSets, toRevision);
  }

  private async planWith(
    deployment: DeploymentView,
    replicaSets: Awaited<ReturnType<Cluster['listReplicaSets']>>,
    toRevision: number,
  ): Promise<PlanResult> {
    const name = deployment.name;
    const audit = await this.audit.read().catch((error: unknown) => {
      this.deps.log.warn(
        { err: error },
        'the rollback audit cannot be read; using the revision history only',
      );
      return { rollbacks: [] };
    });
    const rollaways = findRollaways(deployment, replicaSets, audit.rollbacks);
    const now = this.deps.now().getTime();
    const safe =
      toRevision === 0
        ? chooseSafeTarget(deployment, replicaSets, rollaways, now, this.reentryWindowMs)
        : undefined;
    if (safe?.kind === 'nothing-safe') {
      return {
        kind: 'nothing-safe',
        deployment: name,
        skipped: safe.skipped,
        windowMs: this.reentryWindowMs,
        now,
      };
    }
    const target =
      safe?.kind === 'target'
        ? { kind: 'target' as const, replicaSet: safe.replicaSet, revision: safe.revision }
        : safe?.kind === 'paused' || safe?.kind === 'no-history'
          ? safe
          : chooseRollbackTarget(deployment, replicaSets, toRevision);
    switch (target.kind) {
      case 'paused':
        return { kind: 'paused', deployment: name };
      case 'no-history':
        return { kind: 'no-history', deployment: name };
      case 'revision-not-found':
        return {
          kind: 'revision-not-found',
          deployment: name,
          revision: target.revision,
          available: target.available,
        };
      case 'already-current':
        return { kind: 'already-current', deployment: name, revision: target.revision };
      case 'target': {
        const currentRs = newReplicaSetOf(deployment, replicaSets);
        return {
          kind: 'ready',
          plan: {
            deployment: name,
            current: {
              revision: revisionOf(deployment),
              images: imagesOf(deployment.template),
              createdAt: currentRs?.createdAt,
            },
            target: {
              revision: target.revision,
              images: imagesOf(target.replicaSet.template),
              createdAt: target.replicaSet.createdAt,
              replicaSet: target.replicaSet.name,
            },
            skipped: safe?.kind === 'target' ? safe.skipped : [],
            ...(toRevision > 0
              ? { reentry: rollawayOf(target.replicaSet, rollaways, now, this.reentryWindowMs) }
              : {}),
          },
        };
      }
    }
  }
}

function memoryAudit(): DocumentStore<RollbackAudit> {
  let current: RollbackAudit = { rollbacks: [] };
  return {
    read: async () => current,
    async update(change) {
      const { next, result } = await change(current);
      current = next;
      return result;
    },
  };
}
