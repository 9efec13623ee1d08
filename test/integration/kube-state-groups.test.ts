import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_PREFIX, KubeGroupStore } from '../../src/adapters/storage/kube/kube-group-store.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { type GroupRecord, groupIdOf } from '../../src/ports/alert-groups.js';
import { notificationFor, recordAfter } from '../support/alert-groups.js';
import { eventually } from '../support/http.js';
import { startSeededCluster } from '../support/kube.js';
import { capturedLogger, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
const stores: KubeGroupStore[] = [];
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterEach(() => {
  for (const store of stores.splice(0)) store.stop();
});
afterAll(async () => {
  await kube.stop();
});

/** One replica's store, loaded (its watch running). */
async function replica(): Promise<KubeGroupStore> {
  const store = new KubeGroupStore(stateObjectsFor(kube), capturedLogger().log);
  stores.push(store);
  await store.load();
  return store;
}

const fire =
  (name: string, count = 3) =>
  (current: GroupRecord | undefined) => ({
    next: recordAfter(current, notificationFor(name, count, 'firing'), Date.now()),
    result: undefined,
  });
const resolve =
  (name: string, count = 3) =>
  (current: GroupRecord | undefined) => ({
    next: recordAfter(current, notificationFor(name, count, 'resolved'), Date.now()),
    result: undefined,
  });
const idOf = (name: string) => groupIdOf(notificationFor(name, 1, 'firing').groupKey);

describe('KubeGroupStore: alert groups shared by replicas', () => {
  it("shows a group one replica wrote in the other's get and firing, and its resolution too", async () => {
    const a = await replica();
    const b = await replica();
    const id = idOf('Shared');
    let told = 0;
    a.onChange(() => told++);
    await a.update(id, fire('Shared'));
    // The writer's cache has it at once, and its listeners were told.
    expect(a.get(id)?.state.status).toBe('firing');
    expect(told).toBeGreaterThan(0);
    const object = kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)!;
    expect(object.metadata.labels?.['switchyard.io/status']).toBe('firing');
    await eventually(() => {
      expect(b.get(id)?.state.groupKey).toBe(notificationFor('Shared', 1, 'firing').groupKey);
      expect(b.firing().map((group) => group.id)).toContain(id);
    });
    await b.update(id, resolve('Shared'));
    await eventually(() => {
      expect(a.get(id)?.state.status).toBe('resolved');
      expect(a.firing().map((group) => group.id)).not.toContain(id);
    });
    expect(
      kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)!.metadata.labels?.['switchyard.io/status'],
    ).toBe('resolved');
  });

  it('runs a change again on the newer record when another replica wrote in between (409)', async () => {
    const a = await replica();
    const b = await replica();
    const id = idOf('Raced');
    await a.update(id, fire('Raced'));
    const seen: Array<string[]> = [];
    const result = await a.update(id, async (current) => {
      seen.push(current!.sentEscalations);
      // The other replica records an escalation while this one is deciding.
      if (seen.length === 1) {
        await b.update(id, (theirs) => ({
          next: { ...theirs!, sentEscalations: [...theirs!.sentEscalations, 'tier-1'] },
          result: undefined,
        }));
      }
      return { next: { ...current!, message: { channel: 'C1', ts: '1.1' } }, result: 'posted' };
    });
    expect(result).toBe('posted');
    expect(seen).toEqual([[], ['tier-1']]);
    const saved = a.get(id)!;
    expect(saved.sentEscalations).toEqual(['tier-1']);
    expect(saved.message).toEqual({ channel: 'C1', ts: '1.1' });
    await eventually(() => expect(b.get(id)).toEqual(saved));
  });

  it('runs `after` with the saved record while still alone for the group', async () => {
    const a = await replica();
    const id = idOf('After');
    const order: string[] = [];
    const first = a.update(id, (current) => ({
      ...fire('After')(current),
      after: async (saved) => {
        order.push(`after ${saved.state.status}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push('after done');
      },
    }));
    const second = a.update(id, (current) => {
      order.push(`second sees ${current?.state.status}`);
      return { result: undefined };
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['after firing', 'after done', 'second sees firing']);
  });

  it('forgets a group only when the condition holds on the latest record', async () => {
    const a = await replica();
    const b = await replica();
    const id = idOf('Forget');
    await a.update(id, resolve('Forget'));
    await eventually(() => expect(b.get(id)).toBeDefined());

    expect(await a.forget(id, (current) => current.state.status === 'firing')).toBe(false);
    expect(kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)).toBeDefined();

    // The group fires again (another replica's webhook) between the check and the delete: kept.
    let checks = 0;
    const forgotten = await a.forget(id, (current) => {
      checks += 1;
      if (checks === 1) {
        const object = kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)!;
        const fired = recordAfter(current, notificationFor('Forget', 3, 'firing'), Date.now());
        kube.apply({ ...object, data: { 'group.json': JSON.stringify(fired) } });
      }
      return current.state.status === 'resolved';
    });
    expect(checks).toBe(2);
    expect(forgotten).toBe(false);
    expect(kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)).toBeDefined();
    expect(a.get(id)?.state.status).toBe('firing');

    await a.update(id, resolve('Forget'));
    expect(await a.forget(id, (current) => current.state.status === 'resolved')).toBe(true);
    expect(kube.get('ConfigMap', STATE_NS, GROUP_PREFIX + id)).toBeUndefined();
    expect(a.get(id)).toBeUndefined();
    await eventually(() => expect(b.get(id)).toBeUndefined());
  });

  it('loads the groups already kept, and a resync finds what the watch missed', async () => {
    const a = await replica();
    const id = idOf('Loaded');
    await a.update(id, fire('Loaded'));
    const late = await replica();
    expect(late.get(id)?.state.status).toBe('firing');
    late.stop(); // no watch: only a resync can learn of the next change
    await a.update(id, resolve('Loaded'));
    expect(late.get(id)?.state.status).toBe('firing');
    await late.resync();
    expect(late.get(id)?.state.status).toBe('resolved');
    await eventually(() => expect(late.firingCount).toBe(a.firingCount));
    expect(late.firing().map((group) => group.id)).not.toContain(id);
  });

  it('leaves a damaged group out, reported, and replaces it at its next notification', async () => {
    const id = idOf('Damaged');
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: GROUP_PREFIX + id,
        namespace: STATE_NS,
        labels: { 'app.kubernetes.io/managed-by': 'switchyard', 'switchyard.io/kind': 'group' },
      },
      data: { 'group.json': '{"id": 7}' },
    });
    const captured = capturedLogger();
    const store = new KubeGroupStore(stateObjectsFor(kube), captured.log);
    stores.push(store);
    await store.load();
    expect(store.get(id)).toBeUndefined();
    expect(captured.lines().some((line) => line.level === 50 && line.object === GROUP_PREFIX + id)).toBe(
      true,
    );
    await store.update(id, fire('Damaged'));
    expect(store.get(id)?.state.status).toBe('firing');
  });

  it('lists again when its watch fails, and then follows the other replicas again', async () => {
    const a = await replica();
    kube.failNext('watch', 'configmaps', 500);
    const b = await replica(); // its list is in; its watch was refused
    const id = idOf('Relisted');
    await a.update(id, fire('Relisted'));
    await eventually(() => expect(b.get(id)?.state.status).toBe('firing'));
    await a.update(id, resolve('Relisted'));
    await eventually(() => expect(b.get(id)?.state.status).toBe('resolved'));
    expect(kube.requests.filter((r) => r.verb === 'watch' && r.status === 500)).toHaveLength(1);
  });
});
