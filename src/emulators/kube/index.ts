export {
  DEFAULT_NAMESPACE,
  DEFAULT_TOKEN,
  DEFAULT_USER,
  KubeEmulator,
  type KubeEmulatorOptions,
  type RequestRecord,
} from './emulator.js';
export { kubeconfigYaml } from './kubeconfig.js';
export { CRASHLOOP_MARKER } from './kubelet.js';
export { type PolicyRule, type RbacPolicy, rbacFromManifest, rbacPoliciesFromManifest } from './rbac.js';
export { podTemplateHash, revisionOf, templatesEqual } from './rollout.js';
export {
  FLAGS_CONFIGMAP_NAME,
  flagsConfigMap,
  MESSAGING_DEPLOYMENTS,
  MESSAGING_FLAG_DEFAULTS,
  messagingDeployment,
  seedMessagingSystem,
} from './seed.js';
export type {
  ConfigMap,
  Deployment,
  Kind,
  KubeObject,
  Lease,
  Pod,
  ReplicaSet,
} from './types.js';
export { POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION } from './types.js';
