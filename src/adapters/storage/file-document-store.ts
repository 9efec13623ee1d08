import { Mutex } from 'async-mutex';
import type { z } from 'zod';
import type { DocumentStore } from '../../ports/document-store.js';
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
export class FileDocumentStore<T> implements DocumentStore<T> {
  private readonly mutex = new Mutex();
  private cached: T | undefined;
  /** Told after each write (the App Home shows phase requests and runbook runs). */
  private readonly listeners: Array<(document: T) => void> = [];

  constructor(
    private readonly path: string,
    private readonly initial: () => T,
    private readonly validation?: DocumentValidation,
  ) {}

  /** `listener` runs (synchronously, must not throw) after every update that wrote the document. */
  onChange(listener: (document: T) => void): void {
    this.listeners.push(listener);
  }

  async read(): Promise<T> {
    if (this.cached === undefined) this.cached = (await this.load()) ?? this.initial();
    return this.cached;
  }

  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R> {
    return this.mutex.runExclusive(async () => {
      const { next, result } = await change(await this.read());
      if (next !== this.cached) {
        try {
          await writeFileAtomic(this.path, JSON.stringify(next));
        } catch (error) {
          throw new StorageError(`Saving ${this.validation?.what ?? this.path}`, error);
        }
        this.cached = next;
        for (const listener of this.listeners) listener(next);
      }
      return result;
    });
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
