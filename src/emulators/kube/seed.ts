import { DEFAULT_NAMESPACE, type KubeEmulator } from './emulator.js';
import type { ConfigMap, Deployment } from './types.js';

export const FLAGS_CONFIGMAP_NAME = 'messaging-feature-flags';

/** The messaging system's feature flags and their defaults (the seed document's `feature_flags.py`). */
export const MESSAGING_FLAG_DEFAULTS: Readonly<Record<string, boolean>> = {
  MESSAGING_ADAPTIVE_TIMING: false,
  MESSAGING_TIMING_CALIBRATION: false,
  MESSAGING_TIMING_FALLBACK: true,
  MESSAGING_RETRY_LOGIC: false,
  MESSAGING_EXPONENTIAL_BACKOFF: false,
  MESSAGING_ERROR_CLASSIFICATION: false,
  MESSAGING_FLAG_VALIDATION: false,
  MESSAGING_PRIORITY_OVERRIDE: false,
  MESSAGING_MUTEX_VALIDATION: false,
  MESSAGING_INTELLIGENT_ORDERING: false,
  MESSAGING_URGENT_FIRST: false,
  MESSAGING_CUSTOM_ORDERING: false,
  MESSAGING_PARALLEL_DELIVERY: false,
  MESSAGING_CONCURRENCY_CONTROL: true,
  MESSAGING_RESOURCE_POOLING: false,
  MESSAGING_METRICS_COLLECTION: true,
  MESSAGING_LOGGING_ENHANCED: true,
  MESSAGING_DASHBOARD: true,
  MESSAGING_ALERTING: true,
  MESSAGING_PRE_FLIGHT_CHECKS: true,
  MESSAGING_HEALTH_CHECKS: true,
  MESSAGING_CIRCUIT_BREAKER: true,
};

/** The messaging system's Deployments and their replica counts. */
export const MESSAGING_DEPLOYMENTS: Readonly<Record<string, number>> = {
  'messaging-core': 2,
  'messaging-timing-engine': 1,
  'messaging-retry-engine': 1,
};

export function messagingDeployment(
  name: string,
  replicas: number,
  namespace = DEFAULT_NAMESPACE,
): Deployment {
  const labels = { app: name, 'app.kubernetes.io/part-of': 'messaging-system' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name,
              image: `registry.local/${name}:1.0.0`,
              ports: [{ name: 'http', containerPort: 8080 }],
              envFrom: [{ configMapRef: { name: FLAGS_CONFIGMAP_NAME } }],
            },
          ],
        },
      },
    },
  };
}

export function flagsConfigMap(namespace = DEFAULT_NAMESPACE): ConfigMap {
  const data: Record<string, string> = {};
  for (const [key, enabled] of Object.entries(MESSAGING_FLAG_DEFAULTS)) data[key] = String(enabled);
  data.OTHER_SETTING = 'keep-me';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: FLAGS_CONFIGMAP_NAME,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'messaging-system' },
    },
    data,
  };
}

/**
 * The demo cluster: the flags ConfigMap at its defaults (plus one key the bot does not own) and the
 * three messaging Deployments, each rolled out to revision 1 with ready pods when this returns.
 */
export function seedMessagingSystem(emulator: KubeEmulator, namespace = DEFAULT_NAMESPACE): void {
  emulator.apply(flagsConfigMap(namespace));
  for (const [name, replicas] of Object.entries(MESSAGING_DEPLOYMENTS)) {
    emulator.apply(messagingDeployment(name, replicas, namespace));
  }
  emulator.reconcile({ podsReadyNow: true });
}
