/**
 * The Deployment, ReplicaSet and Pod facts the rollout rules need, as plain data (no client types).
 * Templates stay opaque JSON: the rules compare and copy them, never interpret them.
 */

export interface PodTemplate {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: {
    containers?: Array<{ name?: string; image?: string; [key: string]: unknown }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatusView {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
}

export interface DeploymentView {
  name: string;
  uid: string;
  generation?: number;
  annotations: Record<string, string>;
  /** `matchLabels` only; `matchExpressions` are carried as a ready label-selector string. */
  selector: string;
  paused: boolean;
  /** `spec.replicas`; undefined means the API default (1). */
  replicas?: number;
  progressDeadlineSeconds?: number;
  template: PodTemplate;
  status: DeploymentStatusView;
  createdAt?: string;
}

export interface ReplicaSetView {
  name: string;
  uid: string;
  /** The uid of the controller in `ownerReferences` (the owning Deployment), if any. */
  controllerUid?: string;
  annotations: Record<string, string>;
  template: PodTemplate;
  replicas?: number;
  createdAt?: string;
}

export interface ContainerView {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  /** `running`, `waiting: CrashLoopBackOff`, `terminated: Error`. */
  state: string;
}

export interface PodView {
  name: string;
  phase: string;
  labels: Record<string, string>;
  ready: boolean;
  containers: ContainerView[];
  createdAt?: string;
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
