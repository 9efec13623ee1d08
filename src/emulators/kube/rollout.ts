/**
 * The Deployment controller's helpers, after `k8s.io/kubernetes/pkg/controller/deployment/util`:
 * template hashes and equality, revisions, surge and unavailability, completeness, progress, deadline,
 * conditions. Pure functions of the objects (and the time).
 */
import { canonicalJson, clone, deepEqual, fnv1a32, isoSeconds, safeEncode } from './json.js';
import {
  type Condition,
  type Deployment,
  type DeploymentStatus,
  type KubeObject,
  type OwnerReference,
  POD_TEMPLATE_HASH_LABEL,
  type PodTemplate,
  REVISION_ANNOTATION,
  type ReplicaSet,
} from './types.js';

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller);
}

export function ownerReference(owner: KubeObject, apiVersion: string): OwnerReference {
  return {
    apiVersion,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function revisionOf(rs: ReplicaSet): number {
  const value = Number(rs.metadata.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(value) ? value : 0;
}

export function withoutHash(template: PodTemplate): PodTemplate {
  const copy = clone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return copy;
}

/** `EqualIgnoreHash`: templates equal apart from the `pod-template-hash` label. */
export function templatesEqual(a: PodTemplate, b: PodTemplate): boolean {
  return deepEqual(withoutHash(a), withoutHash(b));
}

/** `ComputeHash`: FNV-1a of the template, its decimal digits mapped into the safe alphabet. */
export function podTemplateHash(template: PodTemplate): string {
  return safeEncode(String(fnv1a32(canonicalJson(withoutHash(template)))));
}

/** Annotations a Deployment passes to its ReplicaSets (not its own revision bookkeeping). */
export function copiedAnnotations(d: Deployment): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (key.startsWith('deployment.kubernetes.io/')) continue;
    if (key === 'kubectl.kubernetes.io/last-applied-configuration') continue;
    copied[key] = value;
  }
  return copied;
}

export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (typeof value === 'number') return value;
  const percent = Number.parseInt(String(value ?? '25%'), 10);
  const exact = (total * (Number.isNaN(percent) ? 25 : percent)) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function maxSurge(d: Deployment): number {
  if (d.spec.strategy?.type === 'Recreate') return 0;
  return resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, d.spec.replicas ?? 1, true);
}

export function maxUnavailable(d: Deployment): number {
  if (d.spec.strategy?.type === 'Recreate') return 0;
  const desired = d.spec.replicas ?? 1;
  const unavailable = resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, desired, false);
  return unavailable === 0 && maxSurge(d) === 0 ? 1 : Math.min(unavailable, desired);
}

export function isFullyAvailable(rs: ReplicaSet, desired: number): boolean {
  const status = rs.status;
  return (
    (rs.spec.replicas ?? 1) === desired &&
    (status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 1) &&
    (status?.replicas ?? 0) === desired &&
    (status?.availableReplicas ?? 0) === desired
  );
}

/** `DeploymentComplete`. */
export function isComplete(d: Deployment): boolean {
  const desired = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.updatedReplicas ?? 0) === desired &&
    (s.replicas ?? 0) === desired &&
    (s.availableReplicas ?? 0) === desired &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

/** `DeploymentProgressing`: more updated, ready or available pods, or fewer old ones. */
export function madeProgress(previous: DeploymentStatus, next: DeploymentStatus): boolean {
  const oldPods = (s: DeploymentStatus) => (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) ||
    oldPods(next) < oldPods(previous) ||
    (next.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (previous.availableReplicas ?? 0)
  );
}

/** `DeploymentTimedOut`: no progress within `progressDeadlineSeconds` of the last one. */
export function timedOut(d: Deployment, progressing: Condition | undefined, now: number): boolean {
  if (!progressing || d.spec.progressDeadlineSeconds === undefined) return false;
  if (progressing.reason === 'NewReplicaSetAvailable') return false;
  if (progressing.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(progressing.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + d.spec.progressDeadlineSeconds * 1000 < now;
}

export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: number,
): Condition {
  const at = isoSeconds(now);
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message };
}

/** `SetDeploymentCondition`: no-op for the same status and reason; keeps the transition time. */
export function setCondition(status: DeploymentStatus, condition: Condition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status)
    condition.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), condition];
}

/** Counts are `omitempty` in the API: a zero is left out. */
export function omitZeroCounts<T extends Record<string, unknown>>(status: T): T {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(status)) {
    if (value !== 0 && value !== undefined) result[key] = value;
  }
  return result as T;
}
