import type { DeploymentView } from './types.js';

export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';

export interface RolloutProgress {
  desired: number;
  /** Pods of the old and new ReplicaSets together (`status.replicas`). */
  total: number;
  updated: number;
  ready: number;
  available: number;
}

export type RolloutState = 'waiting' | 'done' | 'failed';

export interface RolloutStatus {
  state: RolloutState;
  /** kubectl's line for this state. */
  message: string;
  progress: RolloutProgress;
}

/**
 * `kubectl rollout status` for a Deployment (kubectl's `DeploymentStatusViewer.Status`): nothing
 * counts until the controller has observed the latest generation; then ProgressDeadlineExceeded is
 * a failure; then it waits for updated ≥ desired, no old replicas left, and every updated one available.
 */
export function rolloutStatus(deployment: DeploymentView): RolloutStatus {
  const s = deployment.status;
  const progress: RolloutProgress = {
    desired: deployment.replicas ?? 1,
    total: s.replicas ?? 0,
    updated: s.updatedReplicas ?? 0,
    ready: s.readyReplicas ?? 0,
    available: s.availableReplicas ?? 0,
  };
  const name = deployment.name;
  const waiting = (message: string): RolloutStatus => ({ state: 'waiting', message, progress });
  if ((deployment.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return waiting('Waiting for deployment spec update to be observed...');
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === TIMED_OUT_REASON) {
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline`, progress };
  }
  // kubectl compares with spec.replicas only when it is set; the API always sets it.
  if (deployment.replicas !== undefined && progress.updated < deployment.replicas) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${progress.updated} out of ${deployment.replicas} new replicas have been updated...`,
    );
  }
  if (progress.total > progress.updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${progress.total - progress.updated} old replicas are pending termination...`,
    );
  }
  if (progress.available < progress.updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${progress.available} of ${progress.updated} updated replicas are available...`,
    );
  }
  return { state: 'done', message: `deployment "${name}" successfully rolled out`, progress };
}

/** A bar of `width` cells for `part` of `whole` (e.g. `▓▓▓▓░░░░░░`). */
export function progressBar(part: number, whole: number, width = 10): string {
  const ratio = whole <= 0 ? 1 : Math.min(1, Math.max(0, part / whole));
  const filled = Math.round(ratio * width);
  return `${'▓'.repeat(filled)}${'░'.repeat(width - filled)}`;
}
