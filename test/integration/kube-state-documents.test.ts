import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KubeDocumentStore } from '../../src/adapters/storage/kube/kube-document-store.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { startSeededCluster } from '../support/kube.js';
import { capturedLogger, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

interface Counter {
  count: number;
  by: string[];
}
const counterSchema = z.object({ count: z.number().int(), by: z.array(z.string()) });

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

/** One replica's view of the document `name`: its own client, its own store. */
function replica(name: string) {
  const captured = capturedLogger();
  const store = new KubeDocumentStore<Counter>(
    stateObjectsFor(kube),
    name,
    () => ({ count: 0, by: [] }),
    { schema: counterSchema, what: 'test counters' },
    captured.log,
  );
  return { store, ...captured };
}

const increment = (who: string) => (current: Counter) => ({
  next: { count: current.count + 1, by: [...current.by, who] },
  result: current.count + 1,
});

describe('KubeDocumentStore: one document shared by replicas', () => {
  it('loses no update when two replicas increment the same document concurrently', async () => {
    const a = replica('counter');
    const b = replica('counter');
    await Promise.all([
      ...Array.from({ length: 50 }, () => a.store.update(increment('a'))),
      ...Array.from({ length: 50 }, () => b.store.update(increment('b'))),
    ]);
    const final = await a.store.read();
    expect(final.count).toBe(100);
    expect(final.by.filter((who) => who === 'a')).toHaveLength(50);
    expect(final.by.filter((who) => who === 'b')).toHaveLength(50);
    expect(await b.store.read()).toEqual(final);
    const stored = kube.get('ConfigMap', STATE_NS, 'switchyard-doc-counter')!;
    expect(JSON.parse(stored.data!['document.json']!)).toEqual(final);
    expect(stored.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'switchyard',
      'switchyard.io/kind': 'document',
    });
    // They did race: some writes were refused with 409 and made again.
    expect(kube.requests.some((r) => r.name === 'switchyard-doc-counter' && r.status === 409)).toBe(true);
  });

  it('reads what another replica wrote, and tells its listeners after its own writes only', async () => {
    const a = replica('listened');
    const b = replica('listened');
    const seen: Counter[] = [];
    a.store.onChange((document) => seen.push(document));
    await b.store.update(increment('b'));
    expect(await a.store.read()).toEqual({ count: 1, by: ['b'] });
    expect(seen).toEqual([]);
    await a.store.update(increment('a'));
    expect(seen).toEqual([{ count: 2, by: ['b', 'a'] }]);
    // A change that returns the document as it is writes nothing and tells nobody.
    await a.store.update((current) => ({ next: current, result: undefined }));
    expect(seen).toHaveLength(1);
  });

  it('reads a damaged object as the initial document, says so in the log, and replaces it at the next update', async () => {
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'switchyard-doc-damaged',
        namespace: STATE_NS,
        labels: { 'app.kubernetes.io/managed-by': 'switchyard', 'switchyard.io/kind': 'document' },
      },
      data: { 'document.json': '{"count": "many"' },
    });
    const a = replica('damaged');
    expect(await a.store.read()).toEqual({ count: 0, by: [] });
    expect(a.lines().some((line) => line.level === 50 && line.object === 'switchyard-doc-damaged')).toBe(
      true,
    );
    expect(await a.store.update(increment('a'))).toBe(1);
    expect(await a.store.read()).toEqual({ count: 1, by: ['a'] });
  });
});
