import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeDocumentStore } from '../../src/adapters/storage/kube/kube-document-store.js';
import { KubeFlagStore } from '../../src/adapters/storage/kube/kube-flag-store.js';
import { timedChangesSchema } from '../../src/adapters/storage/state-schemas.js';
import { FlagCatalog } from '../../src/core/flags/catalog.js';
import type { TimedChanges } from '../../src/core/flags/timed.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { FlagService } from '../../src/services/flag-service.js';
import { startSeededCluster } from '../support/kube.js';
import { stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

const catalog = new FlagCatalog();
const log = createLogger('silent');
const clock = { now: Date.parse('2026-12-05T02:00:00Z') };

function replica() {
  const objects = stateObjectsFor(kube);
  const store = new KubeFlagStore(objects, catalog, log);
  const flags = new FlagService(catalog, store, () => new Date(clock.now));
  const timed = new KubeDocumentStore<TimedChanges>(
    objects,
    'timed-flags',
    () => ({}),
    { schema: timedChangesSchema, what: 'timed flag changes' },
    log,
  );
  flags.useTimedChanges(timed, () => clock.now);
  return { store, flags };
}

describe('a timed revert with two replicas', () => {
  it('does not revert a change another replica made while the revert was being decided', async () => {
    const leader = replica();
    const other = replica();
    const set = await leader.flags.set(
      'intelligent_ordering',
      true,
      { actor: { id: 'U1' }, via: 'api' },
      false,
      60_000,
    );
    expect(set.status).toBe('changed');
    clock.now += 61_000; // the timed change is due
    // The other replica changes the flag again just as the leader has read its history.
    const history = leader.store.history.bind(leader.store);
    let interposed = false;
    leader.store.history = async (filter) => {
      const found = await history(filter);
      if (!interposed) {
        interposed = true;
        const again = await other.flags.set('intelligent_ordering', false, {
          actor: { id: 'U2' },
          via: 'api',
        });
        expect(again.status).toBe('changed');
        await other.flags.set('intelligent_ordering', true, { actor: { id: 'U2' }, via: 'api' });
      }
      return found;
    };
    expect(await leader.flags.revertDue()).toEqual([]);
    // The later change by U2 (on again) stands: the timed change it cancelled reverted nothing.
    expect((await leader.flags.reload()).values.intelligent_ordering).toBe(true);
    const [latest] = await leader.store.history({ flag: 'intelligent_ordering', limit: 1 });
    expect(latest?.actor.id).toBe('U2');
  });
});
