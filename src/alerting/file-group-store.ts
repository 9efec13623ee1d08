import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex } from 'async-mutex';
import { readJsonFile, writeFileAtomic } from '../adapters/storage/atomic-file.js';
import type { Change, GroupRecord, GroupStore } from './group-record.js';

/** One JSON file per alert group under `dir`, replaced atomically: a storm of groups writes in parallel. */
export class FileGroupStore implements GroupStore {
  private readonly records = new Map<string, GroupRecord>();
  /** One lock per group while anyone uses it; dropped when the last user is done, so the map stays small. */
  private readonly locks = new Map<string, { mutex: Mutex; users: number }>();

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
    return this.alone(id, async () => {
      const { next, result, after } = await change(this.records.get(id));
      if (next && next !== this.records.get(id)) {
        await writeFileAtomic(this.pathOf(id), JSON.stringify(next));
        this.records.set(id, next);
      }
      const saved = this.records.get(id);
      if (after && saved) await after(saved);
      return result;
    });
  }

  forget(id: string, when: (current: GroupRecord) => boolean): Promise<boolean> {
    return this.alone(id, async () => {
      const current = this.records.get(id);
      if (!current || !when(current)) return false;
      try {
        await unlink(this.pathOf(id));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.records.delete(id);
      return true;
    });
  }

  private pathOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private async alone<R>(id: string, run: () => Promise<R>): Promise<R> {
    let lock = this.locks.get(id);
    if (!lock) {
      lock = { mutex: new Mutex(), users: 0 };
      this.locks.set(id, lock);
    }
    lock.users += 1;
    try {
      return await lock.mutex.runExclusive(run);
    } finally {
      lock.users -= 1;
      if (lock.users === 0) this.locks.delete(id);
    }
  }
}
