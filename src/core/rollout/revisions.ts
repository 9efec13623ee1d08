import { jsonClone, jsonEqual } from './json.js';
import {
  type DeploymentView,
  POD_TEMPLATE_HASH_LABEL,
  type PodTemplate,
  REVISION_ANNOTATION,
  type ReplicaSetView,
} from './types.js';

/**
 * `deploymentutil.Revision`: the revision annotation as an integer; 0 when absent, undefined when
 * it is not a number (kubectl skips such ReplicaSets).
 */
export function revisionOf(object: { annotations: Record<string, string> }): number | undefined {
  const text = object.annotations[REVISION_ANNOTATION];
  if (text === undefined) return 0;
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** The ReplicaSets a Deployment controls (its controller ownerReference), out of those its selector lists. */
export function controlledBy(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
): ReplicaSetView[] {
  return replicaSets.filter((rs) => rs.controllerUid !== undefined && rs.controllerUid === deployment.uid);
}

/** The template without its `pod-template-hash` label (and without an emptied labels map). */
export function withoutHash(template: PodTemplate): PodTemplate {
  const copy = jsonClone(template);
  const labels = copy.metadata?.labels;
  if (labels && POD_TEMPLATE_HASH_LABEL in labels) delete labels[POD_TEMPLATE_HASH_LABEL];
  return copy;
}

/** `EqualIgnoreHash`: the templates are equal apart from the `pod-template-hash` label. */
export function templatesEqualIgnoringHash(a: PodTemplate, b: PodTemplate): boolean {
  return jsonEqual(withoutHash(a), withoutHash(b));
}

/** `FindNewReplicaSet`: the controlled ReplicaSet running the Deployment's current template. */
export function newReplicaSetOf(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
): ReplicaSetView | undefined {
  return controlledBy(deployment, replicaSets)
    .filter((rs) => templatesEqualIgnoringHash(rs.template, deployment.template))
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''))[0];
}

export function imagesOf(template: PodTemplate): string[] {
  return (template.spec?.containers ?? []).map((container) => container.image ?? '?');
}

export interface RevisionRow {
  revision: number;
  replicaSet: string;
  images: string[];
  createdAt?: string;
  /** The ReplicaSet of the Deployment's current template. */
  current: boolean;
}

/** `kubectl rollout history`: the controlled ReplicaSets by revision, oldest first. */
export function revisionHistory(
  deployment: DeploymentView,
  replicaSets: readonly ReplicaSetView[],
): RevisionRow[] {
  const current = newReplicaSetOf(deployment, replicaSets);
  return controlledBy(deployment, replicaSets)
    .flatMap((rs) => {
      const revision = revisionOf(rs);
      if (revision === undefined) return [];
      return [
        {
          revision,
          replicaSet: rs.name,
          images: imagesOf(rs.template),
          createdAt: rs.createdAt,
          current: rs === current,
        },
      ];
    })
    .sort((a, b) => a.revision - b.revision);
}
