import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileGroupStore } from '../../../src/adapters/storage/file-group-store.js';
import { escalationKey } from '../../../src/core/alerts/escalation.js';
import { groupIdOf } from '../../../src/ports/alert-groups.js';
import type { AlertNotifier, SilenceApi } from '../../../src/ports/alerting.js';
import { AlertService, matchersOf } from '../../../src/services/alert-service.js';
import { firing, GROUP_KEY, notification, resolved, SECOND_MS, T0 } from './fixtures.js';

function setup(
  dir = mkdtempSync(join(tmpdir(), 'switchyard-alerts-')),
  retention: { retentionMs?: number; hold?: () => boolean } = {},
) {
  const calls: string[] = [];
  const notifier: AlertNotifier = {
    groupChanged: async (_r, changes) => void calls.push(`changed:${changes.map((c) => c.kind).join(',')}`),
    acknowledged: async (_r, by) => void calls.push(`ack:${by.id}`),
    silenced: async (r) => void calls.push(`silenced:${r.state.silence?.id}`),
    unsilenced: async () => void calls.push('unsilenced'),
    escalated: async (_r, due) => void calls.push(`escalated:${due.map((d) => d.tierIndex).join(',')}`),
    refresh: async () => void calls.push('refresh'),
  };
  const silences: SilenceApi & { created: unknown[]; expired: string[] } = {
    created: [],
    expired: [],
    async create(s) {
      this.created.push(s);
      return 'silence-1';
    },
    async expire(id) {
      this.expired.push(id);
    },
  };
  let now = T0;
  const store = new FileGroupStore(dir);
  const service = new AlertService({
    store,
    notifier,
    silences,
    tiers: [
      { after: 15 * 60 * SECOND_MS, notify: ['U0TEAMLEAD'] },
      { after: 60 * 60 * SECOND_MS, notify: ['U0ENGMGR'] },
    ],
    now: () => now,
    ...(retention.retentionMs !== undefined && { retentionMs: retention.retentionMs }),
    ...(retention.hold && { holdRetention: retention.hold }),
  });
  return { dir, calls, silences, store, service, at: (ms: number) => (now = ms) };
}

const ID = groupIdOf(GROUP_KEY);

describe('AlertService', () => {
  it('loads a group record written before receivedAt, chain and externalURL existed, and escalates it as before', async () => {
    const s = setup();
    s.at(T0 + 60 * SECOND_MS);
    await s.service.ingest(notification([firing('a', T0)]));
    const path = join(s.dir, `${ID}.json`);
    const record = JSON.parse(readFileSync(path, 'utf8'));
    expect(record.state.receivedAt).toBe(T0 + 60 * SECOND_MS);
    expect(record.state.chain).toHaveLength(2);
    // As an older version wrote it.
    delete record.state.receivedAt;
    delete record.state.chain;
    delete record.state.externalURL;
    writeFileSync(path, JSON.stringify(record));
    const older = setup(s.dir);
    await older.store.load();
    expect(older.store.get(ID)?.state.openedAt).toBe(T0);
    // Counted from openedAt and along the configured tiers, as that version did.
    older.at(T0 + 15 * 60 * SECOND_MS);
    expect(await older.service.escalate()).toBe(1);
    expect(older.calls).toEqual(['escalated:0']);
  });

  it('makes one Alertmanager silence when a shared store runs the change again after a conflict', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    // As the kubernetes store does on a 409: the change runs again on the record re-read.
    const update = s.store.update.bind(s.store);
    s.store.update = (id, change) =>
      update(id, async (current) => {
        await change(current);
        return change(current);
      });
    const result = await s.service.silence(ID, { id: 'U0OP' }, 3_600_000);
    expect(result.ok).toBe(true);
    expect(s.silences.created).toHaveLength(1);
    expect(s.store.get(ID)?.state.silence?.id).toBe('silence-1');
  });

  it('expires the silence once when a shared store runs the unsilence again after a conflict', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    await s.service.silence(ID, { id: 'U0OP' }, 3_600_000);
    // As Alertmanager: a silence expired already cannot be expired again (HTTP 500).
    const expire = s.silences.expire.bind(s.silences);
    s.silences.expire = async (silenceId) => {
      if (s.silences.expired.includes(silenceId)) throw new Error(`silence ${silenceId} already expired`);
      await expire(silenceId);
    };
    const update = s.store.update.bind(s.store);
    s.store.update = (id, change) =>
      update(id, async (current) => {
        await change(current);
        return change(current);
      });
    const result = await s.service.unsilence(ID, { id: 'U0OP' });
    expect(result.ok).toBe(true);
    expect(s.silences.expired).toEqual(['silence-1']);
    expect(s.store.get(ID)?.state.silence).toBeUndefined();
  });

  it('lets the person a tier paged acknowledge (wasPaged), nobody else', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    expect(s.service.wasPaged(ID, 'U0TEAMLEAD')).toBe(false);
    s.at(T0 + 15 * 60 * SECOND_MS);
    await s.service.escalate();
    expect(s.service.wasPaged(ID, 'U0TEAMLEAD')).toBe(true);
    expect(s.service.wasPaged(ID, 'U0ENGMGR')).toBe(false);
    expect(s.service.wasPaged('unknown', 'U0TEAMLEAD')).toBe(false);
  });

  it('records a group durably and queues its message; a resend changes nothing', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    await s.service.ingest(notification([firing('a', T0)]));
    expect(s.calls).toEqual(['changed:opened,alert-firing', 'changed:']);
    const reloaded = new FileGroupStore(s.dir);
    await reloaded.load();
    expect(reloaded.get(ID)?.state.status).toBe('firing');
  });

  it('fires each tier once, when due, and none after an acknowledgement', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    s.at(T0 + 14 * 60_000);
    expect(await s.service.escalate()).toBe(0);
    s.at(T0 + 15 * 60_000);
    expect(await s.service.escalate()).toBe(1);
    expect(await s.service.escalate()).toBe(0);
    s.at(T0 + 61 * 60_000);
    expect(await s.service.escalate()).toBe(1);
    expect(s.calls.filter((c) => c.startsWith('escalated'))).toEqual(['escalated:0', 'escalated:1']);

    const other = setup();
    await other.service.ingest(notification([firing('a', T0)]));
    expect((await other.service.acknowledge(ID, { id: 'U0OP' })).ok).toBe(true);
    expect((await other.service.acknowledge(ID, { id: 'U0OTHER' })).text).toBe(
      'Already acknowledged by <@U0OP>; escalation is stopped.',
    );
    other.at(T0 + 5 * 3_600_000);
    expect(await other.service.escalate()).toBe(0);
  });

  it('after a restart counts fencing keys found in the outbox journal as sent, so nothing repeats', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    const state = s.store.get(ID)!.state;
    // The crash came after the tier-1 jobs were journalled but before the record said so.
    const restarted = setup(s.dir);
    await restarted.store.load();
    await restarted.service.recover([escalationKey(state, 0), escalationKey({ ...state, openedAt: 1 }, 1)]);
    restarted.at(T0 + 16 * 60_000);
    expect(await restarted.service.escalate()).toBe(0);
    restarted.at(T0 + 61 * 60_000);
    expect(await restarted.service.escalate()).toBe(1);
    expect(restarted.calls).toEqual(['refresh', 'escalated:1']);
  });

  it('silences with the group labels as matchers and the clicker as createdBy; unsilence expires it', async () => {
    const s = setup();
    await s.service.ingest(notification([firing('a', T0)]));
    const result = await s.service.silence(ID, { id: 'U0OP', name: 'op' }, 3_600_000);
    expect(result).toEqual({ ok: true, text: 'Silenced for 1h (silence silence-1).' });
    expect(s.silences.created).toEqual([
      {
        matchers: [
          { name: 'alertname', value: 'MessagingSystemDown', isRegex: false, isEqual: true },
          { name: 'deployment', value: 'messaging-core', isRegex: false, isEqual: true },
        ],
        startsAt: new Date(T0),
        endsAt: new Date(T0 + 3_600_000),
        createdBy: 'op (U0OP)',
        comment: 'Silenced from Slack by U0OP for 1h (Switchyard)',
      },
    ]);
    // When it was made, too: the incident timeline places it.
    expect(s.store.get(ID)?.state.silence).toEqual({
      id: 'silence-1',
      by: 'U0OP',
      until: T0 + 3_600_000,
      at: T0,
    });
    expect((await s.service.unsilence(ID, { id: 'U0OP' })).ok).toBe(true);
    expect(s.silences.expired).toEqual(['silence-1']);
    expect(s.store.get(ID)?.state.silence).toBeUndefined();
  });

  it('refuses to act on an unknown or resolved group', async () => {
    const s = setup();
    expect((await s.service.acknowledge('nope', { id: 'U0OP' })).ok).toBe(false);
    await s.service.ingest(notification([resolved(firing('a', T0), T0 + 60_000)]));
    expect((await s.service.acknowledge(ID, { id: 'U0OP' })).text).toContain('already resolved');
  });

  it('forgets a resolved group past its retention (file and memory), never a firing one; it then opens anew', async () => {
    const DAY = 86_400_000;
    let held = true;
    const s = setup(undefined, { retentionMs: 7 * DAY, hold: () => held });
    const alert = firing('a', T0);
    await s.service.ingest(notification([alert]));
    const file = join(s.dir, `${ID}.json`);
    s.at(T0 + 30 * DAY);
    expect(await s.service.forgetExpired()).toBe(0); // firing: kept, however old
    await s.service.ingest(notification([resolved(alert, T0 + 30 * DAY)]));
    s.at(T0 + 37 * DAY - 1);
    expect(await s.service.forgetExpired()).toBe(0);
    s.at(T0 + 37 * DAY);
    expect(await s.service.forgetExpired()).toBe(0); // held (Slack posts still queued)
    held = false;
    expect(await s.service.forgetExpired()).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(s.store.get(ID)).toBeUndefined();
    const reloaded = new FileGroupStore(s.dir);
    await reloaded.load();
    expect(reloaded.all()).toEqual([]);

    // The same group key firing again is a new group: opened, not reopened.
    await s.service.ingest(notification([firing('a', T0 + 40 * DAY)]));
    expect(s.calls.at(-1)).toBe('changed:opened,alert-firing');
    expect(existsSync(file)).toBe(true);
  });

  it('does not forget a group that fired again while the sweep was deciding', async () => {
    const s = setup(undefined, { retentionMs: 1_000 });
    const alert = firing('a', T0);
    await s.service.ingest(notification([resolved(alert, T0)]));
    s.at(T0 + 5_000);
    // Someone holds the group's lock; a notification that reopens it queues first, then the sweep,
    // which has already picked the group as expired.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const busy = s.store.update(ID, async () => {
      await gate;
      return { result: undefined };
    });
    const reopening = s.service.ingest(notification([firing('a', T0 + 4_000)]));
    const sweeping = s.service.forgetExpired();
    release();
    await Promise.all([busy, reopening]);
    expect(await sweeping).toBe(0);
    expect(s.store.get(ID)?.state.status).toBe('firing');
  });

  it('forgets nothing without a retention', async () => {
    const s = setup();
    await s.service.ingest(notification([resolved(firing('a', T0), T0)]));
    s.at(T0 + 1_000 * 86_400_000);
    expect(await s.service.forgetExpired()).toBe(0);
  });

  it('uses the common labels for matchers when the group has none', () => {
    const state = { groupLabels: {}, commonLabels: { b: '2', a: '1' } } as never;
    expect(matchersOf(state).map((m) => m.name)).toEqual(['a', 'b']);
  });
});
