import { isCrashLooping } from './kubelet.js';
import { badRequest } from './status.js';
import type { Container, Pod } from './types.js';

const ALL_CONTAINERS = '*';

/** Container logs: lines a test set with `setLogs`, else a few dozen generated ones. */
export class PodLogs {
  private readonly custom = new Map<string, string[]>();

  set(podName: string, lines: string[], container = ALL_CONTAINERS): void {
    this.custom.set(`${podName}/${container}`, [...lines]);
  }

  /** The log text `GET …/pods/{name}/log` answers, with the API server's errors for a bad container. */
  read(pod: Pod, containerName: string | null, tailLines: number | undefined): string {
    const container = pickContainer(pod, containerName);
    const status = pod.status?.containerStatuses?.find((s) => s.name === container.name);
    const waiting = status?.state?.waiting;
    if (waiting && status.restartCount === 0) {
      throw badRequest(
        `container "${container.name}" in pod "${pod.metadata.name}" is waiting to start: ${String(waiting.reason)}`,
      );
    }
    const podName = pod.metadata.name!;
    const lines =
      this.custom.get(`${podName}/${container.name}`) ??
      this.custom.get(`${podName}/${ALL_CONTAINERS}`) ??
      generatedLines(pod, container);
    const tail = tailLines === undefined ? lines : tailLines <= 0 ? [] : lines.slice(-tailLines);
    return tail.map((line) => `${line}\n`).join('');
  }
}

function pickContainer(pod: Pod, name: string | null): Container {
  const containers = pod.spec.containers;
  const podName = pod.metadata.name;
  if (name) {
    const found = containers.find((c) => c.name === name);
    if (!found) throw badRequest(`container ${name} is not valid for pod ${podName}`);
    return found;
  }
  if (containers.length !== 1) {
    throw badRequest(
      `a container name must be specified for pod ${podName}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
    );
  }
  return containers[0]!;
}

/** 40 plausible lines of an application log, stamped from the pod's start. */
function generatedLines(pod: Pod, container: Container): string[] {
  const start = Date.parse(pod.status?.startTime ? String(pod.status.startTime) : '') || Date.now();
  const stamp = (i: number) => new Date(start + i * 1500).toISOString();
  const image = container.image ?? '';
  const lines = [
    `${stamp(0)} INFO ${container.name} started image=${image} pod=${pod.metadata.name}`,
    `${stamp(1)} INFO configuration loaded source=env`,
    `${stamp(2)} INFO listening on :8080`,
  ];
  for (let i = 3; i < 40; i++) {
    if (i % 9 === 0)
      lines.push(`${stamp(i)} WARN slow delivery batch=${i} latency_ms=${180 + ((i * 37) % 120)}`);
    else
      lines.push(
        `${stamp(i)} INFO processed batch=${i} messages=${(i * 17) % 50} latency_ms=${(i * 13) % 90}`,
      );
  }
  if (isCrashLooping(container)) {
    lines.push(`${stamp(40)} ERROR fatal: health check failed, exiting image=${image}`);
    lines.push(`${stamp(41)} ERROR ${container.name} exited code=1`);
  }
  return lines;
}
