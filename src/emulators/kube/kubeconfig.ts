import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  token: string;
  namespace: string;
  name?: string;
}

/**
 * A kubeconfig with one cluster, one bearer-token user and one current context. A plain `http://`
 * server needs `insecure-skip-tls-verify: true`, or client-node builds an HTTPS agent for it.
 */
export function kubeconfigYaml({
  server,
  token,
  namespace,
  name = 'switchyard-emulator',
}: KubeconfigOptions): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${name}-user`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-user`, namespace } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the file (owner-only, as it holds a token), creating its directory. */
export function writeKubeconfigFile(path: string, yaml: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, yaml, { mode: 0o600 });
}
