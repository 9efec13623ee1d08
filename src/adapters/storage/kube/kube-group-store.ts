import { Mutex } from 'async-mutex';
import type { Logger } from '../../../logger.js';
import {
  type Change,
  type GroupRecord,
  groupRecordSchema,
  type ObservableGroupStore,
} from '../../../ports/alert-groups.js';
import { conflictBackoff, StateConflict } from '../../../ports/state-conflict.js';
import { firstIssue } from '../state-schemas.js';
import { StorageError } from '../storage-error.js';
import { olderVersion } from './resource-version.js';
import type { KubeStateObjects, StateEvent, StateObject } from './state-objects.js';

export const GROUP_KIND = 'group';
export const GROUP_PREFIX = 'switchyard-group-';
export const STATUS_LABEL = 'switchyard.io/status';
const GROUP_KEY = 'group.json';
const MAX_CONFLICT_RETRIES = 20;
const RETRY_MS = 1000;

/**
 * One ConfigMap per alert group (`switchyard-group-<id>`, label `switchyard.io/status`), shared by
 * every replica. Writes are read-change-write on the server's current record with its
 * resourceVersion (a conflict runs `change` again on the newer record), one at a time per group in
 * this replica. The synchronous reads come from a cache kept by list and watch, and by this
 * replica's own writes at once; a resourceVersion per group keeps a late event from taking it back.
 */
export class KubeGroupStore implements ObservableGroupStore {
  private readonly records = new Map<string, GroupRecord>();
  private readonly firingIds = new Set<string>();
  /** Per group: the resourceVersion the cache reflects (also of a deletion, so an older event is ignored). */
  private readonly versions = new Map<string, string>();
  private readonly locks = new Map<string, { mutex: Mutex; users: number }>();
  private readonly listeners: Array<() => void> = [];
  /** Bumped by every (re)list: events of an older watch are ignored. */
  private generation = 0;
  private stopWatch: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly objects: KubeStateObjects,
    private readonly log: Logger,
  ) {}

  /** Lists every group, then follows changes; resolves once the first list is in. */
  async load(): Promise<void> {
    this.stopped = false;
    await this.follow();
  }

  /** A full re-list (the leader calls it when it takes over), then the watch starts again from it. */
  async resync(): Promise<void> {
    this.stopped = false;
    await this.follow();
  }

  /** Ends the watch. */
  stop(): void {
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.retry);
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  get(id: string): GroupRecord | undefined {
    return this.records.get(id);
  }

  /** Reads one group from the API server into the cache: another replica may have written it just now. */
  async refresh(id: string): Promise<GroupRecord | undefined> {
    const object = await this.objects.get(GROUP_PREFIX + id);
    const current = object && this.decode(object);
    if (object && current) this.cache(current, object.resourceVersion);
    return current ?? undefined;
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

  update<R>(
    id: string,
    change: (current: GroupRecord | undefined) => Change<R> | Promise<Change<R>>,
  ): Promise<R> {
    const name = GROUP_PREFIX + id;
    return this.alone(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const object = await this.objects.get(name);
        const current = object && this.decode(object);
        if (object && current) this.cache(current, object.resourceVersion);
        // Another replica's `change` may have queued work too; what it queued is idempotent by job id.
        const { next, result, after } = await change(current);
        if (!next || next === current) {
          if (after && current) await after(current);
          return result;
        }
        let saved: StateObject;
        try {
          const data = { [GROUP_KEY]: JSON.stringify(next) };
          const labels = { [STATUS_LABEL]: next.state.status };
          saved = object
            ? await this.objects.replace(object, GROUP_KIND, data, labels)
            : await this.objects.create(name, GROUP_KIND, data, labels);
        } catch (error) {
          if (error instanceof StateConflict && attempt < MAX_CONFLICT_RETRIES) {
            await conflictBackoff(attempt);
            continue;
          }
          throw error instanceof StorageError ? error : new StorageError('Recording the alert group', error);
        }
        this.cache(next, saved.resourceVersion);
        this.changed();
        if (after) await after(next);
        return result;
      }
    });
  }

  forget(id: string, when: (current: GroupRecord) => boolean): Promise<boolean> {
    const name = GROUP_PREFIX + id;
    return this.alone(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const object = await this.objects.get(name);
        const current = object && this.decode(object);
        if (!object || !current) {
          if (!object) this.uncache(id);
          return false;
        }
        this.cache(current, object.resourceVersion);
        if (!when(current)) return false;
        try {
          // Only as read: a notification another replica recorded meanwhile makes this a conflict.
          await this.objects.delete(name, object.resourceVersion);
        } catch (error) {
          if (error instanceof StateConflict && attempt < MAX_CONFLICT_RETRIES) {
            await conflictBackoff(attempt);
            continue;
          }
          throw error;
        }
        this.uncache(id, object.resourceVersion);
        this.changed();
        return true;
      }
    });
  }

  private async follow(): Promise<void> {
    const generation = ++this.generation;
    clearTimeout(this.retry);
    this.stopWatch?.();
    this.stopWatch = undefined;
    const { items, resourceVersion } = await this.objects.listVersioned(GROUP_KIND);
    if (generation !== this.generation) return;
    this.applyList(items, resourceVersion);
    await this.watchFrom(generation, resourceVersion);
  }

  private async watchFrom(generation: number, from: string): Promise<void> {
    let last = from;
    try {
      const stop = await this.objects.watch(
        GROUP_KIND,
        from,
        (event) => {
          if (generation !== this.generation) return;
          last = event.object.resourceVersion || last;
          this.applyEvent(event);
        },
        (error) => {
          if (generation !== this.generation || this.stopped) return;
          if (error === undefined) {
            void this.watchFrom(generation, last);
            return;
          }
          // Possibly 410 Gone (the server's history no longer reaches back): list again.
          this.log.warn({ err: error }, 'alert group watch ended: listing the groups again');
          this.relistLater();
        },
      );
      if (generation !== this.generation) stop();
      else this.stopWatch = stop;
    } catch (error) {
      if (generation !== this.generation || this.stopped) return;
      this.log.warn({ err: error }, 'alert group watch could not start: listing the groups again');
      this.relistLater();
    }
  }

  private relistLater(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.stopped) return;
      this.follow().catch((error: unknown) => {
        this.log.warn({ err: error }, 'alert groups could not be listed; trying again');
        this.relistLater();
      });
    }, RETRY_MS);
    this.retry.unref();
  }

  private applyList(items: StateObject[], listVersion: string): void {
    const listed = new Set<string>();
    for (const object of items) {
      const record = this.decode(object);
      if (!record) continue;
      listed.add(record.id);
      this.cache(record, object.resourceVersion);
    }
    for (const [id, version] of [...this.versions]) {
      if (listed.has(id)) continue;
      // Gone from the list: drop it, unless this replica wrote it after the list was taken.
      if (!olderVersion(listVersion, version)) {
        this.records.delete(id);
        this.firingIds.delete(id);
        this.versions.delete(id);
      }
    }
    this.changed();
  }

  private applyEvent(event: StateEvent): void {
    const id = event.object.name.slice(GROUP_PREFIX.length);
    if (event.type === 'DELETED') {
      if (this.uncache(id, event.object.resourceVersion)) this.changed();
      return;
    }
    const record = this.decode(event.object);
    if (record && this.cache(record, event.object.resourceVersion)) this.changed();
  }

  /** Takes `record` at `version` unless the cache is newer already; true when it did. */
  private cache(record: GroupRecord, version: string): boolean {
    const known = this.versions.get(record.id);
    if (known !== undefined && !olderVersion(known, version) && known !== version) return false;
    this.versions.set(record.id, version);
    this.records.set(record.id, record);
    if (record.state.status === 'firing') this.firingIds.add(record.id);
    else this.firingIds.delete(record.id);
    return true;
  }

  /** Drops the group (deleted at `version`, when known) unless the cache holds a newer write. */
  private uncache(id: string, version?: string): boolean {
    const known = this.versions.get(id);
    if (version !== undefined && known !== undefined && olderVersion(version, known)) return false;
    const had = this.records.delete(id);
    this.firingIds.delete(id);
    if (version !== undefined) this.versions.set(id, version);
    else this.versions.delete(id);
    return had;
  }

  private decode(object: StateObject): GroupRecord | undefined {
    const reject = (reason: string) => {
      this.log.error(
        { object: object.name, reason },
        'an alert group in the cluster is damaged: left out (its next notification opens it again)',
      );
      return undefined;
    };
    const text = object.data[GROUP_KEY];
    if (text === undefined) return reject(`no ${GROUP_KEY}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return reject(`not JSON (${(error as Error).message.slice(0, 80)})`);
    }
    const parsed = groupRecordSchema.safeParse(value);
    if (!parsed.success) return reject(`not an alert group (${firstIssue(parsed.error)})`);
    if (GROUP_PREFIX + parsed.data.id !== object.name) {
      return reject(`its id ${parsed.data.id} does not match its name`);
    }
    return parsed.data;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
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
