import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Where a cluster configuration may come from; tests point `home` at an empty directory. Kept apart
 * from the client so that finding out whether there is a cluster at all does not load
 * `@kubernetes/client-node` (0.8 s and 70 MiB that a bot without a cluster never needs).
 */
export interface ClusterSources {
  /** `KUBECONFIG` (one path, or several separated by the platform's delimiter). */
  kubeconfig?: string;
  /** The home directory whose `.kube/config` is read. */
  home: string;
  /** `KUBERNETES_SERVICE_HOST` / `_PORT`, set in every pod. */
  serviceHost?: string;
  servicePort?: string;
  /** The service account token mounted in a pod. */
  tokenFile: string;
}

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Which source `loadKubeConfig` would read, or undefined when there is no cluster configured. */
export type ClusterSource =
  | { kind: 'kubeconfig'; paths: string[] }
  | { kind: 'home'; path: string }
  | { kind: 'in-cluster' };

export function findClusterSource(sources: ClusterSources): ClusterSource | undefined {
  if (sources.kubeconfig) {
    // Named but missing files are the loader's error to report, so the source counts as found.
    return { kind: 'kubeconfig', paths: sources.kubeconfig.split(delimiter).filter(Boolean) };
  }
  const homeConfig = join(sources.home, '.kube', 'config');
  if (existsSync(homeConfig)) return { kind: 'home', path: homeConfig };
  if (sources.serviceHost && sources.servicePort && existsSync(sources.tokenFile))
    return { kind: 'in-cluster' };
  return undefined;
}

/** The sources of this process. */
export function processClusterSources(kubeconfig: string | undefined, home: string): ClusterSources {
  return {
    kubeconfig,
    home,
    serviceHost: process.env.KUBERNETES_SERVICE_HOST,
    servicePort: process.env.KUBERNETES_SERVICE_PORT,
    tokenFile: SERVICE_ACCOUNT_TOKEN,
  };
}
