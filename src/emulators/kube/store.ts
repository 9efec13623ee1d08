import { randomUUID } from 'node:crypto';
import { clone, deepEqual, isoSeconds, randomSuffix } from './json.js';
import { alreadyExists, badRequest, conflict, notFound } from './status.js';
import { apiVersionOf, type KubeObject, resourceTypeOfKind } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  object: KubeObject;
  resourceVersion: number;
}

/**
 * How an update treats the stored object:
 * - `spec`: a write to the main resource; `status` is kept, `generation` bumps on spec changes.
 * - `status`: a write to the status subresource; spec and labels are kept, `generation` is untouched.
 * - `replace`: the test accessor `apply`; `status` is taken when given, else kept.
 */
export type UpdateMode = 'spec' | 'status' | 'replace';

const HISTORY_LIMIT = 5000;

/**
 * An in-memory etcd: objects by kind, namespace and name, one global increasing resourceVersion, a
 * bounded event history for watches that resume from a resourceVersion. Reads and writes copy, so
 * nobody holds a reference into the store.
 */
export class ObjectStore {
  private revision = 0;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  /** The newest resourceVersion handed out. */
  get resourceVersion(): number {
    return this.revision;
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return clone(this.objects.get(key(kind, namespace, name)));
  }

  /** Objects of a kind, in one namespace or (without one) in all, ordered by namespace and name. */
  list(kind: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${kind}/` : `${kind}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => clone(object));
  }

  create(input: KubeObject): KubeObject {
    const type = resourceTypeOfKind(input.kind ?? '');
    const object = clone(input);
    const meta = object.metadata;
    if (!meta.namespace) throw badRequest('the namespace of the object must be set');
    if (!meta.name) {
      if (!meta.generateName) throw badRequest('name or generateName is required');
      do meta.name = `${meta.generateName}${randomSuffix()}`;
      while (this.objects.has(key(type.kind, meta.namespace, meta.name)));
    }
    const k = key(type.kind, meta.namespace, meta.name);
    if (this.objects.has(k)) throw alreadyExists(type, meta.name);
    object.apiVersion = apiVersionOf(type);
    meta.uid = randomUUID();
    meta.creationTimestamp = isoSeconds();
    if (type.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    return this.write(k, object, 'ADDED');
  }

  update(input: KubeObject, mode: UpdateMode = 'spec'): KubeObject {
    const type = resourceTypeOfKind(input.kind ?? '');
    const { name = '', namespace = '' } = input.metadata;
    const k = key(type.kind, namespace, name);
    const stored = this.objects.get(k);
    if (!stored) throw notFound(type, name);
    const wanted = input.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== stored.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    const next = clone(input);
    next.apiVersion = apiVersionOf(type);
    next.metadata = {
      ...next.metadata,
      uid: stored.metadata.uid,
      creationTimestamp: stored.metadata.creationTimestamp,
      resourceVersion: stored.metadata.resourceVersion,
    };
    if (mode === 'status') {
      for (const field of Object.keys(next)) {
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(field)) delete next[field];
      }
      for (const field of Object.keys(stored)) {
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(field)) next[field] = clone(stored[field]);
      }
      next.metadata.labels = clone(stored.metadata.labels);
      if (next.metadata.labels === undefined) delete next.metadata.labels;
    } else if (type.hasStatus && (mode === 'spec' || next.status === undefined)) {
      if (stored.status === undefined) delete next.status;
      else next.status = clone(stored.status);
    }
    if (type.hasGeneration) {
      const specChanged = !deepEqual(next.spec, stored.spec);
      // apps/v1 Deployments also count annotation changes: they are copied to the ReplicaSets.
      const annotationsChanged =
        type.kind === 'Deployment' && !deepEqual(next.metadata.annotations, stored.metadata.annotations);
      const bump = mode !== 'status' && (specChanged || annotationsChanged);
      next.metadata.generation = (stored.metadata.generation ?? 1) + (bump ? 1 : 0);
    } else {
      delete next.metadata.generation;
    }
    // Like the API server: an update that changes nothing writes nothing and keeps the resourceVersion.
    if (deepEqual(next, stored)) return clone(stored);
    return this.write(k, next, 'MODIFIED');
  }

  delete(kind: string, namespace: string, name: string): KubeObject {
    const type = resourceTypeOfKind(kind);
    const k = key(type.kind, namespace, name);
    const stored = this.objects.get(k);
    if (!stored) throw notFound(type, name);
    this.objects.delete(k);
    const deleted = clone(stored);
    deleted.metadata.resourceVersion = String(++this.revision);
    this.emit({ type: 'DELETED', object: deleted, resourceVersion: this.revision });
    return clone(deleted);
  }

  /** Events after `resourceVersion`, or undefined when the history no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    const oldest = this.history[0]?.resourceVersion ?? this.revision + 1;
    if (resourceVersion + 1 < oldest && resourceVersion < this.revision) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion).map((e) => clone(e));
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(k: string, object: KubeObject, type: WatchEventType): KubeObject {
    object.metadata.resourceVersion = String(++this.revision);
    this.objects.set(k, object);
    this.emit({ type, object: clone(object), resourceVersion: this.revision });
    return clone(object);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const listener of this.listeners) listener(clone(event));
  }
}

function key(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
