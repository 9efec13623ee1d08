import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDocumentStore } from '../../../src/adapters/storage/file-document-store.js';
import { pendingActionsSchema, runbookRunsSchema } from '../../../src/adapters/storage/state-schemas.js';
import { Confirmations, type PendingActions } from '../../../src/services/confirmations.js';

function confirmationsIn(dir = mkdtempSync(join(tmpdir(), 'confirmations-'))) {
  const path = join(dir, 'confirmations.json');
  return { path, confirmations: new Confirmations(new FileDocumentStore<PendingActions>(path, () => ({}))) };
}

describe('Confirmations', () => {
  it('answers unknown to forged ids and writes nothing', async () => {
    const { path, confirmations } = confirmationsIn();
    const pending = await confirmations.create('/flags', 'disable-all', { reason: 'x' }, 'U1');
    const before = readFileSync(path, 'utf8');
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty', '', pending.id.toUpperCase()]) {
      expect(await confirmations.claim(id, 'U2', 'cancelled')).toEqual({ status: 'unknown' });
      expect(await confirmations.peek(id)).toBeUndefined();
    }
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect((await confirmations.claim(pending.id, 'U2')).status).toBe('claimed');
  });

  it('ignores junk keys a file may hold (an older version wrote them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confirmations-'));
    writeFileSync(join(dir, 'confirmations.json'), '{"__proto__": {"settled": true}, "junk": 1}');
    const { confirmations } = confirmationsIn(dir);
    expect(await confirmations.peek('__proto__')).toBeUndefined();
    const pending = await confirmations.create('/flags', 'disable-all', {}, 'U1');
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'confirmations.json'), 'utf8')))).toEqual([
      pending.id,
    ]);
  });

  it('is not ready while its file cannot be read, and ready again once it can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confirmations-'));
    mkdirSync(join(dir, 'confirmations.json'));
    const { confirmations } = confirmationsIn(dir);
    await expect(confirmations.create('/flags', 'disable-all', {}, 'U1')).rejects.toThrow(/EISDIR/);
    await expect(confirmations.checkReady()).rejects.toThrow(/EISDIR/);
    rmSync(join(dir, 'confirmations.json'), { recursive: true });
    await confirmations.checkReady();
    await confirmations.create('/flags', 'disable-all', {}, 'U1');
  });

  it('after a failed write stays not ready until a write works again (readiness probes one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confirmations-'));
    const { confirmations } = confirmationsIn(dir);
    await confirmations.create('/flags', 'disable-all', {}, 'U1');
    // The next write's rename fails: the target is now a non-empty directory.
    rmSync(join(dir, 'confirmations.json'));
    mkdirSync(join(dir, 'confirmations.json', 'blocker'), { recursive: true });
    await expect(confirmations.create('/flags', 'disable-all', {}, 'U1')).rejects.toThrow();
    await expect(confirmations.checkReady()).rejects.toThrow(/confirmations: /);
    rmSync(join(dir, 'confirmations.json'), { recursive: true });
    await confirmations.checkReady();
  });
});

describe('the opener hook', () => {
  it('records the opener and tells its listener how the confirmation ended; others are not told', async () => {
    const { path, confirmations } = confirmationsIn();
    const heard: Array<[string, string, string]> = [];
    confirmations.onSettled('runbook-step', async (opener, outcome, action) => {
      heard.push([opener.ref, outcome.kind, action.id]);
    });
    const opened = await confirmations.create('/rollback', 'deployment', {}, 'U1', {
      kind: 'runbook-step',
      ref: 'run1:2:abcdef01',
    });
    const plain = await confirmations.create('/flags', 'disable-all', {}, 'U1');
    expect(JSON.parse(readFileSync(path, 'utf8'))[opened.id].opener).toEqual({
      kind: 'runbook-step',
      ref: 'run1:2:abcdef01',
    });
    await confirmations.report(opened, { kind: 'cancelled', by: 'U2', at: 1 });
    await confirmations.report(plain, { kind: 'executed', by: 'U2', at: 2, text: 'ok' });
    // A kind nobody listens to is not an error.
    await confirmations.report(
      { ...opened, opener: { kind: 'nobody', ref: 'x' } },
      { kind: 'expired', at: 3 },
    );
    expect(heard).toEqual([['run1:2:abcdef01', 'cancelled', opened.id]]);
  });

  it('reads confirmations and runbook runs written before issue 10 (no opener, no new step fields)', () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const oldConfirmations = {
      [id]: {
        id,
        command: '/flags',
        subcommand: 'disable-all',
        args: { reason: 'x' },
        requestedBy: 'U1',
        requestedAt: 1,
        expiresAt: 2,
        settled: { by: 'U1', at: 1, how: 'confirmed' },
      },
    };
    expect(pendingActionsSchema.safeParse(oldConfirmations).success).toBe(true);
    const oldRuns = {
      r1: {
        run: {
          id: 'r1',
          runbook: 'high-latency',
          startedBy: 'U1',
          startedAt: '2026-01-01T00:00:00.000Z',
          steps: [
            { status: 'done', by: 'U1', at: '2026-01-01T00:00:00.000Z', note: 'opened' },
            { status: 'current' },
          ],
        },
        channel: 'C1',
        ts: '1.2',
        stepTs: ['1.3', '1.4'],
      },
    };
    expect(runbookRunsSchema.safeParse(oldRuns).success).toBe(true);
    // The new fields are checked where present: a damaged one is not taken for a good run.
    const damaged = structuredClone(oldRuns) as unknown as {
      r1: { run: { steps: Array<Record<string, unknown>> } };
    };
    damaged.r1.run.steps[1]!.awaiting = 'soon';
    expect(runbookRunsSchema.safeParse(damaged).success).toBe(false);
  });
});
