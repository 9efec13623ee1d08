import type { DocumentStore } from '../../../src/ports/document-store.js';

/** A DocumentStore in memory, updates serialised as the file store's are. */
export class MemoryDocument<T> implements DocumentStore<T> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(public value: T) {}

  async read(): Promise<T> {
    return structuredClone(this.value);
  }

  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R> {
    const run = this.queue.then(async () => {
      const { next, result } = await change(structuredClone(this.value));
      this.value = next;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
