import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DocumentName } from '../../src/adapters/storage/backend.js';
import { kubeBackend } from '../../src/adapters/storage/kube/kube-backend.js';
import { FlagCatalog } from '../../src/core/flags/catalog.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { REPLAY_KEEP_MS } from '../../src/interactions/replay-guard.js';
import { FlagService } from '../../src/services/flag-service.js';
import { notificationFor, recordAfter } from '../support/alert-groups.js';
import { eventually } from '../support/http.js';
import { startSeededCluster } from '../support/kube.js';
import { capturedLogger, kubeConfigFor, managedObjects, STATE_NS } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

const NAMES: DocumentName[] = [
  'confirmations',
  'phase-requests',
  'runbook-runs',
  'checklists',
  'home-users',
  'timed-flags',
  'startup-warnings',
  'rollback-audit',
];

describe('kubeBackend: every store in the state namespace', () => {
  it('keeps documents, groups, flags and replay records as labelled ConfigMaps, shared by two backends', async () => {
    const clock = { now: Date.parse('2026-12-05T00:00:00Z') };
    const make = () =>
      kubeBackend({
        kubeConfig: kubeConfigFor(kube),
        namespace: STATE_NS,
        log: capturedLogger().log,
        now: () => clock.now,
      });
    const a = make();
    const b = make();
    expect(a.kind).toBe('kubernetes');
    for (const name of NAMES) {
      await a
        .document(name, () => ({ n: 0 }), { schema: z.object({ n: z.number() }), what: name })
        .update(() => ({
          next: { n: 1 },
          result: undefined,
        }));
      expect(
        await b.document(name, () => ({ n: 0 }), { schema: z.object({ n: z.number() }), what: name }).read(),
      ).toEqual({
        n: 1,
      });
    }

    const groupsA = await a.groups();
    const groupsB = await b.groups();
    expect(await a.groups()).toBe(groupsA);
    const record = recordAfter(undefined, notificationFor('Backend', 2, 'firing'), 1);
    await groupsA.update(record.id, () => ({ next: record, result: undefined }));
    await eventually(() => expect(groupsB.get(record.id)).toEqual(record));

    const catalog = new FlagCatalog();
    await new FlagService(catalog, a.flags(catalog)).set('retry_logic', true, {
      actor: { id: 'U1' },
      via: 'api',
    });
    expect((await new FlagService(catalog, b.flags(catalog)).snapshot()).values.retry_logic).toBe(true);

    expect(await a.replay().accept(['signature:1'])).toEqual({ first: true });
    expect(await b.replay().accept(['signature:1'])).toEqual({ first: false, key: 'signature:1' });

    const kinds = new Map<string, string[]>();
    for (const map of managedObjects(kube)) {
      const kind = map.metadata.labels!['switchyard.io/kind']!;
      kinds.set(kind, [...(kinds.get(kind) ?? []), map.metadata.name!]);
    }
    expect(kinds.get('document')?.sort()).toEqual(NAMES.map((name) => `switchyard-doc-${name}`).sort());
    expect(kinds.get('group')).toEqual([`switchyard-group-${record.id}`]);
    expect(kinds.get('flags')).toEqual(['switchyard-flags']);
    expect(kinds.get('replay')).toHaveLength(1);

    expect(await a.prune(clock.now + REPLAY_KEEP_MS - 1)).toEqual({ replay: 0 });
    expect(await a.prune(clock.now + REPLAY_KEEP_MS)).toEqual({ replay: 1 });
    expect(
      managedObjects(kube).filter((map) => map.metadata.labels!['switchyard.io/kind'] === 'replay'),
    ).toEqual([]);

    await a.stop();
    await b.stop();
  });
});
