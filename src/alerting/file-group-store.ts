import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex } from 'async-mutex';
import { readJsonFile, writeFileAtomic } from '../adapters/storage/atomic-file.js';
import type { Change, GroupRecord, GroupStore } from './group-record.js';

/** One JSON file per alert group under `dir`, replaced atomically: a storm of groups writes in parallel. */
export class FileGroupStore implements GroupStore {
  private readonly records = new Map<string, GroupRecord>();
  private readonly locks = new Map<string, Mutex>();

  constructor(private readonly dir: string) {}

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const record = await readJsonFile<GroupRecord>(join(this.dir, name));
      if (record) this.records.set(record.id, record);
    }
  }

  get(id: string): GroupRecord | undefined {
    return this.records.get(id);
  }

  all(): GroupRecord[] {
    return [...this.records.values()];
  }

  update<R>(
    id: string,
    change: (current: GroupRecord | undefined) => Change<R> | Promise<Change<R>>,
  ): Promise<R> {
    let lock = this.locks.get(id);
    if (!lock) {
      lock = new Mutex();
      this.locks.set(id, lock);
    }
    return lock.runExclusive(async () => {
      const { next, result, after } = await change(this.records.get(id));
      if (next && next !== this.records.get(id)) {
        await writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify(next));
        this.records.set(id, next);
      }
      const saved = this.records.get(id);
      if (after && saved) await after(saved);
      return result;
    });
  }
}
