/**
 * deploy/kubernetes/base/rbac.yaml with two replicas: the API server emulator enforces BOTH Roles (the
 * narrow one in messaging-system, the state one in switchyard) for the one ServiceAccount, and the
 * calls the replicas make are checked against them both ways: every call allowed, every rule used.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/adapters/storage/kube/state-objects.js';
import {
  FLAGS_CONFIGMAP_NAME,
  KubeEmulator,
  rbacPoliciesFromManifest,
  seedMessagingSystem,
} from '../../src/emulators/kube/index.js';
import { ALERT_TOKEN, API_TOKEN, startTestBot } from '../support/bot.js';
import { EXERCISE_CONFIG, exerciseMessagingCalls } from '../support/cluster-calls.js';
import { eventually, sendJson } from '../support/http.js';
import { kubectlFor } from '../support/kube.js';
import { firing, notification, resolved } from '../unit/alerts/builders.js';

const MESSAGING_NS = 'messaging-system';
const STATE_NS = 'switchyard';
const BOT_USER = 'system:serviceaccount:switchyard:switchyard';
const RBAC_YAML = readFileSync('deploy/kubernetes/base/rbac.yaml', 'utf8');
const policies = rbacPoliciesFromManifest(RBAC_YAML);

let kube: KubeEmulator;
let dir: string;
const stops: Array<() => Promise<void>> = [];

function kubeConfigFor(namespace: string, file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.writeKubeconfig(join(dir, file), namespace));
  return kc;
}

/** Two replicas with Lease times short enough for a test, alert groups forgotten a second after they resolve. */
const HA_CONFIG = `${EXERCISE_CONFIG}leaderElection:\n  leaseDuration: 3s\n  renewDeadline: 2s\n  retryPeriod: 200ms\nalerts:\n  retention: 1s\n`;
const replicaEnv = (name: string) => ({
  STATE_BACKEND: 'kubernetes',
  STATE_NAMESPACE: STATE_NS,
  POD_NAME: name,
});

/**
 * Every call the two replicas make: the messaging calls (flags, drift, restart, rollback, watch, pods,
 * logs) through replica A, then the state calls of both — an alert taken by the follower and posted by
 * the leader, a flag change through the follower whose write loses a race, a resolved group forgotten,
 * and a graceful stop that hands the Lease over.
 */
async function exerciseHa(): Promise<void> {
  const a = await exerciseMessagingCalls(kube, { env: replicaEnv('replica-a'), configYaml: HA_CONFIG });
  let aStopped = false;
  stops.push(async () => {
    if (!aStopped) await a.stop();
  });
  const b = await startTestBot({ kube, slack: a.slack, env: replicaEnv('replica-b'), configYaml: HA_CONFIG });
  stops.push(() => b.stop());
  await eventually(() => expect(a.bot.leadership.leading).toBe(true), 20_000);
  const alert = notification([firing('rbac-ha-1', Date.now(), { alertname: 'RbacHaAlert' })], {
    groupKey: '{}:{alertname="RbacHaAlert"}',
    groupLabels: { alertname: 'RbacHaAlert' },
    commonLabels: { alertname: 'RbacHaAlert' },
  });
  const post = (body: unknown) =>
    sendJson('POST', `${b.url}/alertmanager`, body, { authorization: `Bearer ${ALERT_TOKEN}` });
  expect((await post(alert)).status).toBe(200);
  await a.slack.waitForCall('chat.postMessage', (call) =>
    JSON.stringify(call.params).includes('RbacHaAlert'),
  );
  kube.failNext('update', 'configmaps', 409);
  const put = await sendJson(
    'PUT',
    `${b.url}/api/v1/features/flag_validation`,
    { enabled: true, reason: 'rbac exercise' },
    { authorization: `Bearer ${API_TOKEN}` },
  );
  expect(put.status).toBe(200);
  const over = notification([resolved(alert.alerts[0]!, Date.now())], {
    groupKey: alert.groupKey,
    groupLabels: alert.groupLabels,
    commonLabels: alert.commonLabels,
  });
  expect((await post(over)).status).toBe(200);
  // The leader's retention sweep deletes the resolved group's object.
  await eventually(
    () =>
      expect(
        kube
          .list('ConfigMap', STATE_NS)
          .filter((map) => map.metadata.labels?.['switchyard.io/kind'] === 'group'),
      ).toEqual([]),
    30_000,
  );
  // A graceful stop of the leader releases the Lease; the other replica takes it.
  aStopped = true;
  await a.stop();
  await eventually(() => expect(b.bot.leadership.leading).toBe(true), 20_000);
}

beforeAll(async () => {
  kube = new KubeEmulator({ podReadyAfterMs: 100, rbac: policies });
  await kube.start();
  dir = mkdtempSync(join(tmpdir(), 'kube-rbac-ha-'));
  seedMessagingSystem(kube);
  await exerciseHa();
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The HTTP code of a refused client call. */
async function refusal(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return error.code;
  }
  throw new Error('expected the API server to refuse the call');
}

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

describe('deploy/kubernetes RBAC with two replicas: both Roles against the calls made', () => {
  it('the manifest binds both Roles to the one ServiceAccount in switchyard', () => {
    expect(policies.map((p) => ({ namespace: p.namespace, user: p.user }))).toEqual([
      { namespace: MESSAGING_NS, user: BOT_USER },
      { namespace: STATE_NS, user: BOT_USER },
    ]);
  });

  it('exercised every kind of call in both namespaces (sanity)', () => {
    const kinds = new Set(calls().map((c) => `${c.namespace} ${c.verb} ${c.group}/${c.resource}`));
    expect([...kinds].sort()).toEqual(
      [
        `${MESSAGING_NS} get /configmaps`,
        `${MESSAGING_NS} update /configmaps`,
        `${MESSAGING_NS} get apps/deployments`,
        `${MESSAGING_NS} list apps/deployments`,
        `${MESSAGING_NS} patch apps/deployments`,
        `${MESSAGING_NS} list apps/replicasets`,
        `${MESSAGING_NS} list /pods`,
        `${MESSAGING_NS} get /pods/log`,
        `${STATE_NS} get /configmaps`,
        `${STATE_NS} list /configmaps`,
        `${STATE_NS} watch /configmaps`,
        `${STATE_NS} create /configmaps`,
        `${STATE_NS} update /configmaps`,
        `${STATE_NS} delete /configmaps`,
        `${STATE_NS} get coordination.k8s.io/leases`,
        `${STATE_NS} create coordination.k8s.io/leases`,
        `${STATE_NS} update coordination.k8s.io/leases`,
      ].sort(),
    );
    // A state write that lost a race was re-read and retried, not refused.
    expect(
      kube.requests.some((r) => r.namespace === STATE_NS && r.verb === 'update' && r.status === 409),
    ).toBe(true);
  });

  it('the API server enforcing both Roles refused none of the calls, all made as the ServiceAccount', () => {
    const refused = kube.requests.filter((r) => r.status === 401 || r.status === 403);
    expect(refused.map((r) => `${r.namespace} ${r.verb} ${r.resource} ${r.name ?? ''}`)).toEqual([]);
    expect(calls().filter((c) => c.namespace !== MESSAGING_NS && c.namespace !== STATE_NS)).toEqual([]);
    expect(new Set(kube.requests.filter((r) => r.resource).map((r) => r.user))).toEqual(new Set([BOT_USER]));
  });

  it('grants nothing unused: every verb on every resource (and name) of every rule of both Roles was called in its namespace', () => {
    const unused: string[] = [];
    for (const policy of policies)
      for (const rule of policy.rules)
        for (const group of rule.apiGroups)
          for (const resource of rule.resources)
            for (const verb of rule.verbs)
              for (const name of rule.resourceNames ?? [undefined]) {
                const used = calls().some(
                  (call) =>
                    call.namespace === policy.namespace &&
                    call.group === group &&
                    call.resource === resource &&
                    call.verb === verb &&
                    (name === undefined || call.name === name),
                );
                if (!used)
                  unused.push(`${policy.namespace}: ${verb} ${group}/${resource}${name ? `/${name}` : ''}`);
              }
    expect(unused).toEqual([]);
  });

  it('keeps the state where the state Role is: every ConfigMap the replicas created is in switchyard, labelled as theirs', () => {
    const created = kube.requests.filter((r) => r.verb === 'create' && r.resource === 'configmaps');
    expect(created.length).toBeGreaterThan(0);
    expect(created.filter((r) => r.namespace !== STATE_NS)).toEqual([]);
    for (const map of kube.list('ConfigMap', STATE_NS)) {
      expect(map.metadata.labels?.[MANAGED_BY_LABEL], map.metadata.name).toBe(MANAGED_BY);
    }
  });

  it('answers 403 to what neither Role grants: no ConfigMap create or list in messaging-system, no patch or Lease delete in switchyard', async () => {
    const messaging = kubeConfigFor(MESSAGING_NS, 'probe-kubeconfig');
    const core = messaging.makeApiClient(CoreV1Api);
    const apps = messaging.makeApiClient(AppsV1Api);
    const leases = messaging.makeApiClient(CoordinationV1Api);
    const body = { metadata: { name: 'sneaky' }, data: { a: 'b' } };
    expect(await refusal(core.createNamespacedConfigMap({ namespace: MESSAGING_NS, body }))).toBe(403);
    expect(await refusal(core.listNamespacedConfigMap({ namespace: MESSAGING_NS }))).toBe(403);
    expect(await refusal(core.readNamespacedConfigMap({ name: 'other', namespace: MESSAGING_NS }))).toBe(403);
    expect(kube.get('ConfigMap', MESSAGING_NS, 'sneaky')).toBeUndefined();
    const patch = core.patchNamespacedConfigMap({ name: 'anything', namespace: STATE_NS, body: [] });
    expect(await refusal(patch)).toBe(403);
    expect(
      await refusal(leases.deleteNamespacedLease({ name: 'switchyard-leader', namespace: STATE_NS })),
    ).toBe(403);
    expect(await refusal(leases.listNamespacedLease({ namespace: STATE_NS }))).toBe(403);
    expect(await refusal(apps.listNamespacedDeployment({ namespace: STATE_NS }))).toBe(403);
    expect(await refusal(core.listNamespacedPod({ namespace: STATE_NS }))).toBe(403);
    expect(await refusal(core.listNamespacedConfigMap({ namespace: 'kube-system' }))).toBe(403);
    // What the Roles grant still works with the same token.
    expect(
      (await core.readNamespacedConfigMap({ name: FLAGS_CONFIGMAP_NAME, namespace: MESSAGING_NS })).data,
    ).toBeDefined();
    expect((await core.listNamespacedConfigMap({ namespace: STATE_NS })).items).toBeDefined();
  });

  it("real kubectl with the bot's kubeconfig: the state namespace's ConfigMaps are listed, the messaging one's Forbidden", async () => {
    const kubectl = kubectlFor(kube.writeKubeconfig(join(dir, 'kubectl-kubeconfig'), STATE_NS));
    const listed = (await kubectl.ok('get', 'configmaps', '-o', 'name')).split('\n').filter(Boolean);
    expect(listed).toEqual(kube.list('ConfigMap', STATE_NS).map((map) => `configmap/${map.metadata.name}`));
    const holder = await kubectl.ok(
      'get',
      'lease',
      'switchyard-leader',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    );
    expect(holder).toMatch(/^replica-[ab]$/);
    const messaging = await kubectl('-n', MESSAGING_NS, 'get', 'configmaps');
    expect(messaging.code).not.toBe(0);
    expect(messaging.stderr).toContain(
      `configmaps is forbidden: User "${BOT_USER}" cannot list resource "configmaps" in API group "" in the namespace "${MESSAGING_NS}"`,
    );
    const lease = await kubectl('delete', 'lease', 'switchyard-leader');
    expect(lease.code).not.toBe(0);
    expect(lease.stderr).toContain('cannot delete resource "leases" in API group "coordination.k8s.io"');
    expect(kube.get('Lease', STATE_NS, 'switchyard-leader')).toBeDefined();
  });
});
