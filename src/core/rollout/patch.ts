import { withoutHash } from './revisions.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  type DeploymentView,
  LAST_APPLIED_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  type PodTemplate,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  type ReplicaSetView,
} from './types.js';

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** kubectl's `annotationsToSkip`: the Deployment keeps its own values of these, never the ReplicaSet's. */
export const ANNOTATIONS_TO_SKIP: readonly string[] = [
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
];

/**
 * The annotations a rollback writes (kubectl rollback.go): the Deployment's own values of the skipped
 * keys, then every other annotation of the target ReplicaSet. Anything else is dropped, as kubectl does.
 */
export function rollbackAnnotations(
  deployment: DeploymentView,
  target: ReplicaSetView,
): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const key of ANNOTATIONS_TO_SKIP) {
    const value = deployment.annotations[key];
    if (value !== undefined) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(target.annotations)) {
    if (!ANNOTATIONS_TO_SKIP.includes(key)) annotations[key] = value;
  }
  return annotations;
}

/** The template restored: the ReplicaSet's, without `pod-template-hash`. */
export function restoredTemplate(target: ReplicaSetView): PodTemplate {
  return withoutHash(target.template);
}

/**
 * kubectl's `getDeploymentPatch`: a JSON patch replacing `/spec/template` and `/metadata/annotations`.
 * (`add` instead of `replace` for annotations only when the Deployment has none, where `replace`
 * would fail on the missing path.)
 */
export function rollbackPatch(deployment: DeploymentView, target: ReplicaSetView): JsonPatchOp[] {
  const hasAnnotations = Object.keys(deployment.annotations).length > 0;
  return [
    { op: 'replace', path: '/spec/template', value: restoredTemplate(target) },
    {
      op: hasAnnotations ? 'replace' : 'add',
      path: '/metadata/annotations',
      value: rollbackAnnotations(deployment, target),
    },
  ];
}
