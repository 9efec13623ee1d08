import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KubeEmulator,
  type KubeEmulatorOptions,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import { findBinary } from './binaries.js';

const NAMESPACE = 'messaging-system';

/** A seeded demo cluster on loopback, its pods ready after `podReadyAfterMs`. */
export async function startSeededCluster(
  podReadyAfterMs = 100,
  options: KubeEmulatorOptions = {},
): Promise<KubeEmulator> {
  const kube = new KubeEmulator({ podReadyAfterMs, ...options });
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

export const KUBECTL_INSTALL_HINT =
  'apt-get install -y kubernetes-client (Debian), or any kubectl release on PATH';

/**
 * The real kubectl on PATH. Missing, it throws — a test that needs it fails, never skips — saying
 * how to install it.
 */
export function requireKubectl(): string {
  const path = findBinary('kubectl');
  if (path === undefined) {
    throw new Error(
      `kubectl not found on PATH (${process.env.PATH ?? ''}). Install it with: ${KUBECTL_INSTALL_HINT}`,
    );
  }
  return path;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A kubectl bound to one kubeconfig, with its own discovery cache (a fresh HOME). */
export interface Kubectl {
  (...args: string[]): Promise<KubectlResult>;
  /** The same, but throws with kubectl's stderr unless it exits 0; resolves to stdout. */
  ok(...args: string[]): Promise<string>;
  kubeconfig: string;
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const binary = requireKubectl();
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfig };
  const run = (...args: string[]) =>
    new Promise<KubectlResult>((resolve, reject) => {
      execFile(binary, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    });
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  };
  return Object.assign(run, { ok, kubeconfig });
}

/** kubectl's version (`v1.32.4`), for test names and failure messages. */
export async function kubectlVersion(kubectl: Kubectl): Promise<string> {
  const out = await kubectl.ok('version', '--client', '-o', 'json');
  return (JSON.parse(out) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
}
