/**
 * The demo cluster local mode builds, as a person sees it with real kubectl through the kubeconfig
 * path local mode logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CRASHLOOP_MARKER, type KubeEmulator } from '../../src/emulators/kube/index.js';
import { startDemoCluster } from '../../src/local-mode.js';
import { createLogger } from '../../src/logger.js';
import { kubectlFor } from '../support/kube.js';

const NS = 'messaging-system';
let dir: string;
let cluster: KubeEmulator;
let kubeconfig: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-cluster-'));
  const config = loadConfig({ STATE_DIR: dir, KUBE_NAMESPACE: NS });
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
  });
  const demo = await startDemoCluster(config, createLogger('info', sink));
  cluster = demo.emulator;
  kubeconfig = demo.kubeconfig;
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local-mode demo cluster through real kubectl', () => {
  it('logs the kubeconfig path and the command to use it', () => {
    const line = logLines.find((entry) => String(entry.msg).includes('demo cluster'));
    expect(line).toMatchObject({ kubeconfig: join(dir, 'demo-kubeconfig'), server: cluster.url });
    expect(String(line?.msg)).toContain(`KUBECONFIG=${kubeconfig} kubectl get pods`);
  });

  it('kubectl get pods shows READY, STATUS, RESTARTS and AGE for every pod', async () => {
    const out = await kubectlFor(kubeconfig).ok('get', 'pods');
    const [header, ...rows] = out.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const pods = cluster.list('Pod', NS);
    expect(pods.length).toBe(4);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 4)).sort()).toEqual(
      pods.map((pod) => [pod.metadata.name!, '1/1', 'Running', '0']).sort(),
    );
    for (const row of rows) expect(row).toMatch(/\s\d+s$/);
  });

  it('shows a crash-looping pod as kubectl would: 0/1, CrashLoopBackOff, its restarts', async () => {
    const d = cluster.get('Deployment', NS, 'messaging-retry-engine')!;
    const container = d.spec.template.spec.containers[0]!;
    cluster.apply({
      ...d,
      spec: {
        ...d.spec,
        template: {
          ...d.spec.template,
          spec: {
            ...d.spec.template.spec,
            containers: [{ ...container, image: `registry.local/retry:${CRASHLOOP_MARKER}` }],
          },
        },
      },
    });
    cluster.reconcile({ podsReadyNow: true });
    const crashing = cluster
      .list('Pod', NS)
      .find((pod) => pod.spec.containers[0]?.image?.includes(CRASHLOOP_MARKER));
    expect(crashing).toBeDefined();
    const restarts = crashing!.status?.containerStatuses?.[0]?.restartCount ?? 0;
    expect(restarts).toBeGreaterThan(0);
    const out = await kubectlFor(kubeconfig).ok('get', 'pod', crashing!.metadata.name!);
    expect(out).toMatch(
      new RegExp(
        `\\n${crashing!.metadata.name}\\s+0/1\\s+CrashLoopBackOff\\s+\\d+ \\(\\d+[smh]\\S* ago\\)\\s+\\d+s\\n$`,
      ),
    );
  });
});
