/**
 * The shared outbox journal's own rules against the Kubernetes emulator: one ConfigMap per job,
 * replay in enqueue order with the fencing keys of every job still held, pruning of finished jobs
 * past the retention (never a pending one), and results read back by any replica.
 */
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxJob } from '../../src/adapters/slack/outbox-journal.js';
import {
  KubeOutboxJournal,
  OutboxJobDropped,
  outboxJobName,
} from '../../src/adapters/storage/kube/kube-outbox-journal.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { tempDir } from '../support/bot.js';
import { eventually } from '../support/http.js';
import { type Kubectl, kubectlFor, startSeededCluster } from '../support/kube.js';

type Payload = { text: string };
const log = createLogger('silent');
const T0 = Date.parse('2026-12-05T00:00:00Z');
const MINUTE = 60_000;
let kube: KubeEmulator;
let namespaceCount = 0;
let namespace: string;
let kubeConfig: KubeConfig;
let kubectl: Kubectl;
const journals: Array<KubeOutboxJournal<Payload>> = [];

beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(() => kube.stop());
beforeEach(() => {
  namespace = `journal-${++namespaceCount}`;
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeConfigYaml(namespace));
  kubectl = kubectlFor(kube.writeKubeconfig(join(tempDir(), 'kubeconfig'), namespace));
});
afterEach(async () => {
  for (const journal of journals.splice(0)) await journal.stop();
  kube.resetFaults();
});

function journal(now: () => number = Date.now) {
  const made = new KubeOutboxJournal<Payload>({
    kubeConfig,
    namespace,
    queue: 'notify',
    log,
    now,
    watchRetryMs: 50,
  });
  journals.push(made);
  return made;
}

function job(id: string, fence?: string): OutboxJob<Payload> {
  return { id, key: 'k', priority: 0, payload: { text: id }, ...(fence && { fence }) };
}

/** The job objects as kubectl shows them: name → state label. */
async function objects(): Promise<Record<string, string>> {
  const out = await kubectl.ok(
    'get',
    'configmaps',
    '-l',
    'switchyard.io/outbox=notify',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.switchyard\\.io/state}{"\\n"}{end}',
  );
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('=') as [string, string]),
  );
}

describe('KubeOutboxJournal', () => {
  it('prunes finished jobs past the retention, never pending ones; replay keeps the fences of the rest', async () => {
    let now = T0;
    const shared = journal(() => now);
    await shared.enqueued([job('old', 'f-old'), job('recent', 'f-recent'), job('waiting', 'f-waiting')]);
    await shared.done('old');
    now = T0 + 5 * MINUTE;
    await shared.done('recent', 'HTTP 404');
    now = T0 + 11 * MINUTE;

    // Finished but kept: their fences still count.
    expect((await shared.replay()).fences.sort()).toEqual(['f-old', 'f-recent', 'f-waiting']);
    expect(await shared.prune(now)).toBe(1);
    expect(await shared.replay()).toEqual({
      pending: [job('waiting', 'f-waiting')],
      fences: ['f-recent', 'f-waiting'],
    });
    expect(await objects()).toEqual({
      [outboxJobName('notify', 'recent')]: 'done',
      [outboxJobName('notify', 'waiting')]: 'pending',
    });

    // A day on: every finished job is gone, the pending one is still there.
    now = T0 + 24 * 60 * MINUTE;
    expect(await shared.prune(now)).toBe(1);
    expect(await shared.replay()).toEqual({ pending: [job('waiting', 'f-waiting')], fences: ['f-waiting'] });
    expect(await objects()).toEqual({ [outboxJobName('notify', 'waiting')]: 'pending' });
  });

  it('replays pending jobs in enqueue order, across replicas; enqueueing again is not an error', async () => {
    let now = T0;
    const first = journal(() => now);
    const second = journal(() => now);
    await first.enqueued([job('c'), job('a')]);
    now += 1;
    await second.enqueued([job('b')]);
    await second.enqueued([job('a')]); // already there: fine, and still where it was
    await first.done('c');
    expect((await second.replay()).pending.map((entry) => entry.id)).toEqual(['a', 'b']);
  });

  it('tells any replica a job’s result, or why it was dropped, whether it finished before or after asking', async () => {
    const leader = journal();
    const follower = journal();
    await follower.enqueued([job('early'), job('late'), job('refused')]);
    await leader.done('early', undefined, { ts: '1.000100' });
    expect(await follower.resultOf('early')).toEqual({ ts: '1.000100' });

    const late = follower.resultOf('late');
    const refused = follower.resultOf('refused');
    await leader.done('late', undefined, { ts: '2.000200' });
    await leader.done('refused', 'channel_not_found');
    expect(await late).toEqual({ ts: '2.000200' });
    await expect(refused).rejects.toEqual(new OutboxJobDropped('refused', 'channel_not_found'));
  });

  it('reports jobs other replicas enqueue (not its own, not finished ones) to follow', async () => {
    const leader = journal();
    const other = journal();
    await other.enqueued([job('finished-before')]);
    await leader.done('finished-before');
    const reported: string[] = [];
    const stop = leader.follow((jobs) => reported.push(...jobs.map((entry) => entry.id)));
    await leader.enqueued([job('own')]);
    await other.enqueued([job('theirs-1'), job('theirs-2')]);
    await eventually(() => expect(reported).toEqual(['theirs-1', 'theirs-2']));
    stop();
  });

  it('follows on through a failing watch: lists again, and reports what was enqueued meanwhile', async () => {
    kube.failNext('watch', 'configmaps', 500, 3);
    const leader = journal();
    const other = journal();
    const reported: string[] = [];
    const stop = leader.follow((jobs) => reported.push(...jobs.map((entry) => entry.id)));
    await other.enqueued([job('during')]);
    await eventually(() => expect(reported).toContain('during'));
    await other.enqueued([job('after')]);
    // Each re-list reports every pending job again (the outbox ignores ids it has): distinct ids count.
    await eventually(() => expect([...new Set(reported)]).toEqual(['during', 'after']));
    stop();
  });
});
