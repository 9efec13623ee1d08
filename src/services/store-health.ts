import type { DocumentStore } from '../ports/document-store.js';

/**
 * Remembers the last failure of a document store, for `/readyz`. A read failure clears when a read
 * works again; a write failure only when a write does, so readiness probes one itself.
 */
export class StoreHealth<T> {
  private failure: { kind: 'read' | 'write'; error: Error } | undefined;

  constructor(
    private readonly name: string,
    private readonly store: DocumentStore<T>,
  ) {}

  async watch<R>(work: Promise<R>, kind: 'read' | 'write'): Promise<R> {
    try {
      const result = await work;
      if (kind === 'write' || this.failure?.kind === 'read') this.failure = undefined;
      return result;
    } catch (error) {
      this.failure = { kind, error: error instanceof Error ? error : new Error(String(error)) };
      throw error;
    }
  }

  /** Throws while the store cannot be read, or cannot be written after a write failed. */
  async check(): Promise<void> {
    try {
      await this.watch(this.store.read(), 'read');
      if (this.failure?.kind === 'write') {
        await this.watch(
          this.store.update((current) => ({ next: structuredClone(current), result: undefined })),
          'write',
        );
      }
    } catch (error) {
      throw new Error(`${this.name}: ${(error as Error).message}`);
    }
  }
}
