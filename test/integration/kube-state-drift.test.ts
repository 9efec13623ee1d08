import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/adapters/kubernetes/kube-cluster.js';
import { FLAGS_OBJECT, KubeFlagStore } from '../../src/adapters/storage/kube/kube-flag-store.js';
import { FlagCatalog } from '../../src/core/flags/catalog.js';
import type { AuditEntry } from '../../src/core/flags/state.js';
import { FLAGS_CONFIGMAP_NAME, type KubeEmulator } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';
import { ClusterFlags } from '../../src/services/cluster-flags.js';
import { FlagService } from '../../src/services/flag-service.js';
import { startSeededCluster } from '../support/kube.js';
import { kubeConfigFor, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

const catalog = new FlagCatalog();
const log = createLogger('silent');

function replica() {
  const store = new KubeFlagStore(stateObjectsFor(kube), catalog, log);
  return { store, flags: new FlagService(catalog, store) };
}

const audit = () =>
  JSON.parse(kube.get('ConfigMap', STATE_NS, FLAGS_OBJECT)!.data!['audit.json']!) as AuditEntry[];
const inCluster = (envVar: string) =>
  kube.get('ConfigMap', 'messaging-system', FLAGS_CONFIGMAP_NAME)?.data?.[envVar];

describe('the drift check with two replicas', () => {
  it('takes a change another replica is making (committed, not yet in the ConfigMap) for what it is, not for drift', async () => {
    const leader = replica();
    const follower = replica();
    const cluster = new KubeCluster(kubeConfigFor(kube), 'messaging-system');
    const drift = new ClusterFlags(
      cluster,
      leader.flags,
      catalog,
      { configMap: FLAGS_CONFIGMAP_NAME, intervalMs: 60_000, notify: async () => undefined },
      log,
    );
    leader.flags.addSink(drift);
    // The follower's change stops between its commit point and the cluster write.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atSink = new Promise<void>((resolve) => (reached = resolve));
    follower.flags.addSink(
      new (class {
        async apply(values: Record<string, boolean>, changes: readonly { key: string }[]) {
          reached();
          await held;
          await new ClusterFlags(
            cluster,
            follower.flags,
            catalog,
            { configMap: FLAGS_CONFIGMAP_NAME, intervalMs: 60_000, notify: async () => undefined },
            log,
          ).apply(values, changes as never);
        }
      })(),
    );
    expect(inCluster('MESSAGING_ADAPTIVE_TIMING')).toBe('false');
    const change = follower.flags.set('adaptive_timing', true, { actor: { id: 'U0FOLLOWER' }, via: 'api' });
    await atSink;

    // The leader's drift check runs now: the map still says false, the state says true (pending).
    await drift.check();
    expect(audit().filter((entry) => entry.action === 'drift')).toEqual([]);
    expect(inCluster('MESSAGING_ADAPTIVE_TIMING')).toBe('true');

    release();
    expect((await change).status).toBe('changed');
    expect((await leader.flags.reload()).values.adaptive_timing).toBe(true);
    expect(leader.store.unsyncedFlags()).toEqual([]);
    // A later check finds nothing either.
    await drift.check();
    expect(audit().filter((entry) => entry.action === 'drift')).toEqual([]);
    expect(audit().filter((entry) => entry.flag === 'adaptive_timing')).toHaveLength(1);
  });

  it('keeps a flag pending while a later change by another replica is still on its way to the cluster', async () => {
    /** A replica whose cluster write waits until the test lets it go (and says when it got there). */
    function held() {
      const r = replica();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let reached!: () => void;
      const atSink = new Promise<void>((resolve) => (reached = resolve));
      r.flags.addSink({
        apply: async () => {
          reached();
          await gate;
        },
      });
      return { ...r, release, atSink };
    }
    const a = held();
    const b = held();
    const setByA = a.flags.set('retry_logic', true, { actor: { id: 'UA' }, via: 'api' });
    await a.atSink; // A committed; its cluster write is in flight
    const setByB = b.flags.set('retry_logic', false, { actor: { id: 'UB' }, via: 'api' });
    await b.atSink; // B committed on top; its write is in flight too
    a.release();
    expect((await setByA).status).toBe('changed'); // A's write is done: it clears only what it applied
    const leader = replica();
    expect((await leader.flags.reload()).values.retry_logic).toBe(false);
    // The cluster may hold A's value; B's is still to come: not drift, still pending.
    expect(leader.flags.unsyncedFlags()).toContain('retry_logic');
    b.release();
    expect((await setByB).status).toBe('changed');
    await leader.flags.reload();
    expect(leader.flags.unsyncedFlags()).not.toContain('retry_logic');
  });

  it('does not let an older change reach the ConfigMap after a later one another replica already wrote', async () => {
    const cluster = new KubeCluster(kubeConfigFor(kube), 'messaging-system');
    const sinkFor = (flags: FlagService) =>
      new ClusterFlags(
        cluster,
        flags,
        catalog,
        { configMap: FLAGS_CONFIGMAP_NAME, intervalMs: 60_000, notify: async () => undefined },
        log,
      );
    const a = replica();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atSink = new Promise<void>((resolve) => (reached = resolve));
    a.flags.addSink({
      apply: async () => {
        reached();
        await gate;
      },
    });
    a.flags.addSink(sinkFor(a.flags));
    const b = replica();
    b.flags.addSink(sinkFor(b.flags));

    const setByA = a.flags.set('flag_validation', true, { actor: { id: 'UA' }, via: 'api' });
    await atSink; // A committed; its ConfigMap write waits
    // B turns it off again (on top of A's commit) and writes the map first.
    expect((await b.flags.set('flag_validation', false, { actor: { id: 'UB' }, via: 'api' })).status).toBe(
      'changed',
    );
    expect(inCluster('MESSAGING_FLAG_VALIDATION')).toBe('false');
    release();
    expect((await setByA).status).toBe('changed');
    // A's older `true` did not land after B's `false`: map and state agree.
    expect(inCluster('MESSAGING_FLAG_VALIDATION')).toBe('false');
    expect((await a.flags.reload()).values.flag_validation).toBe(false);
  });
});
