import type { KubeConfig } from '@kubernetes/client-node';
import type { FlagCatalog } from '../../../core/flags/catalog.js';
import type { Logger } from '../../../logger.js';
import type { DocumentName, DocumentValidationSpec, StateBackend } from '../backend.js';
import { KubeDocumentStore } from './kube-document-store.js';
import { KubeFlagStore } from './kube-flag-store.js';
import { KubeGroupStore } from './kube-group-store.js';
import { KubeReplayRecorder } from './kube-replay-recorder.js';
import { KubeStateObjects } from './state-objects.js';

export interface KubeBackendOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  log: Logger;
  /** The replay window's clock (ms). */
  now?: () => number;
}

export interface KubeStateBackend extends StateBackend {
  readonly kind: 'kubernetes';
  /** The group store (loaded); the leader calls `resync()` on it when it takes over. */
  groups(): Promise<KubeGroupStore>;
  /**
   * Deletes what has run out of time (replay records past their window); the leader runs it on a
   * schedule. Resolved groups are deleted by the alert service's `forget`.
   */
  prune(now: number): Promise<{ replay: number }>;
}

/**
 * `STATE_BACKEND=kubernetes`: every piece of state in ConfigMaps in `namespace`, shared by the
 * replicas. Imported only dynamically (it loads @kubernetes/client-node).
 */
export function kubeBackend({
  kubeConfig,
  namespace,
  log,
  now = Date.now,
}: KubeBackendOptions): KubeStateBackend {
  const objects = new KubeStateObjects(kubeConfig, namespace);
  const replay = new KubeReplayRecorder(objects, now);
  let groups: Promise<KubeGroupStore> | undefined;
  return {
    kind: 'kubernetes',
    document: <T>(name: DocumentName, initial: () => T, validation: DocumentValidationSpec) =>
      new KubeDocumentStore<T>(objects, name, initial, validation, log.child({ document: name })),
    groups: () => {
      groups ??= (async () => {
        const store = new KubeGroupStore(objects, log.child({ component: 'groups' }));
        await store.load();
        return store;
      })();
      return groups;
    },
    flags: (catalog: FlagCatalog) => new KubeFlagStore(objects, catalog, log.child({ component: 'flags' })),
    replay: () => replay,
    prune: async (at) => ({ replay: await replay.prune(at) }),
    stop: async () => {
      if (groups) (await groups.catch(() => undefined))?.stop();
    },
  };
}
