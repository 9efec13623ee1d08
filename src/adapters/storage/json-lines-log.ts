import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** Checks one parsed line: the record, or why it is not one. */
export type LineParser<T> = (value: unknown) => { ok: true; record: T } | { ok: false; reason: string };

export interface DamagedLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface LogReading<T> {
  records: T[];
  /** Complete lines that are not valid records (garbage in the middle of the file). */
  damaged: DamagedLine[];
  /** Bytes after the last newline: a write torn by a crash or a full disk (not a record). */
  tornTail: boolean;
}

/** An append that can be taken back (a later step of the same change failed). */
export interface Appended {
  undo(): Promise<void>;
}

const anyRecord = <T>(value: unknown) => ({ ok: true as const, record: value as T });

/**
 * An append-only file of JSON lines. Every append first cuts off a torn last line (a crash or a
 * full disk mid-write), then writes and fsyncs; when the write fails, the file is cut back to where
 * it was, so no half line is ever left for the next append to be glued onto.
 */
export class JsonLinesLog<T> {
  constructor(
    readonly path: string,
    private readonly parse: LineParser<T> = anyRecord,
  ) {}

  async append(records: readonly T[]): Promise<Appended> {
    if (records.length === 0) return { undo: async () => undefined };
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, 'a+', 0o600);
    try {
      const start = await cleanEnd(handle);
      try {
        await handle.appendFile(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
        await handle.sync();
      } catch (error) {
        // Shrinking needs no space, so this works on a full disk too.
        await handle.truncate(start).catch(() => undefined);
        throw error;
      }
      return {
        undo: async () => {
          const again = await open(this.path, 'r+');
          try {
            await again.truncate(start);
            await again.sync();
          } finally {
            await again.close();
          }
        },
      };
    } finally {
      await handle.close();
    }
  }

  async read(): Promise<LogReading<T>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { records: [], damaged: [], tornTail: false };
      throw error;
    }
    const end = text.lastIndexOf('\n') + 1;
    const records: T[] = [];
    const damaged: DamagedLine[] = [];
    text
      .slice(0, end)
      .split('\n')
      .forEach((line, index) => {
        if (line.trim().length === 0) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          damaged.push({ line: index + 1, reason: `not JSON (${(error as Error).message.slice(0, 80)})` });
          return;
        }
        const parsed = this.parse(value);
        if (parsed.ok) records.push(parsed.record);
        else damaged.push({ line: index + 1, reason: parsed.reason });
      });
    return { records, damaged, tornTail: end < text.length };
  }

  async readAll(): Promise<T[]> {
    return (await this.read()).records;
  }

  /** Replaces the whole file atomically (compaction, or dropping damaged lines). */
  async rewrite(records: readonly T[]): Promise<void> {
    await writeFileAtomic(this.path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  }
}

/** Cuts a torn last line off; returns the size of the file after that (where the next line starts). */
async function cleanEnd(handle: FileHandle): Promise<number> {
  const { size } = await handle.stat();
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size; // the usual case: one byte read per append
  const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
  let position = size;
  while (position > 0) {
    const length = Math.min(chunk.length, position);
    position -= length;
    await handle.read(chunk, 0, length, position);
    const newline = chunk.subarray(0, length).lastIndexOf(0x0a);
    if (newline >= 0) {
      const clean = position + newline + 1;
      if (clean < size) await handle.truncate(clean);
      return clean;
    }
  }
  await handle.truncate(0);
  return 0;
}
