import { ApiException, CoreV1Api, type KubeConfig, type V1ConfigMap, Watch } from '@kubernetes/client-node';
import { conflictBackoff, StateConflict } from '../../../ports/state-conflict.js';
import { StorageError } from '../storage-error.js';

/** Every object of the `kubernetes` state backend carries this label (and only they do). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'switchyard';
/** What an object holds: `document`, `group`, `flags`, `outbox-job`, … (selects one kind of state). */
export const KIND_LABEL = 'switchyard.io/kind';

/** The API server refuses objects past 1 MiB (etcd's request limit): the backend stays well below. */
export const MAX_OBJECT_BYTES = 1024 * 1024;
/** What a write may hold at most: room left for metadata and labels. */
export const MAX_DATA_BYTES = 900 * 1024;

/** One state object (a ConfigMap) as read: its data and the resourceVersion a write must carry. */
export interface StateObject {
  name: string;
  data: Record<string, string>;
  labels: Record<string, string>;
  resourceVersion: string;
}

export { StateConflict };

/** One change seen by `watch`: the object as it is now (or was, when deleted). */
export interface StateEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: StateObject;
}

/** What `mutate`'s change decides: new data (`null` deletes the object), and what to return. */
export interface Mutation<R> {
  data?: Record<string, string> | null;
  labels?: Record<string, string>;
  result: R;
}

const MAX_CONFLICT_RETRIES = 20;

/**
 * The state backend's only way to the API server: ConfigMaps in the state namespace, labelled as
 * Switchyard's, every write carrying the resourceVersion it was based on (a 409 is a StateConflict).
 */
export class KubeStateObjects {
  private readonly core: CoreV1Api;

  private readonly watcher: Watch;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.watcher = new Watch(kubeConfig);
  }

  async get(name: string): Promise<StateObject | undefined> {
    try {
      return toStateObject(await this.core.readNamespacedConfigMap({ name, namespace: this.namespace }));
    } catch (error) {
      if (codeOf(error) === 404) return undefined;
      throw this.failure(`reading ${name}`, error);
    }
  }

  /** Every object of one kind (label `switchyard.io/kind`), with the list's resourceVersion. */
  async list(kind: string, selector?: string): Promise<StateObject[]> {
    try {
      const list = await this.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: selectorOf(kind, selector),
      });
      return list.items.map(toStateObject);
    } catch (error) {
      throw this.failure(`listing ${kind} objects`, error);
    }
  }

  /** `list`, with the list's resourceVersion: where a `watch` that follows it starts. */
  async listVersioned(
    kind: string,
    selector?: string,
  ): Promise<{ items: StateObject[]; resourceVersion: string }> {
    try {
      const list = await this.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: selectorOf(kind, selector),
      });
      return { items: list.items.map(toStateObject), resourceVersion: list.metadata?.resourceVersion ?? '' };
    } catch (error) {
      throw this.failure(`listing ${kind} objects`, error);
    }
  }

  /**
   * Follows the objects of one kind from `resourceVersion` on (a list's). `done` is called once when
   * the watch ends, with the error if any (a 410 Gone means: list again). Returns a stop function.
   */
  async watch(
    kind: string,
    resourceVersion: string,
    onEvent: (event: StateEvent) => void,
    done: (error?: unknown) => void,
  ): Promise<() => void> {
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      done(error);
    };
    const request = await this.watcher.watch(
      `/api/v1/namespaces/${this.namespace}/configmaps`,
      { labelSelector: selectorOf(kind), resourceVersion, allowWatchBookmarks: false },
      (type: string, object: V1ConfigMap & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          end(new StorageError(`Kubernetes state: watch of ${kind} objects`, object));
        } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          onEvent({ type, object: toStateObject(object) });
        }
      },
      (error: unknown) => end(error ?? undefined),
    );
    return () => {
      ended = true;
      request.abort();
    };
  }

  /** Creates the object; one that exists already is a StateConflict. */
  async create(
    name: string,
    kind: string,
    data: Record<string, string>,
    labels: Record<string, string> = {},
  ): Promise<StateObject> {
    checkSize(name, data);
    try {
      return toStateObject(
        await this.core.createNamespacedConfigMap({
          namespace: this.namespace,
          body: { metadata: { name, namespace: this.namespace, labels: labelsOf(kind, labels) }, data },
        }),
      );
    } catch (error) {
      if (codeOf(error) === 409) throw new StateConflict(name);
      throw this.failure(`creating ${name}`, error);
    }
  }

  /** Replaces the object read as `current`; changed since, it is a StateConflict. */
  async replace(
    current: StateObject,
    kind: string,
    data: Record<string, string>,
    labels: Record<string, string> = {},
  ): Promise<StateObject> {
    checkSize(current.name, data);
    try {
      return toStateObject(
        await this.core.replaceNamespacedConfigMap({
          name: current.name,
          namespace: this.namespace,
          body: {
            metadata: {
              name: current.name,
              namespace: this.namespace,
              resourceVersion: current.resourceVersion,
              labels: labelsOf(kind, { ...current.labels, ...labels }),
            },
            data,
          },
        }),
      );
    } catch (error) {
      const code = codeOf(error);
      if (code === 409 || code === 404) throw new StateConflict(current.name);
      throw this.failure(`updating ${current.name}`, error);
    }
  }

  /** Deletes the object if it is still as read (`resourceVersion`); false when it was gone already. */
  async delete(name: string, resourceVersion?: string): Promise<boolean> {
    try {
      await this.core.deleteNamespacedConfigMap({
        name,
        namespace: this.namespace,
        ...(resourceVersion && { body: { preconditions: { resourceVersion } } }),
      });
      return true;
    } catch (error) {
      const code = codeOf(error);
      if (code === 404) return false;
      if (code === 409) throw new StateConflict(name);
      throw this.failure(`deleting ${name}`, error);
    }
  }

  /**
   * Read, change, write with the resourceVersion read; on a conflict, read again and apply `change`
   * again (so `change` must be a pure function of what it is given, or idempotent).
   */
  async mutate<R>(
    name: string,
    kind: string,
    change: (current: StateObject | undefined) => Mutation<R> | Promise<Mutation<R>>,
  ): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      const { data, labels, result } = await change(current);
      try {
        if (data === undefined) return result;
        if (data === null) {
          if (current) await this.delete(name, current.resourceVersion);
        } else if (current) await this.replace(current, kind, data, labels);
        else await this.create(name, kind, data, labels);
        return result;
      } catch (error) {
        if (!(error instanceof StateConflict) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await conflictBackoff(attempt);
      }
    }
  }

  private failure(what: string, error: unknown): StorageError {
    return new StorageError(`Kubernetes state (namespace ${this.namespace}): ${what}`, error);
  }
}

export function selectorOf(kind: string, extra?: string): string {
  return [`${MANAGED_BY_LABEL}=${MANAGED_BY}`, `${KIND_LABEL}=${kind}`, ...(extra ? [extra] : [])].join(',');
}

function labelsOf(kind: string, labels: Record<string, string>): Record<string, string> {
  return { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY, [KIND_LABEL]: kind };
}

export function toStateObject(map: V1ConfigMap): StateObject {
  return {
    name: map.metadata?.name ?? '',
    data: map.data ?? {},
    labels: map.metadata?.labels ?? {},
    resourceVersion: map.metadata?.resourceVersion ?? '',
  };
}

/** Bytes of the object's data as the API server counts them (keys and values). */
export function dataBytes(data: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(data)) total += Buffer.byteLength(key) + Buffer.byteLength(value);
  return total;
}

function checkSize(name: string, data: Record<string, string>): void {
  const bytes = dataBytes(data);
  if (bytes > MAX_DATA_BYTES) {
    throw new StorageError(
      `Kubernetes state: ${name} would hold ${bytes} bytes (at most ${MAX_DATA_BYTES})`,
      new Error('state object too large'),
    );
  }
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** A valid object name (DNS-1123 subdomain) for a key: `prefix-` and a hash-safe suffix. */
export function objectName(prefix: string, key: string): string {
  const safe = key
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return `${prefix}-${safe}`.slice(0, 253);
}
