import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { requireKubectl } from '../support/kube.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents, read by known paths in assertions
type Manifest = Record<string, any>;

const BASE = 'deploy/kubernetes/base';
const STATE_NS = 'switchyard';
const MESSAGING_NS = 'messaging-system';

function parseDocuments(text: string, what: string): Manifest[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Manifest;
  });
}

/** What `kubectl apply -k <dir>` would send: kustomize run by the real kubectl, offline. */
function render(dir: string): Manifest[] {
  const out = execFileSync(requireKubectl(), ['kustomize', dir], { encoding: 'utf8' });
  return parseDocuments(out, `kubectl kustomize ${dir}`);
}

function find(docs: Manifest[], kind: string, name: string, namespace?: string): Manifest | undefined {
  return docs.find(
    (doc) =>
      doc.kind === kind &&
      doc.metadata?.name === name &&
      (namespace === undefined || doc.metadata?.namespace === namespace),
  );
}

function the(docs: Manifest[], kind: string, name: string, namespace?: string): Manifest {
  const doc = find(docs, kind, name, namespace);
  if (!doc) throw new Error(`no ${kind} ${namespace ?? '*'}/${name}`);
  return doc;
}

const roleIds = (docs: Manifest[]) =>
  docs
    .filter((doc) => /Role/.test(doc.kind))
    .map(idOf)
    .sort();

const idOf = (doc: Manifest) => `${doc.kind} ${doc.metadata.namespace ?? ''}/${doc.metadata.name}`;
const containerOf = (deployment: Manifest) => deployment.spec.template.spec.containers[0];
const envOf = (deployment: Manifest): Manifest[] => containerOf(deployment).env;

/**
 * The environment the container would get, as the kubelet makes it: literal values, the downward API
 * for this pod, placeholders for the Secret's keys; then the config file from the ConfigMap, loaded
 * by the bot's own config loader, so a key or value the bot would refuse fails here.
 */
function configOf(docs: Manifest[], dir: string) {
  const deployment = the(docs, 'Deployment', 'switchyard', STATE_NS);
  const pod = {
    'metadata.namespace': deployment.metadata.namespace,
    'metadata.name': 'switchyard-7d9f-abcde',
  };
  const env: Record<string, string> = {};
  for (const variable of envOf(deployment)) {
    const field = variable.valueFrom?.fieldRef?.fieldPath as keyof typeof pod | undefined;
    const secret = variable.valueFrom?.secretKeyRef?.key as string | undefined;
    env[variable.name] =
      variable.value ?? (field ? pod[field] : secret === 'SLACK_BOT_TOKEN' ? 'xoxb-test' : `${secret}-value`);
  }
  const mount = containerOf(deployment).volumeMounts.find((m: Manifest) => m.name === 'config').mountPath;
  expect(env.SWITCHYARD_CONFIG).toBe(`${mount}/switchyard.yml`);
  const configMap = the(docs, 'ConfigMap', 'switchyard-config', STATE_NS);
  const path = join(dir, `${docs.length}-switchyard.yml`);
  writeFileSync(path, configMap.data['switchyard.yml']);
  return loadConfig({ ...env, SWITCHYARD_CONFIG: path });
}

let ha: Manifest[];
let single: Manifest[];
let raw: Manifest[];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  ha = render('deploy/kubernetes');
  single = render('deploy/kubernetes/single-replica');
  const listed = parseDocuments(readFileSync(`${BASE}/kustomization.yaml`, 'utf8'), 'kustomization')[0]!
    .resources as string[];
  raw = listed.flatMap((file) => parseDocuments(readFileSync(`${BASE}/${file}`, 'utf8'), file));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy/kubernetes files', () => {
  it('every YAML file parses, every object names its kind and (unless cluster-wide) its namespace', () => {
    const files = ['deploy/kubernetes', BASE, 'deploy/kubernetes/single-replica'].flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `${d}/${f}`),
    );
    expect(files.length).toBe(11);
    for (const file of files) {
      for (const doc of parseDocuments(readFileSync(file, 'utf8'), file)) {
        expect(doc.apiVersion, file).toEqual(expect.any(String));
        expect(doc.kind, file).toEqual(expect.any(String));
        if (doc.kind === 'Kustomization' || file.includes('single-replica/deployment')) continue;
        expect(doc.metadata?.name, file).toEqual(expect.any(String));
        // No `namespace:` in the kustomization (two namespaces on purpose): each object names its own.
        if (doc.kind !== 'Namespace')
          expect([STATE_NS, MESSAGING_NS], `${file} ${idOf(doc)}`).toContain(doc.metadata.namespace);
      }
    }
  });

  it('the base lists every manifest in base/ except the examples (the tests read the files the cluster gets)', () => {
    const manifests = readdirSync(BASE).filter(
      (f) => f.endsWith('.yaml') && !/example|kustomization/.test(f),
    );
    const listed = parseDocuments(readFileSync(`${BASE}/kustomization.yaml`, 'utf8'), 'kustomization')[0]!;
    expect([...listed.resources].sort()).toEqual(manifests.sort());
    expect(listed.namespace).toBeUndefined();
  });

  it('kubectl kustomize deploy/kubernetes renders exactly the base files, unchanged', () => {
    expect(ha.map(idOf).sort()).toEqual(raw.map(idOf).sort());
    for (const doc of raw) expect(find(ha, doc.kind, doc.metadata.name, doc.metadata.namespace)).toEqual(doc);
  });
});

describe('deploy/kubernetes: two replicas, state in the cluster', () => {
  it('runs the bot in a namespace of its own', () => {
    expect(the(ha, 'Namespace', STATE_NS).metadata.namespace).toBeUndefined();
    const bot = ha.filter((doc) =>
      ['Deployment', 'Service', 'PodDisruptionBudget', 'ServiceAccount'].includes(doc.kind),
    );
    expect(bot.map(idOf).sort()).toEqual(
      [
        `Deployment ${STATE_NS}/switchyard`,
        `PodDisruptionBudget ${STATE_NS}/switchyard`,
        `Service ${STATE_NS}/switchyard`,
        `ServiceAccount ${STATE_NS}/switchyard`,
      ].sort(),
    );
  });

  it('two replicas, rolled one new pod at a time with none taken away first', () => {
    const deployment = the(ha, 'Deployment', 'switchyard', STATE_NS);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('switchyard');
  });

  it('keeps nothing on a disk: no PersistentVolumeClaim, only the config and a scratch /tmp', () => {
    expect(ha.filter((doc) => doc.kind === 'PersistentVolumeClaim')).toEqual([]);
    const deployment = the(ha, 'Deployment', 'switchyard', STATE_NS);
    const volumes: Manifest[] = deployment.spec.template.spec.volumes;
    expect(volumes).toEqual([
      { name: 'config', configMap: { name: 'switchyard-config' } },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(envOf(deployment).map((v) => v.name)).not.toContain('STATE_DIR');
  });

  it('STATE_BACKEND=kubernetes, the state namespace and pod name from the downward API, the messaging namespace by name', () => {
    const env = Object.fromEntries(
      envOf(the(ha, 'Deployment', 'switchyard', STATE_NS)).map((v) => [v.name, v]),
    );
    expect(env.STATE_BACKEND).toEqual({ name: 'STATE_BACKEND', value: 'kubernetes' });
    expect(env.STATE_NAMESPACE).toEqual({
      name: 'STATE_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
    expect(env.POD_NAME).toEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    // The bot runs in `switchyard`, so the namespace it operates cannot come from the downward API.
    expect(env.KUBE_NAMESPACE).toEqual({ name: 'KUBE_NAMESPACE', value: MESSAGING_NS });
  });

  it("the bot's own config loader accepts the Deployment's environment and config file", () => {
    const config = configOf(ha, dir);
    expect(config.env.STATE_BACKEND).toBe('kubernetes');
    expect(config.env.STATE_NAMESPACE).toBe(STATE_NS);
    expect(config.env.POD_NAME).toBe('switchyard-7d9f-abcde');
    expect(config.env.KUBE_NAMESPACE).toBe(MESSAGING_NS);
    expect(config.file.leaderElection).toMatchObject({
      leaseDuration: 12_000,
      renewDeadline: 8_000,
      retryPeriod: 1_000,
    });
  });

  it('a PodDisruptionBudget keeps one replica through voluntary disruptions, selecting the pods', () => {
    const pdb = the(ha, 'PodDisruptionBudget', 'switchyard', STATE_NS);
    const labels = the(ha, 'Deployment', 'switchyard', STATE_NS).spec.template.metadata.labels;
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: labels } });
  });

  it('spreads the replicas across nodes (preferred: required would block a one-node cluster and a two-node rollout)', () => {
    const deployment = the(ha, 'Deployment', 'switchyard', STATE_NS);
    const anti = deployment.spec.template.spec.affinity.podAntiAffinity;
    expect(anti.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(anti.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: { matchLabels: deployment.spec.template.metadata.labels },
        },
      },
    ]);
  });

  it('probes readiness on /readyz and liveness on /healthz; the grace period outlasts the 10 s in-flight drain and a Slack call', () => {
    const deployment = the(ha, 'Deployment', 'switchyard', STATE_NS);
    const container = containerOf(deployment);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const service = the(ha, 'Service', 'switchyard', STATE_NS);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('the Secret example is in the namespace the Deployment reads it from, with every key it reads', () => {
    const secret = parseDocuments(readFileSync(`${BASE}/secret.example.yaml`, 'utf8'), 'secret')[0]!;
    const refs = envOf(the(ha, 'Deployment', 'switchyard', STATE_NS)).flatMap((v) =>
      v.valueFrom?.secretKeyRef ? [v.valueFrom.secretKeyRef] : [],
    );
    expect(secret.metadata.namespace).toBe(STATE_NS);
    expect(new Set(refs.map((ref: Manifest) => ref.name))).toEqual(new Set([secret.metadata.name]));
    expect(refs.map((ref: Manifest) => ref.key).sort()).toEqual(Object.keys(secret.stringData).sort());
  });
});

describe('deploy/kubernetes RBAC: a Role per namespace, one ServiceAccount', () => {
  it('two Roles and their bindings, nothing cluster-wide', () => {
    expect(roleIds(ha)).toEqual(
      [
        `Role ${MESSAGING_NS}/switchyard`,
        `RoleBinding ${MESSAGING_NS}/switchyard`,
        `Role ${STATE_NS}/switchyard-state`,
        `RoleBinding ${STATE_NS}/switchyard-state`,
      ].sort(),
    );
  });

  it('both bindings bind their own Role to the ServiceAccount in switchyard', () => {
    for (const [ns, name] of [
      [MESSAGING_NS, 'switchyard'],
      [STATE_NS, 'switchyard-state'],
    ] as const) {
      const binding = the(ha, 'RoleBinding', name, ns);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'switchyard', namespace: STATE_NS }]);
    }
    expect(the(ha, 'ServiceAccount', 'switchyard').metadata.namespace).toBe(STATE_NS);
  });

  it('the state Role: the state ConfigMaps and the Lease, no patch, nothing else', () => {
    expect(the(ha, 'Role', 'switchyard-state', STATE_NS).rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
  });

  it('the messaging Role stays as narrow as with one replica: the flags ConfigMap by name, no create, no watch', () => {
    const rules: Manifest[] = the(ha, 'Role', 'switchyard', MESSAGING_NS).rules;
    expect(rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['messaging-feature-flags'],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
  });
});

describe('deploy/kubernetes/single-replica: the file mode as before', () => {
  it('one replica, replaced (never two writers of the volume), STATE_BACKEND=file with STATE_DIR on a PersistentVolumeClaim', () => {
    const deployment = the(single, 'Deployment', 'switchyard', STATE_NS);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const env = Object.fromEntries(envOf(deployment).map((v) => [v.name, v.value ?? v.valueFrom]));
    expect(env.STATE_BACKEND).toBe('file');
    expect(env.STATE_NAMESPACE).toBeUndefined();
    const spec = deployment.spec.template.spec;
    const mount = containerOf(deployment).volumeMounts.find((m: Manifest) => m.mountPath === env.STATE_DIR);
    const volume = spec.volumes.find((v: Manifest) => v.name === mount.name);
    const claim = the(single, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName, STATE_NS);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  it("the bot's own config loader accepts it as file mode", () => {
    const config = configOf(single, dir);
    expect(config.env.STATE_BACKEND).toBe('file');
    expect(config.env.STATE_DIR).toBe('/var/lib/switchyard');
    expect(config.env.STATE_NAMESPACE).toBeUndefined();
  });

  it('drops the state Role, its binding and the PodDisruptionBudget; keeps the rest of the base as it is', () => {
    expect(roleIds(single)).toEqual([
      `Role ${MESSAGING_NS}/switchyard`,
      `RoleBinding ${MESSAGING_NS}/switchyard`,
    ]);
    expect(find(single, 'PodDisruptionBudget', 'switchyard')).toBeUndefined();
    const added = single.filter((doc) => !find(ha, doc.kind, doc.metadata.name, doc.metadata.namespace));
    expect(added.map(idOf)).toEqual([`PersistentVolumeClaim ${STATE_NS}/switchyard-state`]);
    for (const doc of single.filter((d) => d.kind !== 'Deployment' && d.kind !== 'PersistentVolumeClaim')) {
      expect(doc).toEqual(the(ha, doc.kind, doc.metadata.name, doc.metadata.namespace));
    }
  });
});
