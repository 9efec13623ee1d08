import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex } from 'async-mutex';
import {
  type Change,
  type GroupRecord,
  groupRecordSchema,
  type ObservableGroupStore,
} from '../../ports/alert-groups.js';
import { writeFileAtomic } from './atomic-file.js';
import type { Quarantine } from './quarantine.js';
import { firstIssue } from './state-schemas.js';
import { StorageError } from './storage-error.js';

const TEMP = /\.json\.\d+\.[0-9a-f]+\.tmp$/;

/** One JSON file per alert group under `dir`, replaced atomically: a storm of groups writes in parallel. */
export class FileGroupStore implements ObservableGroupStore {
  private readonly records = new Map<string, GroupRecord>();
  /** Ids of the firing groups: what a webhook, a tick or the Home needs, without a scan of all kept. */
  private readonly firingIds = new Set<string>();
  /** One lock per group while anyone uses it; dropped when the last user is done, so the map stays small. */
  private readonly locks = new Map<string, { mutex: Mutex; users: number }>();
  /** Told after a group was written or forgotten (the App Home shows open groups). */
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    /** Where a damaged group file goes; without one, a damaged file stops the load. */
    private readonly quarantine?: Quarantine,
  ) {}

  /** Reads every group file; one that is damaged is quarantined and the others load as usual. */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if (TEMP.test(name)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const loaded = await readGroupFile(path, name);
      if (loaded.ok) {
        this.remember(loaded.record);
      } else if (this.quarantine) {
        await this.quarantine.moveFile(
          path,
          loaded.reason,
          'that alert group is forgotten (its next notification opens it again)',
        );
      } else {
        throw new Error(`alert group file ${path}: ${loaded.reason}`);
      }
    }
  }

  /** `listener` runs (synchronously, must not throw) after every write or deletion of a group. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  get(id: string): GroupRecord | undefined {
    return this.records.get(id);
  }

  all(): GroupRecord[] {
    return [...this.records.values()];
  }

  firing(): GroupRecord[] {
    return [...this.firingIds].map((id) => this.records.get(id)!);
  }

  get firingCount(): number {
    return this.firingIds.size;
  }

  private remember(record: GroupRecord): void {
    this.records.set(record.id, record);
    if (record.state.status === 'firing') this.firingIds.add(record.id);
    else this.firingIds.delete(record.id);
  }

  private drop(id: string): void {
    this.records.delete(id);
    this.firingIds.delete(id);
  }

  update<R>(
    id: string,
    change: (current: GroupRecord | undefined) => Change<R> | Promise<Change<R>>,
  ): Promise<R> {
    return this.alone(id, async () => {
      const current = this.records.get(id);
      const { next, result, after } = await change(current);
      if (!next || next === current) {
        if (after && current) await after(current);
        return result;
      }
      let early: Promise<void> | undefined;
      try {
        await writeFileAtomic(this.pathOf(id), JSON.stringify(next), () => {
          // Written (a full disk has failed by now); only the fsyncs are left. What the change sends
          // (a new group's message) starts now, alongside them. Should the process die before they
          // end, Alertmanager resends (no 200 yet) and the outbox's lookup after an unclean start
          // finds the message instead of posting it again.
          this.remember(next);
          early = after?.(next);
        });
      } catch (error) {
        if (this.records.get(id) === next) {
          if (current) this.remember(current);
          else this.drop(id);
        }
        await (early as Promise<void> | undefined)?.catch(() => undefined);
        throw new StorageError('Recording the alert group', error);
      }
      this.changed();
      await early;
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
      this.drop(id);
      this.changed();
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

async function readGroupFile(
  path: string,
  name: string,
): Promise<{ ok: true; record: GroupRecord } | { ok: false; reason: string }> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message.slice(0, 80)})` };
  }
  const parsed = groupRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `not an alert group (${firstIssue(parsed.error)})` };
  if (`${parsed.data.id}.json` !== name)
    return { ok: false, reason: `its id ${parsed.data.id} does not match its name` };
  return { ok: true, record: parsed.data };
}
