import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareFileAtomic } from '../../../src/adapters/storage/atomic-file.js';
import { JsonLinesLog } from '../../../src/adapters/storage/json-lines-log.js';
import { tempDir } from '../../support/bot.js';

describe('JsonLinesLog', () => {
  it('cuts a torn tail before every append, not only the first one of the process', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const log = new JsonLinesLog<{ n: number }>(path);
    await log.append([{ n: 1 }]);
    appendFileSync(path, '{"n":2,"hal');
    await log.append([{ n: 3 }]);
    // A second torn line in the same process (another failed write): repaired again.
    appendFileSync(path, '{"n":4');
    await log.append([{ n: 5 }]);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":3}\n{"n":5}\n');
  });

  it('takes an append back with undo, leaving the file as it was', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const log = new JsonLinesLog<{ n: number }>(path);
    await log.append([{ n: 1 }]);
    const appended = await log.append([{ n: 2 }, { n: 3 }]);
    await appended.undo();
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n');
  });

  it('reads past a garbage line in the middle, naming its line and reason', async () => {
    const path = join(tempDir(), 'log.jsonl');
    writeFileSync(path, '{"n":1}\nnot json at all\n{"x":true}\n{"n":4}\n{"n":5');
    const log = new JsonLinesLog<{ n: number }>(path, (value) =>
      typeof (value as { n?: unknown }).n === 'number'
        ? { ok: true, record: value as { n: number } }
        : { ok: false, reason: 'no n' },
    );
    const reading = await log.read();
    expect(reading.records).toEqual([{ n: 1 }, { n: 4 }]);
    expect(reading.damaged).toEqual([
      { line: 2, reason: expect.stringContaining('not JSON') },
      { line: 3, reason: 'no n' },
    ]);
    expect(reading.tornTail).toBe(true);
  });
});

describe('prepareFileAtomic', () => {
  it('leaves no temp file when the write fails, and none after discard', async () => {
    const dir = tempDir();
    // A directory where the target's parent should be: the temp file cannot be created.
    writeFileSync(join(dir, 'blocker'), '');
    await expect(prepareFileAtomic(join(dir, 'blocker', 'state.json'), '{}')).rejects.toThrow();
    const prepared = await prepareFileAtomic(join(dir, 'state.json'), '{}');
    expect(readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(true);
    await prepared.discard();
    expect(readdirSync(dir)).toEqual(['blocker']);
  });
});
