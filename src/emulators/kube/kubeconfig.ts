import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  token: string;
  namespace: string;
  name?: string;
  /** PEM of the CA that signed the server's certificate, for an `https://` server. */
  caPem?: string;
}

/**
 * A kubeconfig with one cluster, one bearer-token user and one current context. An `https://` server
 * comes with its CA (`certificate-authority-data`), which kubectl and client-node both verify. A plain
 * `http://` server needs `insecure-skip-tls-verify: true`, or client-node builds an HTTPS agent for it
 * (and kubectl would send it no token at all).
 */
export function kubeconfigYaml({
  server,
  token,
  namespace,
  name = 'switchyard-emulator',
  caPem,
}: KubeconfigOptions): string {
  const trust = caPem
    ? { 'certificate-authority-data': Buffer.from(caPem).toString('base64') }
    : { 'insecure-skip-tls-verify': true };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, ...trust } }],
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
