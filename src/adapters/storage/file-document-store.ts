import { Mutex } from 'async-mutex';
import type { z } from 'zod';
import type { ObservableDocumentStore } from '../../ports/document-store.js';
import { readTextFile, removeStaleTemps, writeFileAtomic } from './atomic-file.js';
import type { Quarantine } from './quarantine.js';
import { firstIssue } from './state-schemas.js';
import { StorageError } from './storage-error.js';

export interface DocumentValidation {
  schema: z.ZodType;
  quarantine: Quarantine;
  /** What the document holds, for the notice ("pending confirmations"). */
  what: string;
}

/**
 * A JSON document in one file, replaced atomically on every update. With `validation`, a file that is
 * not valid JSON or does not match the schema is moved to quarantine and the store starts empty.
 */
export class FileDocumentStore<T> implements ObservableDocumentStore<T> {
  private readonly mutex = new Mutex();
  /** What is on disk. */
  private durable: T | undefined;
  /** `durable` with the changes being written: what the next change starts from. */
  private working: T | undefined;
  /** Changes made since the write in progress began: they go to disk together, in the next write. */
  private batch: Array<{ resolve: () => void; reject: (error: unknown) => void }> | undefined;
  private flushing = false;
  /** Told after each write (the App Home shows phase requests and runbook runs). */
  private readonly listeners: Array<(document: T) => void> = [];

  constructor(
    private readonly path: string,
    private readonly initial: () => T,
    private readonly validation?: DocumentValidation,
  ) {}

  /** `listener` runs (synchronously, must not throw) after every write of the document. */
  onChange(listener: (document: T) => void): void {
    this.listeners.push(listener);
  }

  /** The document as it is on disk. */
  async read(): Promise<T> {
    if (this.durable === undefined) {
      this.durable = (await this.load()) ?? this.initial();
      this.working = this.durable;
    }
    return this.durable;
  }

  /**
   * Changes are made one at a time, each on the result of the one before; each resolves once its
   * change is on disk. Changes made while a write is in progress are written together by the next
   * one (group commit: one fsync for all of them, so a burst of slash commands waits for two writes
   * rather than one each). A write that fails fails every change not on disk yet, and the document
   * is as it was on disk.
   */
  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R> {
    let durable: Promise<void> = Promise.resolve();
    return this.mutex
      .runExclusive(async () => {
        await this.read();
        const current = this.working as T;
        const { next, result } = await change(current);
        if (next !== current) {
          this.working = next;
          durable = this.commit();
        }
        return result;
      })
      .then(async (result) => {
        await durable;
        return result;
      });
  }

  private commit(): Promise<void> {
    if (!this.batch) this.batch = [];
    const batch = this.batch;
    const written = new Promise<void>((resolve, reject) => batch.push({ resolve, reject }));
    if (!this.flushing) void this.flush();
    return written;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.batch) {
      const batch = this.batch;
      this.batch = undefined;
      const value = this.working as T;
      try {
        await writeFileAtomic(this.path, JSON.stringify(value));
      } catch (error) {
        const failure = new StorageError(`Saving ${this.validation?.what ?? this.path}`, error);
        // Taken alone: changes already running finish first (they build on what failed, so they fail too).
        await this.mutex.runExclusive(() => {
          this.working = this.durable;
          const later = this.batch ?? [];
          this.batch = undefined;
          for (const waiter of [...batch, ...later]) waiter.reject(failure);
        });
        continue;
      }
      this.durable = value;
      for (const waiter of batch) waiter.resolve();
      for (const listener of this.listeners) listener(value);
    }
    this.flushing = false;
  }

  private async load(): Promise<T | undefined> {
    await removeStaleTemps(this.path);
    const text = await readTextFile(this.path);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.reject(`not JSON (${(error as Error).message.slice(0, 80)})`, error);
    }
    if (!this.validation) return value as T;
    const parsed = this.validation.schema.safeParse(value);
    if (!parsed.success) return this.reject(`not valid (${firstIssue(parsed.error)})`, parsed.error);
    return value as T;
  }

  private async reject(reason: string, error: unknown): Promise<undefined> {
    if (!this.validation) throw error;
    await this.validation.quarantine.moveFile(
      this.path,
      reason,
      `started with no ${this.validation.what}; what it held is not used`,
    );
    return undefined;
  }
}
