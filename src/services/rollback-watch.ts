import { formatDuration } from '../core/duration.js';
import type { RolloutResult } from '../core/rollout/result.js';
import { imagesOf, newReplicaSetOf, revisionOf } from '../core/rollout/revisions.js';
import { type RolloutStatus, rolloutStatus } from '../core/rollout/status.js';
import { POD_TEMPLATE_HASH_LABEL, type PodView } from '../core/rollout/types.js';
import type { Logger } from '../logger.js';
import type { Chat } from '../ports/chat.js';
import type { Cluster } from '../ports/cluster.js';

export interface WatchTiming {
  /** How often the Deployment is read. */
  pollMs: number;
  /** The progress message is updated at most this often (and only when it changed). */
  updateEveryMs: number;
  /** The bot stops watching after this long, whatever the cluster says. */
  timeoutMs: number;
  /** Log lines shown from a new pod. */
  logLines: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = {
  pollMs: 500,
  updateEveryMs: 2_000,
  timeoutMs: 15 * 60_000,
  logLines: 50,
};

export interface WatchTarget {
  deployment: string;
  revision: number;
  /** Where the progress message sits (undefined when it could not be posted). */
  channel?: string;
  threadTs?: string;
  progressTs?: string;
}

/** Failed reads in a row after which the watch gives up. */
const MAX_READ_FAILURES = 10;

/**
 * `kubectl rollout status`, reported in Slack: polls the Deployment, keeps one progress message up to
 * date, and ends with the outcome, the pods and a new pod's last log lines in the thread.
 */
export async function watchRollout(
  deps: { cluster: Cluster; chat: Chat; log: Logger; now: () => number },
  target: WatchTarget,
  timing: WatchTiming,
  signal: AbortSignal,
): Promise<RolloutResult> {
  const started = deps.now();
  let lastShown = '';
  let lastUpdate = Number.NEGATIVE_INFINITY;
  let failures = 0;
  let status: RolloutStatus | undefined;
  let outcome: RolloutResult['outcome'] | undefined;
  let message = '';
  const show = async (force: boolean) => {
    if (!status || !target.channel || !target.progressTs) return;
    const key = `${status.state}|${status.message}|${JSON.stringify(status.progress)}`;
    if (!force && (key === lastShown || deps.now() - lastUpdate < timing.updateEveryMs)) return;
    lastShown = key;
    lastUpdate = deps.now();
    try {
      await deps.chat.update(target.channel, target.progressTs, {
        kind: 'rollback-progress',
        deployment: target.deployment,
        status,
        elapsedMs: deps.now() - started,
        threadTs: target.threadTs,
      });
    } catch (error) {
      deps.log.warn({ err: error }, 'could not update the rollout progress message');
    }
  };
  while (!outcome) {
    if (signal.aborted) {
      outcome = 'stopped';
      message = `the bot is shutting down${progressNote(status)}. The rollback itself was applied and goes on in the cluster; follow it with ${kubectl('rollout status', target, deps.cluster.namespace)}.`;
      break;
    }
    try {
      const deployment = await deps.cluster.readDeployment(target.deployment);
      if (!deployment) {
        outcome = 'lost';
        message = 'the Deployment was deleted.';
        break;
      }
      failures = 0;
      status = rolloutStatus(deployment);
      if (status.state === 'done') {
        outcome = 'succeeded';
        message = `${status.message}.`;
      } else if (status.state === 'failed') {
        outcome = 'failed';
        message = `${status.message}: the new pods did not become available in time.`;
      }
    } catch (error) {
      failures++;
      deps.log.warn({ err: error, failures }, 'reading the Deployment during a rollout failed');
      if (failures >= MAX_READ_FAILURES) {
        outcome = 'lost';
        message = `the cluster stopped answering (${(error as Error).message}).`;
        break;
      }
    }
    if (outcome) break;
    if (deps.now() - started > timing.timeoutMs) {
      outcome = 'timed-out';
      message = [
        `still not rolled out after ${formatDuration(timing.timeoutMs)}${progressNote(status)}, so I stopped watching.`,
        'The rollback itself was applied and goes on in the cluster.',
        `Next: check the pods below and follow it with ${kubectl('rollout status', target, deps.cluster.namespace)};`,
        `if the new pods never become ready, see why with ${kubectl('describe', target, deps.cluster.namespace)}`,
        `and roll back further with \`/rollback deployment ${target.deployment}\`.`,
      ].join(' ');
      break;
    }
    await show(false);
    await sleep(timing.pollMs, signal);
  }
  await show(true);
  const result = await collectResult(deps, target, outcome, message, timing.logLines);
  if (target.channel && target.threadTs) {
    try {
      await deps.chat.post(target.channel, { kind: 'rollback-result', result, threadTs: target.threadTs });
    } catch (error) {
      deps.log.error({ err: error }, 'could not post the rollout result');
    }
  }
  return result;
}

async function collectResult(
  deps: { cluster: Cluster; log: Logger },
  target: WatchTarget,
  outcome: RolloutResult['outcome'],
  message: string,
  logLines: number,
): Promise<RolloutResult> {
  const result: RolloutResult = {
    deployment: target.deployment,
    revision: target.revision,
    outcome,
    message,
    pods: [],
  };
  try {
    const deployment = await deps.cluster.readDeployment(target.deployment);
    if (!deployment) return result;
    result.running = imagesOf(deployment.template);
    result.runningRevision = revisionOf(deployment);
    const [pods, replicaSets] = await Promise.all([
      deps.cluster.listPods(deployment.selector),
      deps.cluster.listReplicaSets(deployment.selector),
    ]);
    result.pods = pods.sort((a, b) => a.name.localeCompare(b.name));
    const hash = newReplicaSetOf(deployment, replicaSets)?.template.metadata?.labels?.[
      POD_TEMPLATE_HASH_LABEL
    ];
    const newPod = pickNewPod(result.pods, hash);
    const container = newPod?.containers[0]?.name;
    if (newPod && container) {
      try {
        result.logs = {
          pod: newPod.name,
          container,
          text: await deps.cluster.podLogs(newPod.name, container, logLines),
        };
      } catch (error) {
        result.logs = { pod: newPod.name, error: (error as Error).message };
      }
    }
  } catch (error) {
    deps.log.warn({ err: error }, 'could not collect the pods after a rollout');
    result.message += ` (Pods unavailable: ${(error as Error).message})`;
  }
  return result;
}

/** A pod of the new ReplicaSet; a failing one first, since its logs say why. */
function pickNewPod(pods: PodView[], hash: string | undefined): PodView | undefined {
  const fresh = hash ? pods.filter((pod) => pod.labels[POD_TEMPLATE_HASH_LABEL] === hash) : [];
  return fresh.find((pod) => !pod.ready) ?? fresh[0];
}

/** Where the rollout stood when the bot stopped watching: kubectl's status line, in parentheses. */
function progressNote(status: RolloutStatus | undefined): string {
  return status ? ` (${status.message.replace(/\.+$/, '')})` : '';
}

/** The kubectl command that picks up where the bot left off. */
function kubectl(verb: string, target: WatchTarget, namespace: string): string {
  return `\`kubectl ${verb} deployment/${target.deployment} -n ${namespace}\``;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
