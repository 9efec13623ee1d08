import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import {
  KubeStateObjects,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../../src/adapters/storage/kube/state-objects.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger, type Logger } from '../../src/logger.js';

/** The namespace the state backend's tests keep their objects in (its own, as deployed). */
export const STATE_NS = 'switchyard';

/** A client-node KubeConfig for the emulator, as a replica would load it from its kubeconfig. */
export function kubeConfigFor(kube: KubeEmulator): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(kube.kubeConfigYaml(STATE_NS));
  return config;
}

/** A fresh client (its own connections): one per simulated replica. */
export function stateObjectsFor(kube: KubeEmulator): KubeStateObjects {
  return new KubeStateObjects(kubeConfigFor(kube), STATE_NS);
}

/** The backend's objects as the API server holds them (by the managed-by label). */
export function managedObjects(kube: KubeEmulator) {
  return kube
    .list('ConfigMap', STATE_NS)
    .filter((map) => map.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
}

/** A logger whose JSON lines the test can read. */
export function capturedLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    log: createLogger('info', sink),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
