import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { JsonPatchOp } from '../../core/rollout/patch.js';
import { restartPatch } from '../../core/rollout/restart.js';
import type { Cluster, ConfigMapData } from '../../ports/cluster.js';
import { toClusterError } from './errors.js';
import { deploymentView, podView, replicaSetView } from './views.js';

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The Cluster port on `@kubernetes/client-node`: every call the bot makes to the API server is here. */
export class KubeCluster implements Cluster {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async readConfigMap(name: string): Promise<ConfigMapData | undefined> {
    try {
      return mapData(await this.core.readNamespacedConfigMap({ name, namespace: this.namespace }));
    } catch (error) {
      const failure = toClusterError(error, `reading ConfigMap ${name}`);
      if (failure.kind === 'not-found') return undefined;
      throw failure;
    }
  }

  async replaceConfigMap(name: string, data: Record<string, string>, resourceVersion: string) {
    return this.call(`updating ConfigMap ${name}`, async () =>
      mapData(
        await this.core.replaceNamespacedConfigMap({
          name,
          namespace: this.namespace,
          body: { metadata: { name, namespace: this.namespace, resourceVersion }, data },
        }),
      ),
    );
  }

  async createConfigMap(name: string, data: Record<string, string>) {
    return this.call(`creating ConfigMap ${name}`, async () =>
      mapData(
        await this.core.createNamespacedConfigMap({
          namespace: this.namespace,
          body: {
            metadata: {
              name,
              namespace: this.namespace,
              labels: { 'app.kubernetes.io/managed-by': 'switchyard' },
            },
            data,
          },
        }),
      ),
    );
  }

  async listDeployments() {
    return this.call('listing Deployments', async () =>
      (await this.apps.listNamespacedDeployment({ namespace: this.namespace })).items.map(deploymentView),
    );
  }

  async readDeployment(name: string) {
    try {
      return deploymentView(await this.apps.readNamespacedDeployment({ name, namespace: this.namespace }));
    } catch (error) {
      const failure = toClusterError(error, `reading Deployment ${name}`);
      if (failure.kind === 'not-found') return undefined;
      throw failure;
    }
  }

  async listReplicaSets(labelSelector: string) {
    return this.call('listing ReplicaSets', async () =>
      (await this.apps.listNamespacedReplicaSet({ namespace: this.namespace, labelSelector })).items.map(
        replicaSetView,
      ),
    );
  }

  async patchDeployment(name: string, patch: JsonPatchOp[]) {
    return this.call(`patching Deployment ${name}`, async () =>
      deploymentView(
        await this.apps.patchNamespacedDeployment(
          { name, namespace: this.namespace, body: patch },
          jsonPatch,
        ),
      ),
    );
  }

  async restartDeployment(name: string, at: string) {
    await this.call(`restarting Deployment ${name}`, () =>
      this.apps.patchNamespacedDeployment(
        { name, namespace: this.namespace, body: restartPatch(at) },
        strategicMergePatch,
      ),
    );
  }

  async listPods(labelSelector: string) {
    return this.call('listing Pods', async () =>
      (await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items.map(podView),
    );
  }

  async podLogs(pod: string, container: string, tailLines: number) {
    return this.call(`reading the logs of Pod ${pod}`, () =>
      this.core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container, tailLines }),
    );
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toClusterError(error, what);
    }
  }
}

function mapData(map: {
  data?: Record<string, string>;
  metadata?: { resourceVersion?: string };
}): ConfigMapData {
  return { data: { ...(map.data ?? {}) }, resourceVersion: map.metadata?.resourceVersion ?? '' };
}
