/** Work that outlives the request that started it (replies after the ack, announcements). */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track = <T>(work: Promise<T>): Promise<T> => {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  };

  get size(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is tracked, including work that tracked work started meanwhile. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Resolves when everything tracked has settled, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 100))]);
    }
    return this.pending.size === 0;
  }
}
