import { Mutex } from 'async-mutex';
import type { DocumentStore } from '../../ports/document-store.js';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';

/** A JSON document in one file, replaced atomically on every update. */
export class FileDocumentStore<T> implements DocumentStore<T> {
  private readonly mutex = new Mutex();
  private cached: T | undefined;

  constructor(
    private readonly path: string,
    private readonly initial: () => T,
  ) {}

  async read(): Promise<T> {
    if (this.cached === undefined) this.cached = (await readJsonFile<T>(this.path)) ?? this.initial();
    return this.cached;
  }

  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R> {
    return this.mutex.runExclusive(async () => {
      const { next, result } = await change(await this.read());
      if (next !== this.cached) {
        await writeFileAtomic(this.path, JSON.stringify(next));
        this.cached = next;
      }
      return result;
    });
  }
}
