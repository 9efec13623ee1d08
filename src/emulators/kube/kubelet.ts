import { fnv1a32, isoSeconds } from './json.js';
import type { ObjectStore } from './store.js';
import type { Condition, Container, ContainerStatus, Pod, PodStatus } from './types.js';

export const NODE_NAME = 'emulator-node-1';
const HOST_IP = '10.0.0.10';
/** A container whose image contains this never becomes ready: it restarts for ever (CrashLoopBackOff). */
export const CRASHLOOP_MARKER = 'crashloop';

export function isCrashLooping(container: Container): boolean {
  return (container.image ?? '').includes(CRASHLOOP_MARKER);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Plays the kubelet for every Pod: Pending while its containers are "created", then Running and Ready
 * `readyAfterMs` after the kubelet first saw it; `crashloop` images go to CrashLoopBackOff instead,
 * with a restartCount that keeps growing. Pods in phase Succeeded or Failed are left alone.
 */
export class Kubelet {
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly readyAfterMs: number,
  ) {}

  /** The status a new Pod is created with (before the kubelet has started its containers). */
  pendingStatus(pod: Pod, now: number): PodStatus {
    return podStatus(pod, now, now, this.readyAfterMs);
  }

  syncPods(now: number, readyNow: boolean): void {
    const pods = this.store.list('Pod') as Pod[];
    const live = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      live.add(uid);
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      let born = this.firstSeen.get(uid) ?? now;
      if (readyNow) born = Math.min(born, now - this.readyAfterMs);
      this.firstSeen.set(uid, born);
      const status = podStatus(pod, born, now, this.readyAfterMs);
      this.store.update({ ...pod, status }, 'status');
    }
    for (const uid of this.firstSeen.keys()) if (!live.has(uid)) this.firstSeen.delete(uid);
  }
}

/** A function of the time only, so that passes that change nothing write nothing. */
function podStatus(pod: Pod, born: number, now: number, readyAfterMs: number): PodStatus {
  const containers = pod.spec.containers;
  const scheduled = condition('PodScheduled', true, born);
  const base = {
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    podIP: podIp(pod),
    podIPs: [{ ip: podIp(pod) }],
    qosClass: 'BestEffort',
    startTime: isoSeconds(born),
  };
  if (now - born < readyAfterMs) {
    return {
      phase: 'Pending',
      conditions: [
        condition('Initialized', true, born),
        condition('Ready', false, born, containers),
        condition('ContainersReady', false, born, containers),
        scheduled,
      ],
      ...base,
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    };
  }
  const startedAt = born + readyAfterMs;
  const crashing = containers.filter(isCrashLooping);
  const period = Math.max(readyAfterMs, 100);
  const restarts = Math.floor((now - startedAt) / period) + 1;
  const containerStatuses = containers.map((c): ContainerStatus => {
    const image = c.image ?? '';
    const common = {
      name: c.name,
      image,
      imageID: `${image}@sha256:${digest(image)}`,
      containerID: containerId(pod, c),
    };
    if (!isCrashLooping(c)) {
      return {
        ...common,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: isoSeconds(startedAt) } },
      };
    }
    const lastStart = startedAt + (restarts - 1) * period;
    return {
      ...common,
      ready: false,
      started: false,
      restartCount: restarts,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}`,
        },
      },
      lastState: {
        terminated: {
          exitCode: 1,
          reason: 'Error',
          startedAt: isoSeconds(lastStart),
          finishedAt: isoSeconds(lastStart),
          containerID: common.containerID,
        },
      },
    };
  });
  const unready = crashing.length > 0 ? crashing : undefined;
  return {
    phase: 'Running',
    conditions: [
      condition('Initialized', true, born),
      condition('Ready', !unready, startedAt, unready),
      condition('ContainersReady', !unready, startedAt, unready),
      scheduled,
    ],
    ...base,
    containerStatuses,
  };
}

function condition(type: string, ok: boolean, at: number, unready?: Container[]): Condition {
  const result: Condition = { type, status: ok ? 'True' : 'False', lastTransitionTime: isoSeconds(at) };
  if (!ok && unready) {
    result.reason = 'ContainersNotReady';
    result.message = `containers with unready status: [${unready.map((c) => c.name).join(' ')}]`;
  }
  return result;
}

function podIp(pod: Pod): string {
  const n = fnv1a32(pod.metadata.uid ?? pod.metadata.name ?? '');
  return `10.244.${(n >>> 8) % 250}.${(n % 250) + 2}`;
}

function digest(text: string): string {
  return Array.from({ length: 8 }, (_, i) => fnv1a32(`${i}:${text}`).toString(16).padStart(8, '0')).join('');
}

function containerId(pod: Pod, container: Container): string {
  return `containerd://${digest(`${pod.metadata.uid}/${container.name}`)}`;
}
