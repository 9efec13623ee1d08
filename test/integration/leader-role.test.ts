import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { electionRole, healthRoutes } from '../../src/adapters/http/health.js';
import { createHttpServer } from '../../src/adapters/http/server.js';
import { LeaderElector } from '../../src/adapters/kubernetes/leader-election.js';
import { attachLeaderMetrics, createMetrics, type Metrics } from '../../src/adapters/metrics.js';
import { KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { eventually, getJson } from '../support/http.js';

const NAMESPACE = 'switchyard';
const log = createLogger('silent');

interface Replica {
  elector: LeaderElector;
  metrics: Metrics;
  server: Server;
  url: string;
}

let kube: KubeEmulator;
let replicas: Replica[] = [];

beforeEach(async () => {
  kube = new KubeEmulator({ users: { 'token-a': 'replica-a', 'token-b': 'replica-b' } });
  await kube.start();
});

afterEach(async () => {
  for (const { elector, server } of replicas) {
    await elector.abandon();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  replicas = [];
  await kube.stop();
});

async function replica(name: 'a' | 'b'): Promise<Replica> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeconfigFor(`token-${name}`, NAMESPACE));
  const elector = new LeaderElector({
    kubeConfig,
    namespace: NAMESPACE,
    leaseName: 'switchyard-leader',
    identity: `replica-${name}`,
    leaseDurationMs: 60_000, // handovers in this file come from releases only
    renewDeadlineMs: 2_000,
    retryPeriodMs: 300,
    log,
  });
  const metrics = createMetrics();
  attachLeaderMetrics(metrics, elector);
  const server = createHttpServer(
    healthRoutes([], () => false, { role: electionRole(elector) }),
    log,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const made = {
    elector,
    metrics,
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
  replicas.push(made);
  elector.start({ started: () => {}, stopped: () => {} });
  return made;
}

async function gauge(metrics: Metrics, name: string): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values[0]?.value;
}

async function readyz(url: string) {
  const { status, body } = await getJson(`${url}/readyz`);
  return { status, body: body as Record<string, unknown> };
}

describe('the leader role on /metrics and /readyz', () => {
  it('reports leader and follower, both ready, and follows a handover', async () => {
    const a = await replica('a');
    await eventually(() => expect(a.elector.leading).toBe(true));
    const b = await replica('b');
    await eventually(() => expect(b.elector.holder).toBe('replica-a'));

    expect(await gauge(a.metrics, 'switchyard_leader')).toBe(1);
    expect(await gauge(b.metrics, 'switchyard_leader')).toBe(0);
    expect(await gauge(b.metrics, 'switchyard_leader_transitions')).toBe(0);
    expect(await readyz(a.url)).toEqual({
      status: 200,
      body: { status: 'ready', checks: {}, role: 'leader', holder: 'replica-a', transitions: 0 },
    });
    // A follower serves requests: ready, and says who leads.
    expect(await readyz(b.url)).toEqual({
      status: 200,
      body: { status: 'ready', checks: {}, role: 'follower', holder: 'replica-a', transitions: 0 },
    });
    const exposition = await b.metrics.registry.metrics();
    expect(exposition).toMatch(/^# TYPE switchyard_leader gauge$/m);
    expect(exposition).toMatch(/^switchyard_leader_transitions 0$/m);

    await a.elector.stop();
    await eventually(async () => expect(await gauge(b.metrics, 'switchyard_leader')).toBe(1));
    expect(await gauge(b.metrics, 'switchyard_leader_transitions')).toBe(1);
    expect(await gauge(a.metrics, 'switchyard_leader')).toBe(0);
    expect((await readyz(b.url)).body).toMatchObject({ role: 'leader', holder: 'replica-b', transitions: 1 });
    expect((await readyz(a.url)).body).toMatchObject({ role: 'follower', transitions: 0 });
  });
});

describe('/readyz without leader election', () => {
  it('keeps its body as before, and says "single" when told so', async () => {
    const plain = createHttpServer(
      healthRoutes([], () => false),
      log,
    );
    const single = createHttpServer(
      healthRoutes([], () => true, { role: () => ({ role: 'single' }) }),
      log,
    );
    for (const server of [plain, single])
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await readyz(url(plain))).toEqual({ status: 200, body: { status: 'ready', checks: {} } });
      expect(await readyz(url(single))).toEqual({
        status: 503,
        body: { status: 'shutting down', checks: {}, role: 'single' },
      });
    } finally {
      for (const server of [plain, single]) await new Promise((resolve) => server.close(resolve));
    }
  });
});
