import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LeaderElector } from '../../src/adapters/kubernetes/leader-election.js';
import { KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/http.js';
import { type Kubectl, kubectlFor } from '../support/kube.js';

const NAMESPACE = 'switchyard';
const BOT_TOKEN = 'bot-replica-token';

let kube: KubeEmulator;
let elector: LeaderElector;
let kubectl: Kubectl;

beforeAll(async () => {
  kube = new KubeEmulator({ users: { [BOT_TOKEN]: 'system:serviceaccount:switchyard:switchyard' } });
  await kube.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeconfigFor(BOT_TOKEN, NAMESPACE));
  elector = new LeaderElector({
    kubeConfig,
    namespace: NAMESPACE,
    leaseName: 'switchyard-leader',
    identity: 'switchyard-6d4f9-x7k2p',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    log: createLogger('silent'),
  });
  elector.start({ started: () => {}, stopped: () => {} });
  await eventually(() => expect(elector.leading).toBe(true));
  // kubectl as an admin, with its own token.
  kubectl = kubectlFor(kube.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'lease-')), 'kubeconfig')));
});

afterAll(async () => {
  await elector?.abandon();
  await kube?.stop();
});

describe('the leader Lease, as kubectl sees it in the emulator', () => {
  it('kubectl get lease lists the holder', async () => {
    const out = await kubectl.ok('get', 'lease', '-n', NAMESPACE);
    const [header, row] = out.trim().split('\n');
    expect(header).toMatch(/^NAME\s+HOLDER\s+AGE$/);
    expect(row).toMatch(/^switchyard-leader\s+switchyard-6d4f9-x7k2p\s+\d+s$/);
  });

  it('kubectl get lease -o yaml shows the record the elector wrote (MicroTime, seconds, transitions)', async () => {
    const lease = parse(
      await kubectl.ok('get', 'lease', 'switchyard-leader', '-n', NAMESPACE, '-o', 'yaml'),
    ) as { apiVersion: string; kind: string; spec: Record<string, unknown> };
    expect(lease.apiVersion).toBe('coordination.k8s.io/v1');
    expect(lease.kind).toBe('Lease');
    expect(lease.spec).toMatchObject({
      holderIdentity: 'switchyard-6d4f9-x7k2p',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    // metav1.MicroTime: RFC 3339 with microseconds, as client-go writes it.
    expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease.spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('kubectl finds leases through coordination.k8s.io discovery (api-resources, full name)', async () => {
    const resources = await kubectl.ok('api-resources', '--api-group=coordination.k8s.io');
    expect(resources).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    const out = await kubectl.ok(
      'get',
      'leases.coordination.k8s.io',
      'switchyard-leader',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.holderIdentity}',
    );
    expect(out).toBe('switchyard-6d4f9-x7k2p');
  });
});
