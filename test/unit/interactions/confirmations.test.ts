import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDocumentStore } from '../../../src/adapters/storage/file-document-store.js';
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
