import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/load.js';
import { ConfigError } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { ClusterSources } from './kubernetes/cluster-sources.js';
import { findClusterSource, processClusterSources } from './kubernetes/cluster-sources.js';
import type { Fence } from './kubernetes/leader-election.js';
import type { Election } from './leadership.js';
import { type Journal, OutboxJournal } from './slack/outbox-journal.js';
import { fileBackend, type StateBackend } from './storage/backend.js';
import type { Quarantine } from './storage/quarantine.js';

/** The state backend chosen by STATE_BACKEND, with what goes with it (the Lease, the outbox journals). */
export interface OpenedState {
  backend: StateBackend;
  /** STATE_BACKEND=kubernetes: the Lease election that picks the one replica doing timed work. */
  election?: Election & Fence;
  /** The durable queue of one outbox: a JSON-lines file, or objects in the API server shared by every replica. */
  journal<P>(queue: 'slack' | 'notify'): Journal<P>;
  /** For the start-up log line. */
  describe: Record<string, unknown>;
}

const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export async function openState(deps: {
  config: AppConfig;
  log: Logger;
  quarantine: Quarantine;
  sources?: ClusterSources;
}): Promise<OpenedState> {
  const { config, log, quarantine } = deps;
  const { env } = config;
  if (env.STATE_BACKEND === 'file') {
    return {
      backend: fileBackend({ stateDir: env.STATE_DIR, quarantine, log }),
      journal: (queue) =>
        new OutboxJournal(
          // The Slack path predates announcements going through it; kept so an older journal is replayed.
          queue === 'slack'
            ? join(env.STATE_DIR, 'alerts', 'outbox.jsonl')
            : join(env.STATE_DIR, 'notify', 'outbox.jsonl'),
          quarantine,
        ),
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
  const [{ kubeBackend }, { KubeOutboxJournal }, { KubeStateObjects }, { LeaderElector, replicaIdentity }] =
    await Promise.all([
      import('./storage/kube/kube-backend.js'),
      import('./storage/kube/kube-outbox-journal.js'),
      import('./storage/kube/state-objects.js'),
      import('./kubernetes/leader-election.js'),
    ]);
  const objects = new KubeStateObjects(loaded.kubeConfig, namespace);
  const backend = await kubeBackend({ kubeConfig: loaded.kubeConfig, namespace, log });
  const lease = config.file.leaderElection;
  const identity = replicaIdentity(env);
  const election = new LeaderElector({
    kubeConfig: loaded.kubeConfig,
    namespace,
    leaseName: lease.leaseName,
    identity,
    leaseDurationMs: lease.leaseDuration,
    renewDeadlineMs: lease.renewDeadline,
    retryPeriodMs: lease.retryPeriod,
    log: log.child({ component: 'leader-election' }),
  });
  return {
    backend,
    election,
    journal: (queue) => new KubeOutboxJournal(objects, queue),
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
