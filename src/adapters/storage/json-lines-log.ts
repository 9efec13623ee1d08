import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * An append-only file of JSON lines. Appends are fsynced before they return. A line torn by a
 * crash mid-write is cut off when the log is opened, so the next append starts on a clean line.
 */
export class JsonLinesLog<T> {
  private repaired = false;

  constructor(readonly path: string) {}

  async append(records: readonly T[]): Promise<void> {
    if (records.length === 0) return;
    await this.repairTornTail();
    const handle = await open(this.path, 'a', 0o600);
    try {
      await handle.appendFile(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async readAll(): Promise<T[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  private async repairTornTail(): Promise<void> {
    if (this.repaired) return;
    await mkdir(dirname(this.path), { recursive: true });
    try {
      const text = await readFile(this.path, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) {
        await truncate(this.path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.repaired = true;
  }
}
