import type { JsonPatchOp } from '../core/rollout/patch.js';
import type { DeploymentView, PodView, ReplicaSetView } from '../core/rollout/types.js';

export interface ConfigMapData {
  data: Record<string, string>;
  resourceVersion: string;
}

/** What went wrong talking to the cluster, in the terms a use-case decides on. */
export type ClusterErrorKind = 'forbidden' | 'not-found' | 'conflict' | 'invalid' | 'unavailable';

export class ClusterError extends Error {
  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
    /** The HTTP status the API server answered (0: no answer). */
    readonly status: number,
  ) {
    super(message);
  }
}

/** The namespace's objects the bot reads and changes; one namespace, fixed at start. */
export interface Cluster {
  readonly namespace: string;
  /** Undefined when the ConfigMap does not exist. */
  readConfigMap(name: string): Promise<ConfigMapData | undefined>;
  /** Replaces the data, only if the map is still at `resourceVersion` (else a `conflict` ClusterError). */
  replaceConfigMap(
    name: string,
    data: Record<string, string>,
    resourceVersion: string,
  ): Promise<ConfigMapData>;
  createConfigMap(name: string, data: Record<string, string>): Promise<ConfigMapData>;
  listDeployments(): Promise<DeploymentView[]>;
  /** Undefined when the Deployment does not exist. */
  readDeployment(name: string): Promise<DeploymentView | undefined>;
  listReplicaSets(labelSelector: string): Promise<ReplicaSetView[]>;
  patchDeployment(name: string, patch: JsonPatchOp[]): Promise<DeploymentView>;
  /** `kubectl rollout restart`: stamps the template with `kubectl.kubernetes.io/restartedAt`. */
  restartDeployment(name: string, at: string): Promise<void>;
  listPods(labelSelector: string): Promise<PodView[]>;
  podLogs(pod: string, container: string, tailLines: number): Promise<string>;
}
