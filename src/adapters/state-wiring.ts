import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { AppConfig } from '../config/load.js';
import { ConfigError } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { ClusterSources } from './kubernetes/cluster-sources.js';
import { findClusterSource, processClusterSources } from './kubernetes/cluster-sources.js';
import type { LeaderElector } from './kubernetes/leader-election.js';
import type { LeaseTerm } from './slack/not-leader.js';
import type { Journal } from './slack/outbox-journal.js';
import { fileBackend, type StateBackend } from './storage/backend.js';
import type { Quarantine } from './storage/quarantine.js';

/** The state backend chosen by STATE_BACKEND, with what goes with it (the Lease, the outbox journals). */
export interface OpenedState {
  backend: StateBackend;
  /** STATE_BACKEND=kubernetes: the Lease election that picks the one replica doing timed work. */
  election?: LeaderElector;
  /**
   * Several replicas: the queue of one outbox, shared in the API server, with the Lease fence. Absent
   * with the file backend (each outbox keeps its JSON-lines journal under STATE_DIR).
   */
  shared<P>(
    queue: 'slack' | 'notify',
  ): { journal: Journal<P>; fence: () => LeaseTerm; leading: false } | undefined;
  /** Deletes what has run out of time (replay records); the leader runs it on a schedule. */
  prune(now: number): Promise<unknown>;
  /** Ends the watches of the backend and the shared journals. */
  stop(): Promise<void>;
  /** For the start-up log line. */
  describe: Record<string, unknown>;
}

const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export async function openState(deps: {
  config: AppConfig;
  log: Logger;
  quarantine: Quarantine;
  sources?: ClusterSources;
  now?: () => number;
}): Promise<OpenedState> {
  const { config, log, quarantine } = deps;
  const { env } = config;
  if (env.STATE_BACKEND === 'file') {
    const backend = fileBackend({
      stateDir: env.STATE_DIR,
      quarantine,
      log,
      ...(deps.now && { now: deps.now }),
    });
    return {
      backend,
      shared: () => undefined,
      prune: async () => undefined,
      stop: () => backend.stop(),
      describe: { backend: 'file', dir: env.STATE_DIR },
    };
  }
  const sources = deps.sources ?? processClusterSources(env.KUBECONFIG, homedir());
  const loaded = findClusterSource(sources)
    ? (await import('./kubernetes/kube-config.js')).loadKubeConfig(sources)
    : undefined;
  if (!loaded) {
    throw new ConfigError(
      'STATE_BACKEND: "kubernetes" needs a cluster (KUBECONFIG, ~/.kube/config or a pod\'s service account); none is configured',
    );
  }
  const namespace = env.STATE_NAMESPACE ?? podNamespace() ?? env.KUBE_NAMESPACE;
  const [{ kubeBackend }, { KubeOutboxJournal }, { LeaderElector, replicaIdentity }] = await Promise.all([
    import('./storage/kube/kube-backend.js'),
    import('./storage/kube/kube-outbox-journal.js'),
    import('./kubernetes/leader-election.js'),
  ]);
  const { kubeConfig } = loaded;
  const backend = kubeBackend({ kubeConfig, namespace, log, ...(deps.now && { now: deps.now }) });
  const lease = config.file.leaderElection;
  const identity = replicaIdentity({ POD_NAME: env.POD_NAME });
  const election = new LeaderElector({
    kubeConfig,
    namespace,
    leaseName: lease.leaseName,
    identity,
    leaseDurationMs: lease.leaseDuration,
    renewDeadlineMs: lease.renewDeadline,
    retryPeriodMs: lease.retryPeriod,
    log: log.child({ component: 'leader-election' }),
  });
  const journals: Array<{ stop(): Promise<void> | void }> = [];
  return {
    backend,
    election,
    shared: <P>(queue: 'slack' | 'notify') => {
      const journal = new KubeOutboxJournal<P>({
        kubeConfig,
        namespace,
        queue,
        log: log.child({ component: `${queue}-queue` }),
        ...(deps.now && { now: deps.now }),
      });
      journals.push(journal);
      return { journal, fence: () => election.check(), leading: false as const };
    },
    prune: (now) => backend.prune(now),
    async stop() {
      for (const journal of journals) await journal.stop();
      await backend.stop();
    },
    describe: { backend: 'kubernetes', namespace, identity, lease: lease.leaseName, source: loaded.source },
  };
}
/** The namespace a pod runs in (its service account's), undefined outside a pod. */
function podNamespace(): string | undefined {
  try {
    return readFileSync(POD_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
