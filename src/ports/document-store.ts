/** One JSON document, read and replaced as a whole; updates are serialised. */
export interface DocumentStore<T> {
  read(): Promise<T>;
  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R>;
}
