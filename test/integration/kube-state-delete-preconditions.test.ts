import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateConflict } from '../../src/adapters/storage/kube/state-objects.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { startSeededCluster } from '../support/kube.js';
import { STATE_NS, stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

describe('the emulator honours DeleteOptions preconditions, as the API server does', () => {
  it('refuses with 409 a delete whose resourceVersion is no longer the object’s, and deletes with the current one', async () => {
    const objects = stateObjectsFor(kube);
    const created = await objects.create('switchyard-doc-precondition', 'document', { 'document.json': '1' });
    const changed = await objects.replace(created, 'document', { 'document.json': '2' });
    await expect(objects.delete(created.name, created.resourceVersion)).rejects.toBeInstanceOf(StateConflict);
    const refused = kube.requests.filter((r) => r.verb === 'delete' && r.name === created.name);
    expect(refused.map((r) => r.status)).toEqual([409]);
    expect(kube.get('ConfigMap', STATE_NS, created.name)?.data).toEqual({ 'document.json': '2' });
    expect(await objects.delete(created.name, changed.resourceVersion)).toBe(true);
    expect(kube.get('ConfigMap', STATE_NS, created.name)).toBeUndefined();
    // Without preconditions a delete is unconditional; a missing object is not an error to the caller.
    expect(await objects.delete(created.name)).toBe(false);
  });
});
