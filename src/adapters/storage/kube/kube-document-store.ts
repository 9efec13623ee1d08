import { Mutex } from 'async-mutex';
import type { z } from 'zod';
import type { Logger } from '../../../logger.js';
import type { ObservableDocumentStore } from '../../../ports/document-store.js';
import { firstIssue } from '../state-schemas.js';
import type { KubeStateObjects, StateObject } from './state-objects.js';

export const DOCUMENT_KIND = 'document';
const DOCUMENT_KEY = 'document.json';

export interface KubeDocumentValidation {
  schema: z.ZodType;
  /** What the document holds, for the log ("pending confirmations"). */
  what: string;
}

/**
 * One JSON document in one ConfigMap (`switchyard-doc-<name>`, key `document.json`), shared by every
 * replica: each read is a fresh GET (another replica may have written since), each update a
 * read-change-write with the resourceVersion read, re-run on a conflict. A damaged object is logged
 * and read as the initial document; the next update replaces it.
 */
export class KubeDocumentStore<T> implements ObservableDocumentStore<T> {
  /** This replica's updates go one at a time: they would only conflict with each other. */
  private readonly mutex = new Mutex();
  private readonly listeners: Array<(document: T) => void> = [];
  readonly objectName: string;

  constructor(
    private readonly objects: KubeStateObjects,
    name: string,
    private readonly initial: () => T,
    private readonly validation: KubeDocumentValidation,
    private readonly log: Logger,
  ) {
    this.objectName = `switchyard-doc-${name}`;
  }

  onChange(listener: (document: T) => void): void {
    this.listeners.push(listener);
  }

  async read(): Promise<T> {
    return this.decode(await this.objects.get(this.objectName));
  }

  /** `change` may run more than once (a conflict with another replica): it must be a pure function of `current`. */
  async update<R>(
    change: (current: T) => { next: T; result: R } | Promise<{ next: T; result: R }>,
  ): Promise<R> {
    let written: { value: T } | undefined;
    const result = await this.mutex.runExclusive(() =>
      this.objects.mutate(this.objectName, DOCUMENT_KIND, async (object) => {
        const current = this.decode(object);
        const { next, result } = await change(current);
        if (next === current) {
          written = undefined;
          return { result };
        }
        written = { value: next };
        return { data: { [DOCUMENT_KEY]: JSON.stringify(next) }, result };
      }),
    );
    if (written) for (const listener of this.listeners) listener(written.value);
    return result;
  }

  private decode(object: StateObject | undefined): T {
    const text = object?.data[DOCUMENT_KEY];
    if (text === undefined) return this.initial();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.damaged(`not JSON (${(error as Error).message.slice(0, 80)})`);
    }
    const parsed = this.validation.schema.safeParse(value);
    if (!parsed.success) return this.damaged(`not valid (${firstIssue(parsed.error)})`);
    return value as T;
  }

  private damaged(reason: string): T {
    this.log.error(
      { object: this.objectName, reason },
      `the ${this.validation.what} in the cluster are damaged: read as empty; the next change replaces them`,
    );
    return this.initial();
  }
}
