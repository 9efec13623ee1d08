import { homedir } from 'node:os';
import type { AppConfig } from '../../config/load.js';
import type { Logger } from '../../logger.js';
import type { Chat } from '../../ports/chat.js';
import type { DocumentStore } from '../../ports/document-store.js';
import { ClusterFlags } from '../../services/cluster-flags.js';
import { restartAfterFlagChange } from '../../services/cluster-restarts.js';
import type { FlagService } from '../../services/flag-service.js';
import { type RollbackAudit, RollbackService } from '../../services/rollback-service.js';
import type { WatchTiming } from '../../services/rollback-watch.js';
import type { ClusterServices } from '../../services/services.js';
import { cachedCheck, type ReadinessCheck } from '../http/health.js';
import { type ClusterSources, findClusterSource, processClusterSources } from './cluster-sources.js';

export interface ClusterWiringDeps {
  config: AppConfig;
  flags: FlagService;
  chat: Chat;
  log: Logger;
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Default: this process's KUBECONFIG, ~/.kube/config and service account. */
  sources?: ClusterSources;
  rolloutTiming?: Partial<WatchTiming>;
  /** The bot's clock (default the wall clock). */
  now?: () => number;
  /** The rollback audit (the state backend's document). */
  rollbackAudit: DocumentStore<RollbackAudit>;
  /** Several replicas: the drift check runs on the leader only. */
  leading?: () => boolean;
}

export interface ClusterWiring {
  /** Undefined when no cluster is configured. */
  services?: ClusterServices;
  readiness: ReadinessCheck[];
  stop(): Promise<void>;
}

/**
 * The cluster side of the bot, when one is configured: the flag ConfigMap as a sink with its drift
 * check, restarts after flag changes, and the rollback use-case. Without a cluster: nothing, and
 * readiness does not depend on one.
 */
export async function startClusterWiring(deps: ClusterWiringDeps): Promise<ClusterWiring> {
  const { config, flags, chat, log } = deps;
  const sources = deps.sources ?? processClusterSources(config.env.KUBECONFIG, homedir());
  // The client library is loaded only when there is a cluster to talk to (issue 11: start and memory).
  const loaded = findClusterSource(sources)
    ? (await import('./kube-config.js')).loadKubeConfig(sources)
    : undefined;
  if (!loaded) {
    log.info(
      'no cluster configured (no KUBECONFIG, ~/.kube/config or service account): cluster actions are off',
    );
    return { readiness: [], stop: async () => undefined };
  }
  const namespace = config.env.KUBE_NAMESPACE;
  const { KubeCluster } = await import('./kube-cluster.js');
  const cluster = new KubeCluster(loaded.kubeConfig, namespace);
  const configMap = config.env.FLAGS_CONFIGMAP;
  const notify = async (text: string) => {
    await chat.post(config.channel, { kind: 'note', text });
  };
  const clusterFlags = new ClusterFlags(
    cluster,
    flags,
    flags.catalog,
    {
      configMap,
      intervalMs: config.file.kubernetes.driftCheckInterval,
      notify,
      ...(deps.leading && { leading: deps.leading }),
    },
    log.child({ component: 'cluster-flags' }),
  );
  flags.addSink(clusterFlags);
  const restart = restartAfterFlagChange(
    cluster,
    config.file.kubernetes.restartOnFlagChange,
    () => new Date(),
    notify,
    log,
  );
  flags.onChange((event) => deps.track(restart(event)));
  await clusterFlags.start();
  const now = deps.now ?? Date.now;
  const audit = deps.rollbackAudit;
  const rollback = new RollbackService({
    cluster,
    chat,
    channel: config.channel,
    log: log.child({ component: 'rollback' }),
    now: () => new Date(now()),
    track: deps.track,
    timing: deps.rolloutTiming,
    audit,
    reentryWindowMs: config.file.rollback.reentryWindow,
  });
  log.info(
    { source: loaded.source, server: loaded.kubeConfig.getCurrentCluster()?.server, namespace, configMap },
    'cluster configured',
  );
  return {
    services: { namespace, rollback },
    readiness: [
      {
        name: 'cluster',
        check: cachedCheck(async () => {
          await cluster.readConfigMap(configMap);
        }, 10_000),
      },
    ],
    async stop() {
      rollback.stopWatching();
      await clusterFlags.stop();
    },
  };
}
