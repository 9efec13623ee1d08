import type {
  V1Deployment,
  V1LabelSelector,
  V1Pod,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import type {
  ContainerView,
  DeploymentView,
  PodTemplate,
  PodView,
  ReplicaSetView,
} from '../../core/rollout/types.js';

/** The client's objects as the core's plain data (times as ISO strings, templates as JSON). */

export function deploymentView(d: V1Deployment): DeploymentView {
  const status = d.status ?? {};
  return {
    name: d.metadata?.name ?? '',
    uid: d.metadata?.uid ?? '',
    generation: d.metadata?.generation,
    annotations: { ...(d.metadata?.annotations ?? {}) },
    selector: selectorString(d.spec?.selector),
    paused: d.spec?.paused === true,
    replicas: d.spec?.replicas,
    progressDeadlineSeconds: d.spec?.progressDeadlineSeconds,
    template: templateJson(d.spec?.template),
    status: {
      observedGeneration: status.observedGeneration,
      replicas: status.replicas,
      updatedReplicas: status.updatedReplicas,
      readyReplicas: status.readyReplicas,
      availableReplicas: status.availableReplicas,
      unavailableReplicas: status.unavailableReplicas,
      conditions: (status.conditions ?? []).map((c) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
      })),
    },
    createdAt: iso(d.metadata?.creationTimestamp),
  };
}

export function replicaSetView(rs: V1ReplicaSet): ReplicaSetView {
  return {
    name: rs.metadata?.name ?? '',
    uid: rs.metadata?.uid ?? '',
    controllerUid: rs.metadata?.ownerReferences?.find((ref) => ref.controller)?.uid,
    annotations: { ...(rs.metadata?.annotations ?? {}) },
    template: templateJson(rs.spec?.template),
    replicas: rs.spec?.replicas,
    createdAt: iso(rs.metadata?.creationTimestamp),
  };
}

export function podView(pod: V1Pod): PodView {
  const statuses = pod.status?.containerStatuses ?? [];
  const containers: ContainerView[] = (pod.spec?.containers ?? []).map((container) => {
    const status = statuses.find((s) => s.name === container.name);
    return {
      name: container.name,
      image: status?.image ?? container.image ?? '',
      ready: status?.ready ?? false,
      restartCount: status?.restartCount ?? 0,
      state: stateOf(status?.state),
    };
  });
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    labels: { ...(pod.metadata?.labels ?? {}) },
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    containers,
    createdAt: iso(pod.metadata?.creationTimestamp),
  };
}

function stateOf(
  state: { running?: unknown; waiting?: { reason?: string }; terminated?: { reason?: string } } | undefined,
): string {
  if (state?.running) return 'running';
  if (state?.waiting) return `waiting: ${state.waiting.reason ?? 'unknown'}`;
  if (state?.terminated) return `terminated: ${state.terminated.reason ?? 'unknown'}`;
  return 'unknown';
}

/** The template as JSON (the client's model fields are named as on the wire; Dates become strings). */
function templateJson(template: V1PodTemplateSpec | undefined): PodTemplate {
  return template ? (JSON.parse(JSON.stringify(template)) as PodTemplate) : {};
}

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : String(value);
}

/** A label selector as the `labelSelector` query parameter writes it. */
export function selectorString(selector: V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    switch (expression.operator) {
      case 'In':
        parts.push(`${expression.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${expression.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(expression.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expression.key}`);
        break;
    }
  }
  return parts.join(',');
}
