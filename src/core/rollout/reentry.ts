import { controlledBy, imagesOf, revisionOf, templatesEqualIgnoringHash } from './revisions.js';
import { type DeploymentView, REVISION_HISTORY_ANNOTATION, type ReplicaSetView } from './types.js';

/**
 * Safe rollback targets. `kubectl rollout undo` takes the second-highest revision, so an undo of an
 * undo brings back the very build that was just removed. Here a revision that a rollback moved away
 * from (recently) is skipped by the default target; the person is told, and can still name it.
 */

/** A rollback the bot made, as its audit keeps it. */
export interface RollbackRecord {
  deployment: string;
  /** The revision and ReplicaSet the Deployment ran before. */
  fromRevision: number;
  fromReplicaSet: string;
  fromImages: string[];
  toRevision: number;
  at: string;
  by: string;
  /** Why, as the operator said it (absent in records before the incident timeline). */
  reason?: string;
  /** The rollback's thread in Slack, once posted (the incident timeline links to it). */
  thread?: { channel: string; ts: string };
}

/** A ReplicaSet, still at the revision it had, that a rollback moved the Deployment away from. */
export interface Rollaway {
  revision: number;
  replicaSet: string;
  /** The revision the Deployment went to (the re-used ReplicaSet's new revision). */
  toRevision: number;
  /** `bot`: in the bot's audit (time and person known); `cluster`: read from the revision history. */
  source: 'bot' | 'cluster';
  by?: string;
  /** When, exactly (the bot's audit). */
  at?: string;
  /** When not known exactly: it happened before this (a ReplicaSet created after it). */
  notAfter?: string;
}

/** The revisions a ReplicaSet has had: the `revision-history` annotation, then its current revision. */
export function revisionsOf(rs: ReplicaSetView): number[] {
  const current = revisionOf(rs);
  const history = (rs.annotations[REVISION_HISTORY_ANNOTATION] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^\d+$/.test(part))
    .map(Number);
  return current === undefined ? history : [...history, current];
}

/**
 * Every ReplicaSet a rollback moved away from and that has not been brought back since. The
 * Deployment controller gives a re-used ReplicaSet the next revision and records its old one in
 * `revision-history`: re-use at revision x means revision x−1, then running, was left. The bot's
 * audit adds who and when for the rollbacks it made.
 */
export function findRollaways(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
  audit: readonly RollbackRecord[],
): Rollaway[] {
  const owned = controlledBy(deployment, replicaSets).filter((rs) => revisionOf(rs) !== undefined);
  const byCurrent = new Map<number, ReplicaSetView>();
  for (const rs of owned) byCurrent.set(revisionOf(rs)!, rs);
  const created = owned.map((rs) => ({ first: revisionsOf(rs)[0] ?? 0, at: rs.createdAt }));
  const found = new Map<string, Rollaway>();

  for (const rs of owned) {
    for (const reuse of revisionsOf(rs).slice(1)) {
      const left = byCurrent.get(reuse - 1);
      if (!left || left === rs) continue;
      // It happened before any ReplicaSet created at a later revision.
      const notAfter = created
        .filter((c) => c.first > reuse && c.at !== undefined)
        .map((c) => c.at!)
        .sort()[0];
      found.set(left.name, {
        revision: reuse - 1,
        replicaSet: left.name,
        toRevision: reuse,
        source: 'cluster',
        ...(notAfter ? { notAfter } : {}),
      });
    }
  }
  for (const record of audit) {
    if (record.deployment !== deployment.name) continue;
    const left = byCurrent.get(record.fromRevision);
    if (!left || left.name !== record.fromReplicaSet) continue;
    const known = found.get(left.name);
    if (known?.at && known.at >= record.at) continue;
    found.set(left.name, {
      revision: record.fromRevision,
      replicaSet: left.name,
      toRevision: known?.toRevision ?? record.toRevision,
      source: 'bot',
      by: record.by,
      at: record.at,
    });
  }
  return [...found.values()].sort((a, b) => b.revision - a.revision);
}

/**
 * Whether a rollaway happened within the window before `now`. An exact time decides; otherwise a
 * later ReplicaSet's creation bounds it; with neither it counts as recent (fail safe).
 */
export function withinWindow(rollaway: Rollaway, now: number, windowMs: number): boolean {
  if (rollaway.at) return now - Date.parse(rollaway.at) <= windowMs;
  if (rollaway.notAfter) return now - Date.parse(rollaway.notAfter) <= windowMs;
  return true;
}

export interface SkippedRevision {
  revision: number;
  replicaSet: string;
  images: string[];
  rollaway: Rollaway;
}

export type SafeTarget =
  | { kind: 'target'; replicaSet: ReplicaSetView; revision: number; skipped: SkippedRevision[] }
  | { kind: 'paused' }
  /** No revision but the current one. */
  | { kind: 'no-history' }
  /** Every earlier revision was rolled away from within the window. */
  | { kind: 'nothing-safe'; skipped: SkippedRevision[] };

/**
 * The default rollback target: the newest earlier revision (the ReplicaSets the Deployment controls,
 * the current template left out) that no rollback moved away from within `windowMs`.
 */
export function chooseSafeTarget(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
  rollaways: readonly Rollaway[],
  now: number,
  windowMs: number,
): SafeTarget {
  if (deployment.paused) return { kind: 'paused' };
  const recent = new Map(
    rollaways.filter((r) => withinWindow(r, now, windowMs)).map((r) => [r.replicaSet, r] as const),
  );
  const candidates = controlledBy(deployment, replicaSets)
    .flatMap((rs) => {
      const revision = revisionOf(rs);
      return revision === undefined ? [] : [{ rs, revision }];
    })
    .filter(({ rs }) => !templatesEqualIgnoringHash(rs.template, deployment.template))
    .sort((a, b) => b.revision - a.revision || a.rs.name.localeCompare(b.rs.name));
  if (candidates.length === 0) return { kind: 'no-history' };
  const skipped: SkippedRevision[] = [];
  for (const { rs, revision } of candidates) {
    const rollaway = recent.get(rs.name);
    if (!rollaway) return { kind: 'target', replicaSet: rs, revision, skipped };
    skipped.push({ revision, replicaSet: rs.name, images: imagesOf(rs.template), rollaway });
  }
  return { kind: 'nothing-safe', skipped };
}

/** The rollaway of the ReplicaSet at this revision within the window, if any: a named target warns. */
export function rollawayOf(
  replicaSet: ReplicaSetView,
  rollaways: readonly Rollaway[],
  now: number,
  windowMs: number,
): Rollaway | undefined {
  return rollaways.find((r) => r.replicaSet === replicaSet.name && withinWindow(r, now, windowMs));
}
