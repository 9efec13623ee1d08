import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as atomic from '../../../src/adapters/storage/atomic-file.js';
import { FileDocumentStore } from '../../../src/adapters/storage/file-document-store.js';

type Doc = { seen: string[] };
const dir = () => mkdtempSync(join(tmpdir(), 'switchyard-doc-'));
const add = (key: string) => (current: Doc) => ({ next: { seen: [...current.seen, key] }, result: key });

describe('FileDocumentStore group commit', () => {
  it('writes changes made during a write together, and each resolves once it is on disk', async () => {
    const path = join(dir(), 'doc.json');
    const store = new FileDocumentStore<Doc>(path, () => ({ seen: [] }));
    const writes = vi.spyOn(atomic, 'writeFileAtomic');
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const results = await Promise.all(
      keys.map((key) =>
        store.update(add(key)).then((result) => {
          // Resolved only once the change is in the file.
          expect(JSON.parse(readFileSync(path, 'utf8')).seen).toContain(result);
          return result;
        }),
      ),
    );
    expect(results).toEqual(keys);
    expect((await store.read()).seen).toEqual(keys);
    expect(JSON.parse(readFileSync(path, 'utf8')).seen).toEqual(keys);
    // The first change is written alone; the 49 made meanwhile in one or a few more writes.
    expect(writes.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(writes.mock.calls.length).toBeLessThan(10);
    writes.mockRestore();
  });

  it('fails every change not yet on disk when a write fails, and keeps what is on disk', async () => {
    const base = dir();
    const path = join(base, 'doc.json');
    const store = new FileDocumentStore<Doc>(path, () => ({ seen: [] }));
    await store.update(add('kept'));
    // The directory becomes a file: every later write fails.
    rmSync(base, { recursive: true });
    writeFileSync(base, 'not a directory');
    const outcomes = await Promise.allSettled([store.update(add('a')), store.update(add('b'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect((await store.read()).seen).toEqual(['kept']);
    // What comes next starts from what is on disk, not from the failed changes.
    rmSync(base);
    const next = await store.update((current) => ({ next: current, result: current.seen }));
    expect(next).toEqual(['kept']);
  });
});
