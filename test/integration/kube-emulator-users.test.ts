import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeEmulator, type RbacPolicy, rbacPoliciesFromManifest } from '../../src/emulators/kube/index.js';
import { eventually } from '../support/http.js';
import { kubectlFor } from '../support/kube.js';

const A = { token: 'token-a', user: 'system:serviceaccount:switchyard:replica-a' };
const B = { token: 'token-b', user: 'system:serviceaccount:switchyard:replica-b' };

let kube: KubeEmulator;

afterEach(async () => {
  await kube?.stop();
});

async function start(options: { rbac?: RbacPolicy | RbacPolicy[] } = {}): Promise<void> {
  // The main token authenticates as an admin user no Role is bound to.
  kube = new KubeEmulator({
    user: 'kubernetes-admin',
    users: { [A.token]: A.user, [B.token]: B.user },
    ...options,
  });
  await kube.start();
}

function client(token: string, namespace = 'switchyard') {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeconfigFor(token, namespace));
  return { core: kubeConfig.makeApiClient(CoreV1Api), leases: kubeConfig.makeApiClient(CoordinationV1Api) };
}

async function codeOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return {
      code: error.code,
      message:
        typeof error.body === 'string' ? String((JSON.parse(error.body) as { message: string }).message) : '',
    };
  }
  throw new Error('expected the call to fail');
}

const configMap = (name: string) => ({ metadata: { name }, data: { k: 'v' } });

describe('kube emulator: several users', () => {
  it('authenticates each token as its own user, records it on every request, refuses unknown tokens', async () => {
    await start();
    await client(A.token).core.createNamespacedConfigMap({
      namespace: 'switchyard',
      body: configMap('from-a'),
    });
    await client(B.token).core.readNamespacedConfigMap({ namespace: 'switchyard', name: 'from-a' });
    expect(kube.requests.map((r) => [r.user, r.verb])).toEqual([
      [A.user, 'create'],
      [B.user, 'get'],
    ]);
    expect(kube.userOf(A.token)).toBe(A.user);
    expect(() => kube.kubeconfigFor('nobody')).toThrow(/unknown token/);

    const stranger = new KubeConfig();
    stranger.loadFromString(kube.kubeConfigYaml('switchyard').replace(kube.token, 'nobody-token'));
    const refused = await codeOf(
      stranger.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'switchyard', name: 'from-a' }),
    );
    expect(refused.code).toBe(401);
    expect(kube.requests.at(-1)?.user).toBeUndefined();
  });
});

describe('kube emulator: partitions', () => {
  it("hangs a partitioned user's requests unprocessed while others are served; the heal drops them", async () => {
    await start();
    const a = client(A.token);
    kube.partition(A.user);
    const hanging = a.core
      .createNamespacedConfigMap({ namespace: 'switchyard', body: configMap('lost-in-partition') })
      .then(
        () => 'answered',
        (error: unknown) => `failed: ${(error as Error).message}`,
      );
    await eventually(() => expect(kube.requests.filter((r) => r.user === A.user)).toHaveLength(1));

    // The other replica is served meanwhile; the partitioned request was not processed.
    const listed = await client(B.token).core.listNamespacedConfigMap({ namespace: 'switchyard' });
    expect(listed.items).toEqual([]);
    expect(kube.requests.find((r) => r.user === A.user)?.status).toBe(0);

    kube.heal(A.user);
    expect(await hanging).toMatch(/^failed: /);
    expect(kube.get('ConfigMap', 'switchyard', 'lost-in-partition')).toBeUndefined();
    // Healed, its new requests are served.
    await a.core.createNamespacedConfigMap({ namespace: 'switchyard', body: configMap('after-heal') });
    expect(kube.get('ConfigMap', 'switchyard', 'after-heal')?.data).toEqual({ k: 'v' });
  });

  it('resetFaults heals every partition', async () => {
    await start();
    kube.partition(B.user);
    const hanging = client(B.token)
      .core.listNamespacedConfigMap({ namespace: 'switchyard' })
      .then(
        () => 'answered',
        () => 'dropped',
      );
    await eventually(() => expect(kube.requests).toHaveLength(1));
    kube.resetFaults();
    expect(await hanging).toBe('dropped');
    await client(B.token).core.listNamespacedConfigMap({ namespace: 'switchyard' });
  });
});

const TWO_ROLES = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: switchyard-state, namespace: switchyard }
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, list, create, update]
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch, create, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: switchyard-state, namespace: switchyard }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: switchyard-state }
subjects:
  - { kind: ServiceAccount, name: replica-a, namespace: switchyard }
  - { kind: ServiceAccount, name: replica-b, namespace: switchyard }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: switchyard, namespace: messaging-system }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [messaging-flags]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: switchyard, namespace: messaging-system }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: switchyard }
subjects:
  - { kind: ServiceAccount, name: replica-a, namespace: switchyard }
`;

describe('kube emulator: RBAC with several Roles', () => {
  it('reads every Role of a manifest with every ServiceAccount bound to it', () => {
    expect(rbacPoliciesFromManifest(TWO_ROLES)).toEqual([
      { namespace: 'switchyard', rules: expect.any(Array), user: A.user },
      { namespace: 'switchyard', rules: expect.any(Array), user: B.user },
      {
        namespace: 'messaging-system',
        rules: [
          { apiGroups: [''], resources: ['configmaps'], resourceNames: ['messaging-flags'], verbs: ['get'] },
        ],
        user: A.user,
      },
    ]);
    expect(() => rbacPoliciesFromManifest('kind: Role\nmetadata: { name: x, namespace: y }\n')).toThrow(
      /no RoleBinding of Role x/,
    );
  });

  it('allows a request when any Role bound to its user in its namespace allows it', async () => {
    await start({ rbac: rbacPoliciesFromManifest(TWO_ROLES) });
    kube.apply({
      kind: 'ConfigMap',
      metadata: { name: 'messaging-flags', namespace: 'messaging-system' },
      data: {},
    });
    const a = client(A.token);
    const b = client(B.token);
    const lease = { metadata: { name: 'switchyard-leader' }, spec: { holderIdentity: 'replica-a' } };

    await a.leases.createNamespacedLease({ namespace: 'switchyard', body: lease });
    await b.leases.readNamespacedLease({ namespace: 'switchyard', name: 'switchyard-leader' });
    await a.core.readNamespacedConfigMap({ namespace: 'messaging-system', name: 'messaging-flags' });

    // B has no Role in messaging-system; A's Role there names one ConfigMap; no one may delete a Lease.
    expect(
      await codeOf(
        b.core.readNamespacedConfigMap({ namespace: 'messaging-system', name: 'messaging-flags' }),
      ),
    ).toEqual({
      code: 403,
      message: `configmaps "messaging-flags" is forbidden: User "${B.user}" cannot get resource "configmaps" in API group "" in the namespace "messaging-system"`,
    });
    expect((await codeOf(a.core.listNamespacedConfigMap({ namespace: 'messaging-system' }))).code).toBe(403);
    expect(
      (await codeOf(a.leases.deleteNamespacedLease({ namespace: 'switchyard', name: 'switchyard-leader' })))
        .code,
    ).toBe(403);
    // The main token has no Role at all.
    expect(
      (await codeOf(client(kube.token).core.listNamespacedConfigMap({ namespace: 'switchyard' }))).code,
    ).toBe(403);
  });

  it('kubectl with a second token is refused as that user', async () => {
    await start({ rbac: rbacPoliciesFromManifest(TWO_ROLES) });
    const path = join(mkdtempSync(join(tmpdir(), 'kube-users-')), 'kubeconfig');
    const kubectl = kubectlFor(kube.writeKubeconfig(path, 'messaging-system', B.token));
    const result = await kubectl('get', 'configmap', 'messaging-flags');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`User "${B.user}" cannot get resource "configmaps"`);
    expect(await kubectl.ok('get', 'lease', '-n', 'switchyard')).toBe('');
  });
});
