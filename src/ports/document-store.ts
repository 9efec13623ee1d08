/** One JSON document, read and replaced as a whole; updates are serialised. */
export interface DocumentStore<T> {
  read(): Promise<T>;
  update<R>(change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>): Promise<R>;
}

/** A document store that tells listeners after each write it made (the App Home re-renders). */
export interface ObservableDocumentStore<T> extends DocumentStore<T> {
  /** `listener` runs (synchronously, must not throw) after every write of the document. */
  onChange(listener: (document: T) => void): void;
}
