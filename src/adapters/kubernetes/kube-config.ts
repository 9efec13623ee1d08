import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../config/load.js';

/** Where a cluster configuration may come from; tests point `home` at an empty directory. */
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

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** How it was found, for the start-up log. */
  source: string;
}

/**
 * `KubeConfig.loadFromDefault` without its last resort: with no KUBECONFIG, no ~/.kube/config and no
 * in-cluster service account, there is no cluster (undefined), never a silent `localhost:8080`.
 */
export function loadKubeConfig(sources: ClusterSources): LoadedKubeConfig | undefined {
  if (sources.kubeconfig) {
    const paths = sources.kubeconfig.split(delimiter).filter(Boolean);
    const found = paths.filter((path) => existsSync(path));
    if (found.length === 0) {
      throw new ConfigError(
        `KUBECONFIG: no such file ${paths.join(', ')}; expected the path of a kubeconfig file`,
      );
    }
    return fromFiles(found, 'KUBECONFIG');
  }
  const homeConfig = join(sources.home, '.kube', 'config');
  if (existsSync(homeConfig)) return fromFiles([homeConfig], homeConfig);
  if (sources.serviceHost && sources.servicePort && existsSync(sources.tokenFile)) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: 'in-cluster service account' };
  }
  return undefined;
}

function fromFiles(paths: string[], source: string): LoadedKubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(paths[0]!);
    for (const path of paths.slice(1)) {
      const other = new KubeConfig();
      other.loadFromFile(path);
      kubeConfig.mergeConfig(other);
    }
  } catch (error) {
    throw new ConfigError(`${source}: cannot load ${paths.join(', ')}: ${(error as Error).message}`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ConfigError(
      `${source}: the kubeconfig has no current context with a cluster; set current-context`,
    );
  }
  return { kubeConfig, source };
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
