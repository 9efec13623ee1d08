import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDocumentStore } from '../../../src/adapters/storage/file-document-store.js';
import {
  REPLAY_KEEP_MS,
  ReplayGuard,
  type ReplayRecords,
  replayKeys,
} from '../../../src/interactions/replay-guard.js';

function fileStore(dir = mkdtempSync(join(tmpdir(), 'replay-'))) {
  const path = join(dir, 'slack-replays.json');
  return { path, store: () => new FileDocumentStore<ReplayRecords>(path, () => ({ seen: [] })) };
}

describe('ReplayGuard', () => {
  it('accepts a request once, refuses any of its keys again, across a restart, until the window has passed', async () => {
    let now = 1_000_000;
    const { store } = fileStore();
    const guard = new ReplayGuard(store(), () => now);
    expect(await guard.accept(['signature:v0=a', 'trigger:1'])).toEqual({ first: true });
    now += 10_000;
    expect(await guard.accept(['signature:v0=a'])).toEqual({ first: false, key: 'signature:v0=a' });
    // A Slack retry: a new signature (new timestamp), the same trigger_id.
    expect(await guard.accept(['signature:v0=b', 'trigger:1'])).toEqual({ first: false, key: 'trigger:1' });

    const restarted = new ReplayGuard(store(), () => now);
    expect((await restarted.accept(['signature:v0=a'])).first).toBe(false);
    now += REPLAY_KEEP_MS;
    expect((await restarted.accept(['signature:v0=a'])).first).toBe(true);
  });

  it('prunes records past the window and stays within its bound', async () => {
    let now = 0;
    const { path, store } = fileStore();
    const guard = new ReplayGuard(store(), () => now, 50);
    for (let index = 0; index < 40; index++) await guard.accept([`trigger:${index}`]);
    now += REPLAY_KEEP_MS;
    await guard.accept(['trigger:late']);
    expect((JSON.parse(readFileSync(path, 'utf8')) as ReplayRecords).seen).toEqual([['trigger:late', now]]);
    for (let index = 0; index < 60; index++) await guard.accept([`flood:${index}`]);
    expect((JSON.parse(readFileSync(path, 'utf8')) as ReplayRecords).seen).toHaveLength(50);
    expect(guard.dropped).toBeGreaterThan(0);
  });

  it('keys by prototype names without touching a prototype', async () => {
    const guard = new ReplayGuard(fileStore().store(), () => 0);
    expect((await guard.accept(['__proto__', 'constructor'])).first).toBe(true);
    expect((await guard.accept(['__proto__'])).first).toBe(false);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('replayKeys', () => {
  it('names a request by its signature, trigger_id, action_ts and event_id', () => {
    expect(
      replayKeys('v0=abc', {
        trigger_id: '123.456',
        user: { id: 'U1' },
        actions: [{ action_id: 'x', action_ts: '1700000000.000001' }],
      }),
    ).toEqual(['signature:v0=abc', 'trigger:123.456', 'action:U1:1700000000.000001']);
    expect(replayKeys(undefined, { event_id: 'Ev1', event: { type: 'reaction_added' } })).toEqual([
      'event:Ev1',
    ]);
  });
});
