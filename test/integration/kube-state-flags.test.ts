import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS_OBJECT, KubeFlagStore } from '../../src/adapters/storage/kube/kube-flag-store.js';
import { FlagCatalog } from '../../src/core/flags/catalog.js';
import type { AuditEntry } from '../../src/core/flags/state.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { FlagService } from '../../src/services/flag-service.js';
import { startSeededCluster } from '../support/kube.js';
import { capturedLogger, STATE_NS, stateObjectsFor } from '../support/kube-state.js';

let kube: KubeEmulator;
beforeAll(async () => {
  kube = await startSeededCluster();
});
afterAll(async () => {
  await kube.stop();
});

const catalog = new FlagCatalog();

/** One replica: its own client, store and service, over the shared `switchyard-flags`. */
function replica() {
  const captured = capturedLogger();
  const store = new KubeFlagStore(stateObjectsFor(kube), catalog, captured.log);
  return { store, flags: new FlagService(catalog, store), ...captured };
}

const stored = () => {
  const map = kube.get('ConfigMap', STATE_NS, FLAGS_OBJECT)!;
  return {
    state: JSON.parse(map.data!['state.json']!) as {
      state: { seq: number; values: Record<string, boolean> };
    },
    audit: JSON.parse(map.data!['audit.json']!) as AuditEntry[],
  };
};

describe('KubeFlagStore with FlagService: two replicas', () => {
  it('keeps every change when two replicas change different flags concurrently (no lost update)', async () => {
    const a = replica();
    const b = replica();
    const toggle = async (r: ReturnType<typeof replica>, flag: string, who: string) => {
      for (let i = 0; i < 20; i++) {
        const result = await r.flags.set(flag, i % 2 === 0, { actor: { id: who }, via: 'api' });
        expect(result.status).toBe('changed');
      }
    };
    await Promise.all([toggle(a, 'adaptive_timing', 'UA'), toggle(b, 'flag_validation', 'UB')]);

    const { state, audit } = stored();
    expect(state.state.seq).toBe(40);
    // The audit is complete: 40 entries, numbered 1…40 without a gap, 20 of each replica's.
    expect(audit.map((entry) => entry.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(audit.filter((entry) => entry.actor.id === 'UA' && entry.flag === 'adaptive_timing')).toHaveLength(
      20,
    );
    expect(audit.filter((entry) => entry.actor.id === 'UB' && entry.flag === 'flag_validation')).toHaveLength(
      20,
    );
    // Each flag's entries alternate, each `before` being the previous `after`: nobody planned on a stale state.
    for (const flag of ['adaptive_timing', 'flag_validation']) {
      const mine = audit.filter((entry) => entry.flag === flag);
      mine.forEach((entry, i) => {
        expect(entry.after).toBe(i % 2 === 0);
        expect(entry.before).toBe(i % 2 !== 0);
      });
    }
    // The last of 20 toggles (i = 19) disabled each flag; both replicas serve the same values.
    expect((await a.flags.snapshot()).values).toEqual((await b.flags.snapshot()).values);
    expect((await a.flags.snapshot()).values.adaptive_timing).toBe(false);
    expect(state.state.values.flag_validation).toBe(false);
    // A history read through either replica sees the other's changes.
    expect((await a.flags.history('flag_validation', 100)).map((entry) => entry.actor.id)).toEqual(
      Array(20).fill('UB'),
    );
    // Every entry also went to the log stream, by the replica that made it.
    const logged = [...a.lines(), ...b.lines()].filter((line) => line.msg === 'flag audit');
    expect(logged.map((line) => (line.audit as AuditEntry).seq).sort((x, y) => x - y)).toEqual(
      audit.map((entry) => entry.seq),
    );
  });

  it('takes a change back when the cluster refuses it, and reports pending flags of a change cut short', async () => {
    const a = replica();
    const before = (await a.flags.snapshot()).seq;
    a.flags.addSink({
      apply: async () => {
        throw new Error('cluster said no');
      },
    });
    await expect(a.flags.set('retry_logic', true, { actor: { id: 'UA' }, via: 'api' })).rejects.toThrow(
      'cluster said no',
    );
    expect(stored().state.state.seq).toBe(before);
    expect(stored().audit.some((entry) => entry.flag === 'retry_logic')).toBe(false);
    expect((await a.flags.snapshot()).values.retry_logic).toBe(false);

    // A replica that dies between the commit and the cluster's write leaves the flag pending…
    const dying = replica();
    let reached!: () => void;
    const atCluster = new Promise<void>((resolve) => {
      reached = resolve;
    });
    dying.flags.addSink({
      apply: () => {
        reached();
        return new Promise<void>(() => undefined); // the process dies here
      },
    });
    void dying.flags.set('retry_logic', true, { actor: { id: 'UD' }, via: 'api' });
    await atCluster;
    // …which the next replica to start finds, and brings the cluster in line for.
    const next = replica();
    expect((await next.flags.snapshot()).values.retry_logic).toBe(true);
    expect(next.flags.unsyncedFlags()).toEqual(['retry_logic']);
  });

  it('bounds the audit it keeps by count and by bytes, and still knows the newest entry of every flag', async () => {
    kube.delete('ConfigMap', STATE_NS, FLAGS_OBJECT);
    const { log } = capturedLogger();
    const store = new KubeFlagStore(stateObjectsFor(kube), catalog, log, {
      auditKeep: 5,
      auditMaxBytes: 1500,
    });
    const flags = new FlagService(catalog, store);
    await flags.set('intelligent_ordering', true, { actor: { id: 'UX' }, via: 'slack' });
    for (let i = 0; i < 8; i++) {
      await flags.set('flag_validation', i % 2 === 0, {
        actor: { id: 'UY' },
        via: 'api',
        reason: 'r'.repeat(i * 20),
      });
    }
    const { audit, state } = stored();
    expect(state.state.seq).toBe(9);
    expect(audit.length).toBeLessThanOrEqual(5);
    expect(Buffer.byteLength(JSON.stringify(audit))).toBeLessThanOrEqual(1500);
    expect(audit.at(-1)!.seq).toBe(9);
    expect(audit.some((entry) => entry.flag === 'intelligent_ordering')).toBe(false);
    // Pruned from the recent audit, the flag's newest entry is still there (a timed revert needs it).
    const [newest] = await flags.history('intelligent_ordering', 1);
    expect(newest).toMatchObject({ seq: 1, flag: 'intelligent_ordering', after: true, actor: { id: 'UX' } });
    expect((await flags.history(undefined, 100)).map((entry) => entry.seq)).toEqual(
      audit.map((e) => e.seq).reverse(),
    );
  });
});
