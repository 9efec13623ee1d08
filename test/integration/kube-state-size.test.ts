import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_KEEP, FLAGS_OBJECT, KubeFlagStore } from '../../src/adapters/storage/kube/kube-flag-store.js';
import { GROUP_PREFIX, KubeGroupStore } from '../../src/adapters/storage/kube/kube-group-store.js';
import { KubeReplayRecorder, REPLAY_PREFIX } from '../../src/adapters/storage/kube/kube-replay-recorder.js';
import { MAX_OBJECT_BYTES } from '../../src/adapters/storage/kube/state-objects.js';
import { FlagCatalog } from '../../src/core/flags/catalog.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { REPLAY_KEEP_MS } from '../../src/interactions/replay-guard.js';
import { groupIdOf } from '../../src/ports/alert-groups.js';
import { FlagService } from '../../src/services/flag-service.js';
import { notificationFor, recordAfter } from '../support/alert-groups.js';
import { kubectlFor, startSeededCluster } from '../support/kube.js';
import { capturedLogger, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

const GROUPS = 200;
const ALERTS_PER_GROUP = 50;
const FLAG_CHANGES = 1000;
const REPLAY_KEYS = 300;
const T0 = Date.parse('2026-12-05T00:00:00Z');

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

interface Listed {
  metadata: { name: string; labels: Record<string, string> };
  data?: Record<string, string>;
}

/** The state objects as kubectl lists them by the managed-by label, with their size as stored. */
async function listStateObjects(): Promise<Array<{ name: string; kind: string; bytes: number }>> {
  const kubectl = kubectlFor(
    kube.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'state-size-')), 'kubeconfig')),
  );
  const out = await kubectl.ok(
    'get',
    'configmaps',
    '-n',
    STATE_NS,
    '-l',
    'app.kubernetes.io/managed-by=switchyard',
    '-o',
    'json',
  );
  return (JSON.parse(out) as { items: Listed[] }).items.map((item) => ({
    name: item.metadata.name,
    kind: item.metadata.labels['switchyard.io/kind']!,
    bytes: Buffer.byteLength(JSON.stringify(item)),
  }));
}

describe('state objects stay under 1 MiB at scale (issue 13)', () => {
  it('10,000 alerts in 200 groups, 1,000 flag changes, replay records: every object under 1 MiB; pruning shown', async () => {
    const { log } = capturedLogger();
    const groups = new KubeGroupStore(stateObjectsFor(kube), log);
    await groups.load();
    const names = Array.from({ length: GROUPS }, (_, i) => `Storm${i}`);
    await Promise.all(
      names.map((name) =>
        groups.update(groupIdOf(notificationFor(name, 1, 'firing').groupKey), (current) => ({
          next: recordAfter(current, notificationFor(name, ALERTS_PER_GROUP, 'firing'), T0),
          result: undefined,
        })),
      ),
    );
    expect(groups.firingCount).toBe(GROUPS);
    expect(groups.all().reduce((sum, group) => sum + Object.keys(group.state.alerts).length, 0)).toBe(
      GROUPS * ALERTS_PER_GROUP,
    );

    const catalog = new FlagCatalog();
    const flags = new FlagService(catalog, new KubeFlagStore(stateObjectsFor(kube), catalog, log));
    for (let i = 0; i < FLAG_CHANGES; i++) {
      const result = await flags.set('adaptive_timing', i % 2 === 0, {
        actor: { id: 'UOPS' },
        via: 'api',
        reason: `load test change ${i} with a reason of some length, as people write them`,
      });
      expect(result.status).toBe('changed');
    }

    const clock = { now: T0 };
    const replay = new KubeReplayRecorder(stateObjectsFor(kube), () => clock.now);
    for (let i = 0; i < REPLAY_KEYS; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => replay.accept([`signature:v0=${i + j}`])));
    }

    const before = await listStateObjects();
    const count = (list: typeof before, kind: string) => list.filter((object) => object.kind === kind).length;
    expect(count(before, 'group')).toBe(GROUPS);
    expect(count(before, 'replay')).toBe(REPLAY_KEYS);
    expect(count(before, 'flags')).toBe(1);
    for (const object of before) expect(object.bytes, object.name).toBeLessThan(MAX_OBJECT_BYTES);
    const largest = before.reduce((a, b) => (a.bytes > b.bytes ? a : b));
    const flagsObject = before.find((object) => object.name === FLAGS_OBJECT)!;

    // The flag audit is bounded: the newest AUDIT_KEEP entries stay in the cluster, the rest went to the log.
    const audit = JSON.parse(kube.get('ConfigMap', STATE_NS, FLAGS_OBJECT)!.data!['audit.json']!) as Array<{
      seq: number;
    }>;
    expect(audit).toHaveLength(AUDIT_KEEP);
    expect(audit[0]!.seq).toBe(FLAG_CHANGES - AUDIT_KEEP + 1);
    expect(audit.at(-1)!.seq).toBe(FLAG_CHANGES);
    expect((await flags.snapshot()).seq).toBe(FLAG_CHANGES);

    // Pruning: half the groups resolve and are forgotten; the replay records run out and are deleted.
    const resolved = names.slice(0, GROUPS / 2);
    for (const name of resolved) {
      const id = groupIdOf(notificationFor(name, 1, 'firing').groupKey);
      await groups.update(id, (current) => ({
        next: recordAfter(current, notificationFor(name, ALERTS_PER_GROUP, 'resolved'), T0 + 60_000),
        result: undefined,
      }));
      expect(await groups.forget(id, (current) => current.state.status === 'resolved')).toBe(true);
    }
    clock.now += REPLAY_KEEP_MS;
    expect(await replay.prune(clock.now)).toBe(REPLAY_KEYS);

    const after = await listStateObjects();
    expect(count(after, 'group')).toBe(GROUPS / 2);
    expect(after.some((object) => object.name.startsWith(REPLAY_PREFIX))).toBe(false);
    expect(after.filter((object) => object.name.startsWith(GROUP_PREFIX)).length).toBe(groups.all().length);
    groups.stop();

    // The figures, for the record (the README/issue quote them).
    process.stdout.write(
      `${JSON.stringify({
        objectsBefore: before.length,
        largest: { name: largest.name, kind: largest.kind, bytes: largest.bytes },
        flags: { bytes: flagsObject.bytes, auditKept: audit.length, changes: FLAG_CHANGES },
        groupBytesMax: Math.max(...before.filter((o) => o.kind === 'group').map((o) => o.bytes)),
        objectsAfterPruning: after.length,
      })}\n`,
    );
  }, 300_000);
});
