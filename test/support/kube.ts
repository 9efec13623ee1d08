import { KubeEmulator, seedMessagingSystem } from '../../src/emulators/kube/index.js';

const NAMESPACE = 'messaging-system';

/** A seeded demo cluster on loopback, its pods ready after `podReadyAfterMs`. */
export async function startSeededCluster(podReadyAfterMs = 100): Promise<KubeEmulator> {
  const kube = new KubeEmulator({ podReadyAfterMs });
  await kube.start();
  seedMessagingSystem(kube);
  return kube;
}

/** A new image for every container of a Deployment, as `kubectl set image` does; waits for the rollout. */
export async function releaseImage(kube: KubeEmulator, name: string, image: string): Promise<void> {
  const deployment = kube.get('Deployment', NAMESPACE, name)!;
  const { template } = deployment.spec;
  const containers = template.spec.containers.map((container) => ({ ...container, image }));
  kube.apply({
    ...deployment,
    spec: { ...deployment.spec, template: { ...template, spec: { ...template.spec, containers } } },
  });
  await kube.waitForRollout(name);
}
