import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SEED_FLAGS } from '../../src/core/flags/catalog.js';
import {
  FLAGS_CONFIGMAP_NAME,
  KubeEmulator,
  rbacFromManifest,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import type { TestBot } from '../support/bot.js';
import { exerciseMessagingCalls } from '../support/cluster-calls.js';
import { kubectlFor } from '../support/kube.js';

const NS = 'messaging-system';

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: unknown };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents, read by known paths in assertions
type Manifest = Record<string, any>;

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(`deploy/kubernetes/base/${file}`, 'utf8')).map((doc) => doc.toJS());
}

// The messaging Role: the first in the file (rbacFromManifest enforces the first). The Role on the
// bot's own namespace (state, Lease) is checked by kube-rbac-ha.test.ts.
const role = manifests('rbac.yaml').find((doc) => doc.kind === 'Role') as {
  metadata: { namespace: string };
  rules: Rule[];
};

let kube: KubeEmulator;
let t: TestBot;
let dir: string;
/** The ServiceAccount lives in the bot's own namespace, bound to the Role in the messaging one. */
const BOT_USER = 'system:serviceaccount:switchyard:switchyard';

beforeAll(async () => {
  // The API server enforces the shipped Role for the bot's token, as a real cluster's RBAC does.
  kube = new KubeEmulator({
    podReadyAfterMs: 100,
    rbac: rbacFromManifest(readFileSync('deploy/kubernetes/base/rbac.yaml', 'utf8')),
  });
  await kube.start();
  dir = mkdtempSync(join(tmpdir(), 'kube-rbac-'));
  seedMessagingSystem(kube);
  t = await exerciseMessagingCalls(kube);
});
afterAll(async () => {
  await t?.stop();
  await kube.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The failure of a client call: its HTTP code and Status body. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, status: JSON.parse(error.body as string) as Record<string, unknown> };
  }
  throw new Error('expected the API server to refuse the call');
}

describe('deploy/kubernetes RBAC against the calls the bot makes', () => {
  const calls = () =>
    kube.requests
      .filter((r) => r.resource !== undefined)
      .map((r) => ({
        group: r.apiGroup ?? '',
        resource: r.resource!,
        verb: r.verb,
        name: r.name,
        namespace: r.namespace,
      }));
  it('exercised every kind of call (sanity)', () => {
    const kinds = new Set(calls().map((c) => `${c.verb} ${c.resource}`));
    expect([...kinds].sort()).toEqual(
      [
        'get configmaps',
        'update configmaps',
        'get deployments',
        'list deployments',
        'patch deployments',
        'list replicasets',
        'list pods',
        'get pods/log',
      ].sort(),
    );
    expect(kube.requests.some((r) => r.verb === 'update' && r.status === 409)).toBe(true);
    expect(kube.requests.some((r) => r.verb === 'patch' && r.name === 'messaging-retry-engine')).toBe(true);
  });

  it('the API server enforcing the Role refused none of the calls the bot made, all in its namespace', () => {
    expect(role.metadata.namespace).toBe(NS);
    expect(calls().filter((call) => call.namespace !== NS)).toEqual([]);
    const refused = kube.requests.filter((r) => r.status === 403 || r.status === 401);
    expect(refused.map((r) => `${r.verb} ${r.resource} ${r.name ?? ''}`)).toEqual([]);
  });

  it('answers 403 with a Status body, as RBAC does, to what the Role does not grant, and changes nothing', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kube.writeKubeconfig(join(dir, 'bot-kubeconfig')));
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const deleted = await refusal(apps.deleteNamespacedDeployment({ name: 'messaging-core', namespace: NS }));
    expect(deleted).toEqual({
      code: 403,
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `deployments.apps "messaging-core" is forbidden: User "${BOT_USER}" cannot delete resource "deployments" in API group "apps" in the namespace "${NS}"`,
        reason: 'Forbidden',
        details: { name: 'messaging-core', group: 'apps', kind: 'deployments' },
        code: 403,
      },
    });
    expect(kube.get('Deployment', NS, 'messaging-core')).toBeDefined();

    // The ConfigMap rule names one object: another name, a list or a create are refused.
    const other = await refusal(core.readNamespacedConfigMap({ name: 'other-settings', namespace: NS }));
    expect(other.status.message).toBe(
      `configmaps "other-settings" is forbidden: User "${BOT_USER}" cannot get resource "configmaps" in API group "" in the namespace "${NS}"`,
    );
    expect((await refusal(core.listNamespacedConfigMap({ namespace: NS }))).code).toBe(403);
    const create = core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'sneaky' }, data: { a: 'b' } },
    });
    expect((await refusal(create)).code).toBe(403);
    expect(kube.get('ConfigMap', NS, 'sneaky')).toBeUndefined();
    // Nothing outside the Role's namespace; no ReplicaSet writes.
    expect((await refusal(apps.listNamespacedDeployment({ namespace: 'kube-system' }))).code).toBe(403);
    const [rs] = kube.list('ReplicaSet', NS);
    const scale = apps.deleteNamespacedReplicaSet({ name: rs!.metadata.name!, namespace: NS });
    expect((await refusal(scale)).code).toBe(403);
    // What the Role grants still works with the same token.
    expect(
      (await core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS })).data,
    ).toBeDefined();
  });

  it("real kubectl with the bot's kubeconfig: lists what the Role grants, is Forbidden the rest", async () => {
    const kubectl = kubectlFor(kube.writeKubeconfig(join(dir, 'kubectl-kubeconfig')));
    const listed = await kubectl.ok('get', 'deployments');
    expect(listed).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(listed).toContain('messaging-core');
    const removal = await kubectl('delete', 'deployment', 'messaging-core');
    expect(removal.code).not.toBe(0);
    expect(removal.stderr).toContain(
      `Error from server (Forbidden): deployments.apps "messaging-core" is forbidden: User "${BOT_USER}" cannot delete resource "deployments" in API group "apps" in the namespace "${NS}"`,
    );
    expect(kube.get('Deployment', NS, 'messaging-core')).toBeDefined();
    const maps = await kubectl('get', 'configmaps');
    expect(maps.code).not.toBe(0);
    expect(maps.stderr).toContain('cannot list resource "configmaps" in API group ""');
  });

  it('grants nothing the bot does not use: every verb on every resource (and name) of every rule was called', () => {
    const unused: string[] = [];
    for (const rule of role.rules) {
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs)
            for (const name of rule.resourceNames ?? [undefined]) {
              const used = calls().some(
                (call) =>
                  call.group === group &&
                  call.resource === resource &&
                  call.verb === verb &&
                  (name === undefined || call.name === name),
              );
              if (!used) unused.push(`${verb} ${group}/${resource}${name ? `/${name}` : ''}`);
            }
    }
    expect(unused).toEqual([]);
  });

  it('binds the Role to the service account the bot Deployment runs as', () => {
    const binding = manifests('rbac.yaml').find((doc) => doc.kind === 'RoleBinding')!;
    const deployment = manifests('switchyard.yaml').find((doc) => doc.kind === 'Deployment')!;
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'switchyard' });
    expect(binding.metadata.namespace).toBe(NS);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'switchyard', namespace: 'switchyard' },
    ]);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('switchyard');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    const secretKeys = container.env
      .filter((e: EnvVar) => e.valueFrom?.secretKeyRef)
      .map((e: EnvVar) => e.name)
      .sort();
    expect(secretKeys).toEqual([
      'ALERTMANAGER_WEBHOOK_TOKEN',
      'FLAG_API_TOKEN',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
  });

  it('ships the flag ConfigMap the Role names, with every flag at its seed default, consumed by the example', () => {
    const map = manifests('flags-configmap.yaml')[0]!;
    expect(role.rules.find((rule) => rule.resources.includes('configmaps'))?.resourceNames).toEqual([
      map.metadata.name,
    ]);
    expect(map.metadata.name).toBe(FLAGS_CONFIGMAP_NAME);
    expect(map.data).toEqual(
      Object.fromEntries(SEED_FLAGS.map((flag) => [flag.envVar, String(flag.defaultEnabled)])),
    );
    const example = manifests('messaging-core.example.yaml')[0]!;
    expect(example.spec.template.spec.containers[0].envFrom).toEqual([
      { configMapRef: { name: map.metadata.name } },
    ]);
  });
});
