import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FLAGS_CONFIGMAP_NAME,
  KubeEmulator,
  MESSAGING_FLAG_DEFAULTS,
  REVISION_ANNOTATION,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import { applyJsonPatch, applyStrategicMergePatch, parsePointer } from '../../src/emulators/kube/patch.js';

const NS = 'messaging-system';
const HASH = /^[bcdfghjklmnpqrstvwxz2456789]{5,10}$/;
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

let emulator: KubeEmulator;
let dir: string;
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;
let coordination: CoordinationV1Api;

async function startCluster(podReadyAfterMs: number): Promise<void> {
  emulator = new KubeEmulator({ podReadyAfterMs });
  await emulator.start();
  seedMessagingSystem(emulator);
  dir = mkdtempSync(join(tmpdir(), 'kube-emulator-'));
  const path = emulator.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = new KubeConfig();
  kc.loadFromFile(path);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  coordination = kc.makeApiClient(CoordinationV1Api);
}

/** The failure of a client call: the ApiException's code and its Status body. */
async function failure(call: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, status: JSON.parse(error.body as string) as Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached: ${JSON.stringify(value, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const readDeployment = (name: string) => apps.readNamespacedDeployment({ name, namespace: NS });
const progressing = (d: V1Deployment) => d.status?.conditions?.find((c) => c.type === 'Progressing');

/** `kubectl rollout status`, through the client. */
function rolledOut(d: V1Deployment): boolean {
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    updated === d.spec?.replicas &&
    (s.replicas ?? 0) === updated &&
    (s.availableReplicas ?? 0) === updated
  );
}

async function replicaSetsOf(app: string) {
  const list = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `app=${app}` });
  return list.items.sort(
    (a, b) =>
      Number(a.metadata?.annotations?.[REVISION_ANNOTATION]) -
      Number(b.metadata?.annotations?.[REVISION_ANNOTATION]),
  );
}

async function setImage(name: string, image: string): Promise<V1Deployment> {
  return apps.patchNamespacedDeployment(
    {
      name,
      namespace: NS,
      body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }],
    },
    jsonPatch,
  );
}

describe('kube emulator through @kubernetes/client-node', () => {
  beforeEach(async () => {
    await startCluster(300);
  });

  afterEach(async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a kubeconfig that the client loads: HTTPS, the CA of the self-signed certificate, a token', () => {
    expect(kc.getCurrentCluster()).toMatchObject({ server: emulator.url, skipTLSVerify: false });
    expect(emulator.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(emulator.caPem);
    expect(kc.getCurrentUser()?.token).toBe(emulator.token);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(NS);
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('verifies the certificate: a client trusting another CA is refused before any request', async () => {
    const other = new KubeEmulator();
    await other.start();
    try {
      const yaml = emulator
        .kubeConfigYaml()
        .replace(
          Buffer.from(emulator.caPem!).toString('base64'),
          Buffer.from(other.caPem!).toString('base64'),
        );
      const wrong = new KubeConfig();
      wrong.loadFromString(yaml);
      const before = emulator.requests.length;
      await expect(wrong.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS })).rejects.toThrow(
        /certificate/i,
      );
      expect(emulator.requests.length).toBe(before);
    } finally {
      await other.stop();
    }
  });

  it('still serves plain HTTP when asked (tls: false), with a kubeconfig that skips verification', async () => {
    const plain = new KubeEmulator({ tls: false });
    await plain.start();
    try {
      expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const config = new KubeConfig();
      config.loadFromString(plain.kubeConfigYaml());
      expect(config.getCurrentCluster()).toMatchObject({ skipTLSVerify: true });
      const maps = await config.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS });
      expect(maps.items).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  it('seeds the messaging system rolled out to revision 1 with ready pods', async () => {
    const core1 = await readDeployment('messaging-core');
    expect(core1.metadata?.generation).toBe(1);
    expect(core1.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect(core1.spec?.template.spec?.containers[0]?.image).toBe('registry.local/messaging-core:1.0.0');
    expect(core1.status).toMatchObject({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(core1.status?.unavailableReplicas).toBeUndefined();
    expect(core1.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);

    const [rs, ...more] = await replicaSetsOf('messaging-core');
    expect(more).toHaveLength(0);
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    expect(hash).toMatch(HASH);
    expect(rs!.metadata?.name).toBe(`messaging-core-${hash}`);
    expect(rs!.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect(rs!.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'messaging-core',
        uid: core1.metadata?.uid,
        controller: true,
      }),
    ]);
    expect(rs!.spec?.selector.matchLabels).toEqual({ app: 'messaging-core', 'pod-template-hash': hash });
    expect(rs!.spec?.template?.metadata?.labels?.['pod-template-hash']).toBe(hash);
    expect(rs!.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });

    const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=messaging-core' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.metadata?.name).toMatch(
        new RegExp(`^messaging-core-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
      );
      expect(pod.metadata?.labels).toMatchObject({ app: 'messaging-core', 'pod-template-hash': hash });
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        uid: rs!.metadata?.uid,
      });
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(pod.status?.containerStatuses?.[0]).toMatchObject({
        image: 'registry.local/messaging-core:1.0.0',
        ready: true,
        restartCount: 0,
      });
    }

    for (const name of ['messaging-timing-engine', 'messaging-retry-engine']) {
      const d = await readDeployment(name);
      expect(d.spec?.replicas).toBe(1);
      expect(d.status?.readyReplicas).toBe(1);
      expect(d.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    }

    const flags = await core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS });
    const data = flags.data ?? {};
    expect(Object.keys(data).filter((k) => k.startsWith('MESSAGING_'))).toHaveLength(22);
    expect(data.MESSAGING_CIRCUIT_BREAKER).toBe('true');
    expect(data.MESSAGING_TIMING_FALLBACK).toBe('true');
    expect(data.MESSAGING_ADAPTIVE_TIMING).toBe('false');
    expect(data.MESSAGING_RESOURCE_POOLING).toBe('false');
    expect(data.OTHER_SETTING).toBe('keep-me');
    expect(Object.values(MESSAGING_FLAG_DEFAULTS).filter(Boolean)).toHaveLength(9);
  });

  it('rolls a template change out as a new revision, and reuses the old ReplicaSet on the way back', async () => {
    // New pods become ready only when the test says so (not after a delay a busy machine can outrun).
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    await startCluster(600_000);
    const [first] = await replicaSetsOf('messaging-core');

    const patched = await setImage('messaging-core', 'registry.local/messaging-core:1.1.0');
    expect(patched.metadata?.generation).toBe(2);
    emulator.reconcile(); // the controller's next pass, now: the new pods are still pending
    const rolling = await readDeployment('messaging-core');
    expect(rolling.status?.observedGeneration).toBe(2);
    expect(progressing(rolling)).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated' });
    expect(rolling.status).toMatchObject({
      replicas: 4,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(rolling.status?.unavailableReplicas).toBe(2);

    emulator.reconcile({ podsReadyNow: true });
    const second = await eventually(() => readDeployment('messaging-core'), rolledOut);
    expect(second.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(progressing(second)?.reason).toBe('NewReplicaSetAvailable');

    let sets = await replicaSetsOf('messaging-core');
    expect(sets.map((rs) => [rs.metadata?.annotations?.[REVISION_ANNOTATION], rs.spec?.replicas])).toEqual([
      ['1', 0],
      ['2', 2],
    ]);
    expect(sets[1]!.metadata?.name).not.toBe(first!.metadata?.name);
    const pods = await eventually(
      () => core.listNamespacedPod({ namespace: NS, labelSelector: 'app=messaging-core' }),
      (list) => list.items.length === 2,
    );
    expect(pods.items.map((p) => p.spec?.containers[0]?.image)).toEqual([
      'registry.local/messaging-core:1.1.0',
      'registry.local/messaging-core:1.1.0',
    ]);

    await setImage('messaging-core', 'registry.local/messaging-core:1.2.0');
    emulator.reconcile({ podsReadyNow: true });
    const third = await eventually(() => readDeployment('messaging-core'), rolledOut);
    expect(third.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');

    // Back to revision 1's template: the first ReplicaSet is reused and becomes revision 4.
    await setImage('messaging-core', 'registry.local/messaging-core:1.0.0');
    emulator.reconcile({ podsReadyNow: true });
    const fourth = await eventually(() => readDeployment('messaging-core'), rolledOut);
    expect(fourth.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('4');
    expect(fourth.metadata?.generation).toBe(4);
    sets = await replicaSetsOf('messaging-core');
    expect(sets).toHaveLength(3);
    const reused = sets[2]!;
    expect(reused.metadata?.uid).toBe(first!.metadata?.uid);
    expect(reused.metadata?.annotations).toMatchObject({
      [REVISION_ANNOTATION]: '4',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(sets.map((rs) => rs.spec?.replicas)).toEqual([0, 0, 2]);
  });

  it('answers 409 Conflict to a replace with a stale resourceVersion, and AlreadyExists to a second create', async () => {
    const original = await core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS });
    const fresh = structuredClone(original);
    fresh.data = { ...fresh.data, MESSAGING_RETRY_LOGIC: 'true' };
    const replaced = await core.replaceNamespacedConfigMap({
      name: FLAGS_CONFIGMAP_NAME,
      namespace: NS,
      body: fresh,
    });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(
      Number(original.metadata?.resourceVersion),
    );

    const stale = structuredClone(original);
    stale.data = { ...stale.data, MESSAGING_DASHBOARD: 'false' };
    const { code, status } = await failure(
      core.replaceNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS, body: stale }),
    );
    expect(code).toBe(409);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409 });
    expect(status.message).toBe(
      'Operation cannot be fulfilled on configmaps "messaging-feature-flags": the object has been modified; please apply your changes to the latest version and try again',
    );
    const kept = await core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS });
    expect(kept.data?.MESSAGING_DASHBOARD).toBe('true');
    expect(kept.data?.MESSAGING_RETRY_LOGIC).toBe('true');

    const deployment = await readDeployment('messaging-retry-engine');
    await apps.patchNamespacedDeployment(
      { name: 'messaging-retry-engine', namespace: NS, body: { spec: { replicas: 2 } } },
      mergePatch,
    );
    const conflict = await failure(
      apps.replaceNamespacedDeployment({ name: 'messaging-retry-engine', namespace: NS, body: deployment }),
    );
    expect(conflict.code).toBe(409);

    const exists = await failure(
      core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: FLAGS_CONFIGMAP_NAME }, data: {} },
      }),
    );
    expect(exists.code).toBe(409);
    expect(exists.status).toMatchObject({
      reason: 'AlreadyExists',
      message: 'configmaps "messaging-feature-flags" already exists',
    });
  });

  it('answers 404 NotFound with a Status, as the API server does', async () => {
    const { code, status } = await failure(readDeployment('nope'));
    expect(code).toBe(404);
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
      code: 404,
    });
  });

  it('answers 403 Forbidden with the RBAC message for a denied verb, and records every call', async () => {
    emulator.requests.length = 0;
    const undo = emulator.deny('patch', 'deployments');
    const { code, status } = await failure(setImage('messaging-core', 'registry.local/messaging-core:2.0.0'));
    expect(code).toBe(403);
    expect(status).toMatchObject({ reason: 'Forbidden', code: 403 });
    expect(status.message).toBe(
      'deployments.apps "messaging-core" is forbidden: User "system:serviceaccount:messaging-system:switchyard" cannot patch resource "deployments" in API group "apps" in the namespace "messaging-system"',
    );
    expect((await readDeployment('messaging-core')).metadata?.generation).toBe(1);

    undo();
    await setImage('messaging-core', 'registry.local/messaging-core:2.0.0');
    const [pod] = emulator.list('Pod', NS).filter((p) => p.metadata.labels?.app === 'messaging-retry-engine');
    await core.readNamespacedPodLog({ name: pod!.metadata.name!, namespace: NS, tailLines: 1 });

    expect(
      emulator.requests.map((r) => [r.method, r.verb, r.resource, r.apiGroup, r.name, r.status]),
    ).toEqual([
      ['PATCH', 'patch', 'deployments', 'apps', 'messaging-core', 403],
      ['GET', 'get', 'deployments', 'apps', 'messaging-core', 200],
      ['PATCH', 'patch', 'deployments', 'apps', 'messaging-core', 200],
      ['GET', 'get', 'pods/log', '', pod!.metadata.name, 200],
    ]);
    expect(emulator.requests[3]).toMatchObject({
      path: `/api/v1/namespaces/${NS}/pods/${pod!.metadata.name}/log`,
      query: 'tailLines=1',
      namespace: NS,
    });
  });

  it('applies JSON patches (with pointer escaping and test) and merge patches to a ConfigMap', async () => {
    const patched = await core.patchNamespacedConfigMap(
      {
        name: FLAGS_CONFIGMAP_NAME,
        namespace: NS,
        body: [
          { op: 'test', path: '/data/MESSAGING_ADAPTIVE_TIMING', value: 'false' },
          { op: 'replace', path: '/data/MESSAGING_ADAPTIVE_TIMING', value: 'true' },
          { op: 'add', path: '/metadata/annotations', value: {} },
          { op: 'add', path: '/metadata/annotations/switchyard.io~1changed-by', value: 'U0AAAAAAA' },
        ],
      },
      jsonPatch,
    );
    expect(patched.data?.MESSAGING_ADAPTIVE_TIMING).toBe('true');
    expect(patched.metadata?.annotations).toEqual({ 'switchyard.io/changed-by': 'U0AAAAAAA' });

    const failed = await failure(
      core.patchNamespacedConfigMap(
        {
          name: FLAGS_CONFIGMAP_NAME,
          namespace: NS,
          body: [
            { op: 'test', path: '/data/MESSAGING_ADAPTIVE_TIMING', value: 'false' },
            { op: 'replace', path: '/data/MESSAGING_ADAPTIVE_TIMING', value: 'false' },
          ],
        },
        jsonPatch,
      ),
    );
    expect(failed.code).toBe(422);
    expect(failed.status).toMatchObject({
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
      details: {
        causes: [{ reason: 'UnexpectedServerResponse', message: expect.stringMatching(/test failed/) }],
      },
    });
    const staleLock = await failure(
      core.patchNamespacedConfigMap(
        {
          name: FLAGS_CONFIGMAP_NAME,
          namespace: NS,
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: '1' },
            { op: 'remove', path: '/data/OTHER_SETTING' },
          ],
        },
        jsonPatch,
      ),
    );
    expect(staleLock.code).toBe(422);

    const merged = await core.patchNamespacedConfigMap(
      {
        name: FLAGS_CONFIGMAP_NAME,
        namespace: NS,
        body: { data: { MESSAGING_RETRY_LOGIC: 'true', OTHER_SETTING: null } },
      },
      mergePatch,
    );
    expect(merged.data?.MESSAGING_RETRY_LOGIC).toBe('true');
    expect(merged.data?.MESSAGING_ADAPTIVE_TIMING).toBe('true');
    expect(merged.data).not.toHaveProperty('OTHER_SETTING');
    expect(Object.keys(merged.data ?? {})).toHaveLength(22);

    const notString = await failure(
      core.patchNamespacedConfigMap(
        { name: FLAGS_CONFIGMAP_NAME, namespace: NS, body: { data: { MESSAGING_RETRY_LOGIC: true } } },
        mergePatch,
      ),
    );
    expect(notString.code).toBe(400);
  });

  it('merges containers and env by name in a strategic merge patch', async () => {
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'messaging-retry-engine',
        namespace: NS,
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'messaging-retry-engine', env: [{ name: 'LOG_LEVEL', value: 'debug' }] },
                ],
              },
            },
          },
        },
      },
      strategicPatch,
    );
    const [container, ...others] = patched.spec?.template.spec?.containers ?? [];
    expect(others).toHaveLength(0);
    expect(container?.image).toBe('registry.local/messaging-retry-engine:1.0.0');
    expect(container?.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);
    expect(container?.envFrom).toEqual([{ configMapRef: { name: FLAGS_CONFIGMAP_NAME } }]);
    const rolled = await eventually(() => readDeployment('messaging-retry-engine'), rolledOut);
    expect(rolled.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
  });

  it('patches by the RFC rules (unit level)', () => {
    expect(parsePointer('/a~1b/c~0d/~01')).toEqual(['a/b', 'c~d', '~1']);
    expect(applyJsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/-', value: 3 }])).toEqual({ a: [1, 2, 3] });
    expect(applyJsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/0', value: 0 }])).toEqual({ a: [0, 1, 2] });
    expect(applyJsonPatch({ 'x~y': 1 }, [{ op: 'remove', path: '/x~0y' }])).toEqual({});
    expect(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/b' }])).toEqual({ b: 1 });
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).toThrow(/missing path/);
    expect(
      applyStrategicMergePatch(
        {
          containers: [
            { name: 'a', image: 'a:1' },
            { name: 'b', image: 'b:1' },
          ],
          args: ['x'],
        },
        {
          containers: [
            { name: 'b', $patch: 'delete' },
            { name: 'c', image: 'c:1' },
          ],
          args: ['y'],
        },
      ),
    ).toEqual({
      containers: [
        { name: 'a', image: 'a:1' },
        { name: 'c', image: 'c:1' },
      ],
      args: ['y'],
    });
  });

  it('lists by equality- and set-based label selectors', async () => {
    const names = async (labelSelector: string) =>
      (await core.listNamespacedPod({ namespace: NS, labelSelector })).items
        .map((p) => p.metadata?.labels?.app)
        .sort();
    expect(await names('app in (messaging-core,messaging-retry-engine)')).toEqual([
      'messaging-core',
      'messaging-core',
      'messaging-retry-engine',
    ]);
    expect(await names('app!=messaging-core')).toEqual(['messaging-retry-engine', 'messaging-timing-engine']);
    expect(await names('app notin (messaging-core),app.kubernetes.io/part-of=messaging-system')).toEqual([
      'messaging-retry-engine',
      'messaging-timing-engine',
    ]);
    expect(await names('app==messaging-timing-engine,pod-template-hash')).toEqual([
      'messaging-timing-engine',
    ]);
    expect(await names('!pod-template-hash')).toEqual([]);
    expect(await names('app=nothing')).toEqual([]);
    const deployments = await apps.listNamespacedDeployment({
      namespace: NS,
      labelSelector: 'app=messaging-core',
    });
    expect(deployments.items.map((d) => d.metadata?.name)).toEqual(['messaging-core']);
    expect(Number(deployments.metadata?.resourceVersion)).toBeGreaterThan(0);
    const bad = await failure(
      core.listNamespacedPod({ namespace: NS, labelSelector: 'app in messaging-core' }),
    );
    expect(bad.code).toBe(400);
  });

  it('scales without a new revision, pauses, and resumes into one', async () => {
    await apps.patchNamespacedDeployment(
      { name: 'messaging-core', namespace: NS, body: { spec: { replicas: 3 } } },
      mergePatch,
    );
    const scaled = await eventually(() => readDeployment('messaging-core'), rolledOut);
    expect(scaled.status?.readyReplicas).toBe(3);
    expect(scaled.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect(await replicaSetsOf('messaging-core')).toHaveLength(1);

    await apps.patchNamespacedDeployment(
      {
        name: 'messaging-core',
        namespace: NS,
        body: [
          { op: 'add', path: '/spec/paused', value: true },
          {
            op: 'replace',
            path: '/spec/template/spec/containers/0/image',
            value: 'registry.local/messaging-core:1.5.0',
          },
        ],
      },
      jsonPatch,
    );
    const paused = await eventually(
      () => readDeployment('messaging-core'),
      (d) => progressing(d)?.reason === 'DeploymentPaused',
    );
    expect(progressing(paused)?.status).toBe('Unknown');
    expect(paused.status?.observedGeneration).toBe(paused.metadata?.generation);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await replicaSetsOf('messaging-core')).toHaveLength(1);

    await apps.patchNamespacedDeployment(
      { name: 'messaging-core', namespace: NS, body: { spec: { paused: null } } },
      mergePatch,
    );
    const resumed = await eventually(() => readDeployment('messaging-core'), rolledOut);
    expect(resumed.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(progressing(resumed)?.reason).toBe('NewReplicaSetAvailable');
  });

  it('ends a crashlooping rollout with ProgressDeadlineExceeded and keeps the old pods serving', async () => {
    await apps.patchNamespacedDeployment(
      {
        name: 'messaging-timing-engine',
        namespace: NS,
        body: {
          spec: {
            progressDeadlineSeconds: 2,
            template: {
              spec: {
                containers: [
                  {
                    name: 'messaging-timing-engine',
                    image: 'registry.local/messaging-timing-engine:crashloop',
                  },
                ],
              },
            },
          },
        },
      },
      strategicPatch,
    );
    const stuck = await eventually(
      () => readDeployment('messaging-timing-engine'),
      (d) => progressing(d)?.reason === 'ProgressDeadlineExceeded',
      8000,
    );
    const [oldRs, newRs] = await replicaSetsOf('messaging-timing-engine');
    expect(progressing(stuck)).toMatchObject({
      status: 'False',
      message: `ReplicaSet "${newRs!.metadata?.name}" has timed out progressing.`,
    });
    expect(stuck.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(stuck.status).toMatchObject({
      replicas: 2,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
    });
    expect(rolledOut(stuck)).toBe(false);
    expect(oldRs!.spec?.replicas).toBe(1);

    const pods = await core.listNamespacedPod({
      namespace: NS,
      labelSelector: `pod-template-hash=${newRs!.metadata?.labels?.['pod-template-hash']}`,
    });
    const status = pods.items[0]?.status?.containerStatuses?.[0];
    expect(status?.ready).toBe(false);
    expect(status?.restartCount).toBeGreaterThan(1);
    expect(status?.state?.waiting?.reason).toBe('CrashLoopBackOff');
  });

  it('makes new pods ready only after the delay', async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    await startCluster(600);
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'fresh', labels: { app: 'fresh' } },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'fresh' } },
          template: {
            metadata: { labels: { app: 'fresh' } },
            spec: { containers: [{ name: 'fresh', image: 'registry.local/fresh:1' }] },
          },
        },
      },
    });
    const started = Date.now();
    const pending = await eventually(
      () => core.listNamespacedPod({ namespace: NS, labelSelector: 'app=fresh' }),
      (list) => list.items.length === 3,
    );
    expect(pending.items.map((p) => p.status?.phase)).toEqual(['Pending', 'Pending', 'Pending']);
    const waiting = await failure(
      core.readNamespacedPodLog({ name: pending.items[0]!.metadata!.name!, namespace: NS }),
    );
    expect(waiting.code).toBe(400);
    expect(waiting.status.message).toMatch(/is waiting to start: ContainerCreating/);

    const done = await eventually(() => readDeployment('fresh'), rolledOut);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(done.metadata?.generation).toBe(1);
    expect(done.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(done.spec).toMatchObject({ progressDeadlineSeconds: 600, revisionHistoryLimit: 10 });
  });

  it('serves pod logs with tailLines, generated or set per pod', async () => {
    const [pod] = emulator.list('Pod', NS).filter((p) => p.metadata.labels?.app === 'messaging-core');
    const name = pod!.metadata.name!;
    const all = await core.readNamespacedPodLog({ name, namespace: NS });
    const lines = all.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(30);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\S+Z INFO messaging-core started image=registry\\.local/messaging-core:1\\.0\\.0 pod=${name}$`,
      ),
    );
    const tail = await core.readNamespacedPodLog({ name, namespace: NS, tailLines: 3 });
    expect(tail).toBe(`${lines.slice(-3).join('\n')}\n`);

    emulator.setLogs(name, ['one', 'two', 'three']);
    expect(await core.readNamespacedPodLog({ name, namespace: NS, tailLines: 2 })).toBe('two\nthree\n');
    expect(await core.readNamespacedPodLog({ name, namespace: NS, container: 'messaging-core' })).toBe(
      'one\ntwo\nthree\n',
    );
    const wrong = await failure(core.readNamespacedPodLog({ name, namespace: NS, container: 'sidecar' }));
    expect(wrong.code).toBe(400);
    expect((await failure(core.readNamespacedPodLog({ name: 'gone', namespace: NS }))).code).toBe(404);
  });

  it('creates, reads and replaces Leases with resourceVersion conflicts', async () => {
    const now = new V1MicroTime();
    const created = await coordination.createNamespacedLease({
      namespace: NS,
      body: {
        metadata: { name: 'switchyard-leader' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
      },
    });
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    const again = await failure(
      coordination.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: 'switchyard-leader' }, spec: {} },
      }),
    );
    expect(again).toMatchObject({ code: 409, status: { reason: 'AlreadyExists' } });

    const read = await coordination.readNamespacedLease({ name: 'switchyard-leader', namespace: NS });
    expect(read.spec?.holderIdentity).toBe('pod-a');
    expect(String(read.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    const takeover = structuredClone(read);
    takeover.spec = { ...takeover.spec, holderIdentity: 'pod-b', leaseTransitions: 1 };
    const replaced = await coordination.replaceNamespacedLease({
      name: 'switchyard-leader',
      namespace: NS,
      body: takeover,
    });
    expect(replaced.spec?.holderIdentity).toBe('pod-b');

    const loser = structuredClone(read);
    loser.spec = { ...loser.spec, holderIdentity: 'pod-c' };
    const lost = await failure(
      coordination.replaceNamespacedLease({ name: 'switchyard-leader', namespace: NS, body: loser }),
    );
    expect(lost).toMatchObject({ code: 409, status: { reason: 'Conflict' } });
    expect(emulator.get('Lease', NS, 'switchyard-leader')?.spec?.holderIdentity).toBe('pod-b');
  });

  it('injects failures and latency, and lets a test edit objects behind the client', async () => {
    emulator.failNext('get', 'configmaps', 503, 2);
    const read = () => core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS });
    expect((await failure(read())).code).toBe(503);
    expect((await failure(read())).status.reason).toBe('ServiceUnavailable');
    const before = await read();

    const edited = emulator.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME)!;
    edited.data = { ...edited.data, MESSAGING_ALERTING: 'false' };
    emulator.apply(edited);
    const after = await read();
    expect(after.data?.MESSAGING_ALERTING).toBe('false');
    expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));

    emulator.latencyMs = 150;
    const started = Date.now();
    await read();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('streams watch events from a resourceVersion', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const events: Array<[string, string | undefined]> = [];
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type, object: { data?: Record<string, string> }) =>
        events.push([type, object.data?.MESSAGING_DASHBOARD]),
      () => {},
    );
    try {
      await core.patchNamespacedConfigMap(
        { name: FLAGS_CONFIGMAP_NAME, namespace: NS, body: { data: { MESSAGING_DASHBOARD: 'false' } } },
        mergePatch,
      );
      await core.deleteNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: NS });
      await eventually(
        async () => events,
        (e) => e.length >= 2,
      );
      expect(events).toEqual([
        ['MODIFIED', 'false'],
        ['DELETED', 'false'],
      ]);
      expect(emulator.requests.find((r) => r.verb === 'watch')).toMatchObject({
        method: 'GET',
        resource: 'configmaps',
        apiGroup: '',
        status: 200,
      });
    } finally {
      controller.abort();
    }
  });

  it('collects the ReplicaSets and Pods of a deleted Deployment', async () => {
    await apps.deleteNamespacedDeployment({ name: 'messaging-retry-engine', namespace: NS });
    await eventually(
      () => core.listNamespacedPod({ namespace: NS, labelSelector: 'app=messaging-retry-engine' }),
      (pods) => pods.items.length === 0,
    );
    expect(await replicaSetsOf('messaging-retry-engine')).toHaveLength(0);
    expect((await failure(readDeployment('messaging-retry-engine'))).code).toBe(404);
  });
});

describe('kube emulator: what the API server does to a write (defaulting, Go zero values)', () => {
  beforeEach(async () => {
    await startCluster(100);
  });

  afterEach(async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills the pod defaults and drops null and empty zero values, as decoding into Go types does', async () => {
    const container = (name: string, image: string) => ({
      name,
      image,
      resources: {},
      ports: [{ containerPort: 80 }],
      readinessProbe: { httpGet: { path: '/readyz', port: 80 } },
    });
    const created = await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'defaults' },
        spec: {
          selector: { matchLabels: { app: 'defaults' } },
          template: {
            metadata: { labels: { app: 'defaults' }, creationTimestamp: null as unknown as Date },
            spec: {
              containers: [
                container('untagged', 'nginx'),
                container('latest', 'registry.local/nginx:latest'),
                container('tagged', 'registry.local:5000/nginx:1.27'),
                container('digest', 'nginx@sha256:0123456789abcdef'),
              ],
            },
          },
        },
      },
    });
    const template = created.spec!.template;
    expect(template.metadata).toEqual({ labels: { app: 'defaults' } });
    expect(template.spec?.containers.map((c) => [c.name, c.imagePullPolicy])).toEqual([
      ['untagged', 'Always'],
      ['latest', 'Always'],
      ['tagged', 'IfNotPresent'],
      ['digest', 'IfNotPresent'],
    ]);
    const first = template.spec!.containers[0]!;
    expect(first.resources).toBeUndefined();
    expect(first).toMatchObject({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      readinessProbe: {
        httpGet: { path: '/readyz', port: 80, scheme: 'HTTP' },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      },
    });
    expect(template.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
    expect(created.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
  });

  it('reuses the old ReplicaSet for the template kubectl rollout undo sends (creationTimestamp: null, resources: {})', async () => {
    await setImage('messaging-core', 'registry.local/messaging-core:2.0.0');
    await eventually(() => readDeployment('messaging-core'), rolledOut);
    const [first] = await replicaSetsOf('messaging-core');
    const template = structuredClone(first!.spec!.template!) as unknown as {
      metadata: { labels: Record<string, string>; creationTimestamp?: null };
      spec: { containers: Array<{ resources?: object }> };
    };
    delete template.metadata.labels['pod-template-hash'];
    // kubectl marshals the Go struct: these zero values are in its patch, not in the stored template.
    template.metadata.creationTimestamp = null;
    template.spec.containers[0]!.resources = {};
    await apps.patchNamespacedDeployment(
      {
        name: 'messaging-core',
        namespace: NS,
        body: [
          { op: 'replace', path: '/spec/template', value: template },
          { op: 'replace', path: '/metadata/annotations', value: { [REVISION_ANNOTATION]: '2' } },
        ],
      },
      jsonPatch,
    );
    await eventually(() => readDeployment('messaging-core'), rolledOut);
    const after = await replicaSetsOf('messaging-core');
    expect(after.map((rs) => [rs.metadata?.name, rs.metadata?.annotations?.[REVISION_ANNOTATION]])).toEqual([
      [expect.any(String), '2'],
      [first!.metadata?.name, '3'],
    ]);
  });
});
