import { describe, expect, it } from 'vitest';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import { type AuditEntry, type FlagState, initialFlagState } from '../../../src/core/flags/state.js';
import { writeFlagData } from '../../../src/core/rollout/flags.js';
import { createLogger } from '../../../src/logger.js';
import { type Cluster, ClusterError, type ConfigMapData } from '../../../src/ports/cluster.js';
import type { FlagStore } from '../../../src/ports/flag-store.js';
import { ClusterFlags } from '../../../src/services/cluster-flags.js';
import { FlagService } from '../../../src/services/flag-service.js';

const catalog = new FlagCatalog();
const KEYS = catalog.flags.map((flag) => ({ key: flag.key, envVar: flag.envVar }));
const MAP = 'messaging-feature-flags';
const meta = { actor: { id: 'U0TEST' }, via: 'slack' as const, reason: 'test' };

/** A gate a test opens by hand. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * The flag store in memory; `hold` delays every commit after the cluster took the change (a slow
 * state write) until the gate opens.
 */
class MemoryFlagStore implements FlagStore {
  state: FlagState = initialFlagState(catalog);
  readonly entries: AuditEntry[] = [];
  hold?: Promise<void>;
  commitsStarted = 0;
  applied = 0;

  async load() {
    return this.state;
  }
  async commit(state: FlagState, entries: readonly AuditEntry[], applyExternally?: () => Promise<void>) {
    this.commitsStarted++;
    await applyExternally?.();
    this.applied++;
    await this.hold;
    this.entries.push(...entries);
    this.state = state;
  }
  async history() {
    return [...this.entries].reverse();
  }
  async checkWritable() {}
}

/** Just the ConfigMap part of a cluster, with resourceVersion conflicts. */
class MemoryConfigMapCluster implements Cluster {
  readonly namespace = 'messaging-system';
  map: ConfigMapData = {
    data: writeFlagData(KEYS, { OTHER_SETTING: 'keep-me' }, catalog.defaults()),
    resourceVersion: '1',
  };
  reads = 0;

  async readConfigMap(name: string) {
    expect(name).toBe(MAP);
    this.reads++;
    return structuredClone(this.map);
  }
  async replaceConfigMap(_name: string, data: Record<string, string>, resourceVersion: string) {
    if (resourceVersion !== this.map.resourceVersion) throw new ClusterError('conflict', 'conflict', 409);
    this.edit(data);
    return structuredClone(this.map);
  }
  async createConfigMap(): Promise<ConfigMapData> {
    throw new Error('not used');
  }
  /** A write that bypasses the bot (kubectl edit). */
  edit(data: Record<string, string>) {
    this.map = {
      data: { ...this.map.data, ...data },
      resourceVersion: String(Number(this.map.resourceVersion) + 1),
    };
  }
  listDeployments = unused;
  readDeployment = unused;
  listReplicaSets = unused;
  patchDeployment = unused;
  restartDeployment = unused;
  listPods = unused;
  podLogs = unused;
}

function unused(): never {
  throw new Error('not used by the flag sink');
}

/**
 * Lets everything already runnable run: pending promise callbacks, then one turn of the event loop.
 * Everything here is in memory, so this is a barrier, not a guess at how long something takes.
 */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Turns the event loop until `condition` holds (in-memory work only: it gets there in a few turns). */
async function until(condition: () => boolean) {
  for (let i = 0; i < 1_000 && !condition(); i++) await settled();
  expect(condition()).toBe(true);
}

function setup(readTimeoutMs?: number) {
  const store = new MemoryFlagStore();
  const cluster = new MemoryConfigMapCluster();
  const service = new FlagService(catalog, store);
  const sink = new ClusterFlags(
    cluster,
    service,
    catalog,
    { configMap: MAP, intervalMs: 60_000, readTimeoutMs },
    createLogger('silent'),
  );
  service.addSink(sink);
  return { store, cluster, service, sink };
}

describe('the drift check against bot writes in flight', () => {
  it('records no false drift when it runs between a bot write reaching the ConfigMap and its commit, and records a concurrent hand edit exactly once', async () => {
    const { store, cluster, service, sink } = setup();
    const slowDisk = gate();
    store.hold = slowDisk.opened;

    // The bot turns adaptive_timing on: audited, the ConfigMap takes it, the state write is slow.
    const on = service.set('adaptive_timing', true, meta);
    await until(() => store.applied === 1);
    expect(cluster.map.data.MESSAGING_ADAPTIVE_TIMING).toBe('true');
    // Someone turns it off again right behind (queued on the flag lock), and someone edits
    // another key by hand.
    const off = service.set('adaptive_timing', false, meta);
    cluster.edit({ MESSAGING_DASHBOARD: 'false' });

    // The drift check runs now, with the bot's own write in the ConfigMap and not yet in its state.
    // The check queues on the flag lock as it is called; let it get as far as it can meanwhile.
    const check = sink.check();
    await settled();
    slowDisk.open();
    await Promise.all([on, off, check]);
    await sink.check();

    const drift = store.entries.filter((entry) => entry.action === 'drift');
    expect(drift.map((e) => [e.flag, e.before, e.after])).toEqual([['dashboard', true, false]]);
    expect(store.entries.filter((e) => e.flag === 'adaptive_timing').map((e) => e.action)).toEqual([
      'enable',
      'disable',
    ]);
    expect(store.state.values.adaptive_timing).toBe(false);
    expect(cluster.map.data.MESSAGING_ADAPTIVE_TIMING).toBe('false');
    expect(store.state.values.dashboard).toBe(false);
    expect(cluster.map.data.OTHER_SETTING).toBe('keep-me');
  });

  it('reads the ConfigMap only while no bot change is in progress', async () => {
    const { store, cluster, service, sink } = setup();
    const slowDisk = gate();
    store.hold = slowDisk.opened;
    const on = service.set('adaptive_timing', true, meta);
    await until(() => store.applied === 1);
    const readsBefore = cluster.reads;
    const check = sink.check();
    await settled();
    // The check waits for the change to finish before it looks at the ConfigMap.
    expect(cluster.reads).toBe(readsBefore);
    slowDisk.open();
    await Promise.all([on, check]);
    expect(cluster.reads).toBe(readsBefore + 1);
    expect(store.entries.map((e) => e.action)).toEqual(['enable']);
  });

  it('fills owned keys missing from the ConfigMap from the state current under the lock', async () => {
    const { store, cluster, service, sink } = setup();
    const { MESSAGING_ADAPTIVE_TIMING: _dropped, ...rest } = cluster.map.data;
    cluster.map = { data: rest, resourceVersion: '7' };
    await service.set('adaptive_timing', true, meta);
    expect(cluster.map.data.MESSAGING_ADAPTIVE_TIMING).toBe('true');
    cluster.map = { data: rest, resourceVersion: '9' };
    await sink.check();
    expect(cluster.map.data.MESSAGING_ADAPTIVE_TIMING).toBe('true');
    expect(store.entries.map((e) => e.action)).toEqual(['enable']);
  });

  it('gives up a ConfigMap read that gets no answer, so a hung API server does not hold the flag lock', async () => {
    const { store, cluster, service, sink } = setup(50);
    const hung = gate();
    const read = cluster.readConfigMap.bind(cluster);
    let hungReadStarted = false;
    cluster.readConfigMap = async (name: string) => {
      hungReadStarted = true;
      await hung.opened;
      return read(name);
    };
    const check = sink.check();
    await until(() => hungReadStarted);
    cluster.readConfigMap = read;
    // The hung read never answers before this resolves: without the read timeout, set() would
    // wait for the lock forever and the test would time out.
    await service.set('adaptive_timing', true, meta);
    await check;
    hung.open();
    expect(store.entries.map((e) => e.action)).toEqual(['enable']);
    expect(cluster.map.data.MESSAGING_ADAPTIVE_TIMING).toBe('true');
  });
});
