import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SEED_FLAGS } from '../../src/core/flags/catalog.js';
import { FLAGS_CONFIGMAP_NAME, KubeEmulator, seedMessagingSystem } from '../../src/emulators/kube/index.js';
import { CHANNEL, DEFAULT_CONFIG, OPERATOR, startTestBot, type TestBot } from '../support/bot.js';
import { eventually, getJson, textOf } from '../support/http.js';

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
  return parseAllDocuments(readFileSync(`deploy/kubernetes/${file}`, 'utf8')).map((doc) => doc.toJS());
}

const role = manifests('rbac.yaml').find((doc) => doc.kind === 'Role') as {
  metadata: { namespace: string };
  rules: Rule[];
};

let kube: KubeEmulator;
let t: TestBot;

/** Every API call the bot makes, exercised once each: flags, conflict, drift, restart, rollback, watch, pods, logs. */
async function exerciseEverything() {
  const d = kube.get('Deployment', NS, 'messaging-core')!;
  const container = d.spec.template.spec.containers[0]!;
  kube.apply({
    ...d,
    spec: {
      ...d.spec,
      template: {
        ...d.spec.template,
        spec: { containers: [{ ...container, image: 'registry.local/messaging-core:2' }] },
      },
    },
  });
  await kube.waitForRollout('messaging-core');

  t = await startTestBot({
    kube,
    configYaml: `${DEFAULT_CONFIG}\nkubernetes:\n  driftCheckInterval: 200ms\n  restartOnFlagChange: [messaging-retry-engine]\n`,
    rolloutTiming: { pollMs: 100, updateEveryMs: 200 },
  });
  expect((await getJson(`${t.url}/readyz`)).status).toBe(200);
  await t.client.slashCommand({ command: '/flags', text: 'enable retry_logic', userId: OPERATOR });
  kube.failNext('update', 'configmaps', 409);
  await t.client.slashCommand({ command: '/flags', text: 'enable adaptive_timing', userId: OPERATOR });
  expect(kube.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME)?.data?.MESSAGING_ADAPTIVE_TIMING).toBe('true');
  const map = kube.get('ConfigMap', NS, FLAGS_CONFIGMAP_NAME)!;
  kube.apply({ ...map, data: { ...map.data, MESSAGING_DASHBOARD: 'false' } });
  await t.slack.waitForCall('chat.postMessage', (call) =>
    String(call.params.text).includes('outside Switchyard'),
  );

  await t.client.slashCommand({ command: '/rollback', text: 'deployment', userId: OPERATOR });
  const ask = await t.client.slashCommand({
    command: '/rollback',
    text: 'deployment messaging-core',
    userId: OPERATOR,
  });
  const id = /"action_id":"switchyard\.confirm","value":"([^"]+)"/.exec(JSON.stringify(ask.body))![1]!;
  const click = await t.client.blockAction({
    actionId: 'switchyard.confirm',
    value: id,
    userId: OPERATOR,
    responseUrl: t.slack.createResponseUrl(),
  });
  await t.slack.waitForResponse((r) => r.url === click.responseUrl);
  await eventually(() => {
    const done = t.slack.messages(CHANNEL).some((m) => String(m.text).includes('Rolled back'));
    if (!done) throw new Error('rollback not reported yet');
  }, 15_000);
  const result = t.slack.messages(CHANNEL).find((m) => String(m.text).includes('Rolled back'))!;
  expect(textOf(result as never)).toContain('log lines of');
}

beforeAll(async () => {
  kube = new KubeEmulator({ podReadyAfterMs: 100 });
  await kube.start();
  seedMessagingSystem(kube);
  await exerciseEverything();
});
afterAll(async () => {
  await t?.stop();
  await kube.stop();
});

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
  const allows = (rule: Rule, call: ReturnType<typeof calls>[number]) =>
    rule.apiGroups.includes(call.group) &&
    rule.resources.includes(call.resource) &&
    rule.verbs.includes(call.verb) &&
    (!rule.resourceNames || (call.name !== undefined && rule.resourceNames.includes(call.name)));

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

  it('allows every call the bot made, all in its namespace', () => {
    expect(role.metadata.namespace).toBe(NS);
    const denied = calls().filter(
      (call) => call.namespace !== NS || !role.rules.some((rule) => allows(rule, call)),
    );
    expect(denied).toEqual([]);
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
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'switchyard', namespace: NS }]);
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
