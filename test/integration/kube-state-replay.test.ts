import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KubeReplayRecorder,
  REPLAY_PREFIX,
  replayObjectName,
} from '../../src/adapters/storage/kube/kube-replay-recorder.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { REPLAY_KEEP_MS } from '../../src/interactions/replay-guard.js';
import { startSeededCluster } from '../support/kube.js';
import { managedObjects, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

const T0 = Date.parse('2026-12-05T00:00:00Z');
/** One replica's recorder on its own clock (ms), moved by the test. */
function replica(clock: { now: number }) {
  return new KubeReplayRecorder(stateObjectsFor(kube), () => clock.now);
}
const replayObjects = () =>
  managedObjects(kube).filter((map) => map.metadata.name?.startsWith(REPLAY_PREFIX));

describe('KubeReplayRecorder: one object per accepted key', () => {
  it('answers a repeat of any key, on the replica that saw it first and on another', async () => {
    const clock = { now: T0 };
    const a = replica(clock);
    const b = replica(clock);
    const keys = ['signature:v0=abc', 'trigger:123.456'];
    expect(await a.accept(keys)).toEqual({ first: true });
    expect(await a.accept(keys)).toEqual({ first: false, key: 'signature:v0=abc' });
    expect(await b.accept(['trigger:123.456'])).toEqual({ first: false, key: 'trigger:123.456' });
    expect(await b.accept(['trigger:other'])).toEqual({ first: true });
    const object = kube.get('ConfigMap', STATE_NS, replayObjectName('trigger:123.456'))!;
    expect(object.metadata.labels?.['switchyard.io/kind']).toBe('replay');
    expect(object.data?.seenAt).toBe(String(T0));
    await a.checkReady();
  });

  it('records all keys of a request or none: after a failed write, Slack’s retry is not taken for a replay', async () => {
    const clock = { now: T0 + 1_000 };
    const a = replica(clock);
    const keys = ['signature:v0=first-try', 'event:Ev0RETRY'];
    kube.failNext('create', 'configmaps', 500, 1); // one of the two records fails
    await expect(a.accept(keys)).rejects.toThrow();
    expect(kube.get('ConfigMap', STATE_NS, replayObjectName('event:Ev0RETRY'))).toBeUndefined();
    expect(kube.get('ConfigMap', STATE_NS, replayObjectName('signature:v0=first-try'))).toBeUndefined();
    // Slack retries: a new signature, the same event id.
    expect(await a.accept(['signature:v0=second-try', 'event:Ev0RETRY'])).toEqual({ first: true });
  });

  it('lets exactly one of two replicas accept the same request sent to both at once', async () => {
    const clock = { now: T0 };
    const a = replica(clock);
    const b = replica(clock);
    const verdicts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).accept([`event:Ev${i >> 1}`, 'signature:same'])),
    );
    expect(verdicts.filter((verdict) => verdict.first)).toHaveLength(1);
  });

  it('takes a key as new once its record is past the window, and prune deletes only such records', async () => {
    const clock = { now: T0 + 60 * 60_000 };
    const a = replica(clock);
    const b = replica(clock);
    expect(await a.accept(['action:U1:1.0'])).toEqual({ first: true });
    clock.now += REPLAY_KEEP_MS - 1;
    expect(await b.accept(['action:U1:1.0'])).toEqual({ first: false, key: 'action:U1:1.0' });
    clock.now += 1;
    expect(await b.accept(['action:U1:1.0'])).toEqual({ first: true });
    expect(kube.get('ConfigMap', STATE_NS, replayObjectName('action:U1:1.0'))!.data?.seenAt).toBe(
      String(clock.now),
    );

    const earlier = replayObjects().length - 1; // the other tests' records, accepted at T0
    expect(earlier).toBeGreaterThan(0);
    expect(await a.accept(['action:U1:2.0'])).toEqual({ first: true });
    clock.now += REPLAY_KEEP_MS - 1;
    expect(await a.accept(['action:U1:3.0'])).toEqual({ first: true });
    const names = (...keys: string[]) => keys.map(replayObjectName).sort();
    const left = () =>
      replayObjects()
        .map((map) => map.metadata.name!)
        .sort();
    // The records accepted at T0 are past the window; the three of this test are not (yet).
    expect(await a.prune(clock.now)).toBe(earlier);
    expect(left()).toEqual(names('action:U1:1.0', 'action:U1:2.0', 'action:U1:3.0'));
    clock.now += 1;
    expect(await b.prune(clock.now)).toBe(2);
    expect(left()).toEqual(names('action:U1:3.0'));
  });
});
