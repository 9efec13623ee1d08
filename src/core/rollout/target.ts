import { controlledBy, revisionOf, templatesEqualIgnoringHash } from './revisions.js';
import type { DeploymentView, ReplicaSetView } from './types.js';

export type RollbackTarget =
  | { kind: 'target'; replicaSet: ReplicaSetView; revision: number }
  /** kubectl: "you cannot rollback a paused deployment; resume it first…" */
  | { kind: 'paused' }
  /** kubectl: "no rollout history found for deployment …" (no second revision). */
  | { kind: 'no-history' }
  /** kubectl: "unable to find specified revision N in history". */
  | { kind: 'revision-not-found'; revision: number; available: number[] }
  /** kubectl: "skipped rollback (current template already matches revision N)". */
  | { kind: 'already-current'; revision: number };

/**
 * The ReplicaSet `kubectl rollout undo [--to-revision N]` restores (kubectl's
 * `DeploymentRollbacker.Rollback` and `deploymentRevision`): a paused Deployment is refused; with no
 * revision (0) the second-highest revision among the ReplicaSets the Deployment controls is taken;
 * a revision whose template already matches the Deployment's is skipped.
 */
export function chooseRollbackTarget(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
  toRevision = 0,
): RollbackTarget {
  if (!Number.isInteger(toRevision) || toRevision < 0) {
    return {
      kind: 'revision-not-found',
      revision: toRevision,
      available: available(deployment, replicaSets),
    };
  }
  if (deployment.paused) return { kind: 'paused' };
  let latest: { rs: ReplicaSetView; revision: number } | undefined;
  let previous: { rs: ReplicaSetView; revision: number } | undefined;
  let chosen: { rs: ReplicaSetView; revision: number } | undefined;
  for (const rs of controlledBy(deployment, replicaSets)) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    if (toRevision === 0) {
      if (!latest || latest.revision < revision) {
        previous = latest;
        latest = { rs, revision };
      } else if (!previous || previous.revision < revision) {
        previous = { rs, revision };
      }
    } else if (revision === toRevision) {
      chosen = { rs, revision };
      break;
    }
  }
  if (toRevision > 0 && !chosen) {
    return {
      kind: 'revision-not-found',
      revision: toRevision,
      available: available(deployment, replicaSets),
    };
  }
  const target = toRevision > 0 ? chosen : previous;
  if (!target) return { kind: 'no-history' };
  if (templatesEqualIgnoringHash(target.rs.template, deployment.template)) {
    return { kind: 'already-current', revision: target.revision };
  }
  return { kind: 'target', replicaSet: target.rs, revision: target.revision };
}

function available(deployment: DeploymentView, replicaSets: readonly ReplicaSetView[]): number[] {
  return controlledBy(deployment, replicaSets)
    .map(revisionOf)
    .filter((revision): revision is number => revision !== undefined && revision > 0)
    .sort((a, b) => a - b);
}
