import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../config/load.js';
import { type ClusterSources, findClusterSource } from './cluster-sources.js';

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
  const source = findClusterSource(sources);
  if (!source) return undefined;
  if (source.kind === 'kubeconfig') {
    const found = source.paths.filter((path) => existsSync(path));
    if (found.length === 0) {
      throw new ConfigError(
        `KUBECONFIG: no such file ${source.paths.join(', ')}; expected the path of a kubeconfig file`,
      );
    }
    return fromFiles(found, 'KUBECONFIG');
  }
  if (source.kind === 'home') return fromFiles([source.path], source.path);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromCluster();
  return { kubeConfig, source: 'in-cluster service account' };
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
