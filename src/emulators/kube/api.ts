import { applyDefaults } from './defaults.js';
import { isRecord } from './json.js';
import type { PodLogs } from './logs.js';
import { applyPatch } from './patch.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selector.js';
import { apiError, badRequest, KubeApiError, notFound } from './status.js';
import type { ObjectStore, UpdateMode } from './store.js';
import { apiVersionOf, type KubeObject, type Pod, type ResourceType } from './types.js';
import { validate } from './validate.js';

export interface ResourceRequest {
  method: string;
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
  body: string;
  contentType: string;
}

export type ApiReply = { status: number; json: unknown } | { status: number; text: string };

/** The REST verbs on the served resources, over the store. Failures are thrown as KubeApiError. */
export class ResourceApi {
  constructor(
    private readonly store: ObjectStore,
    private readonly logs: PodLogs,
  ) {}

  handle(req: ResourceRequest): ApiReply {
    const { method, resource, name, subresource } = req;
    if (subresource !== undefined) {
      if (!name) throw pathNotFound();
      if (subresource === 'log' && resource.kind === 'Pod' && method === 'GET') return this.log(req, name);
      if (subresource !== 'status' || !resource.hasStatus) throw pathNotFound();
      if (method === 'GET') return ok(this.get(req, name));
      if (method === 'PUT') return ok(this.replace(req, name, 'status'));
      if (method === 'PATCH') return ok(this.patch(req, name, 'status'));
      throw methodNotAllowed(method);
    }
    if (!name) {
      if (method === 'GET') return ok(this.list(req));
      if (method === 'POST') return { status: 201, json: this.create(req) };
      throw methodNotAllowed(method);
    }
    switch (method) {
      case 'GET':
        return ok(this.get(req, name));
      case 'PUT':
        return ok(this.replace(req, name, 'spec'));
      case 'PATCH':
        return ok(this.patch(req, name, 'spec'));
      case 'DELETE':
        return ok(this.delete(req, name));
      default:
        throw methodNotAllowed(method);
    }
  }

  /** A predicate for the request's namespace, `labelSelector` and `fieldSelector`; 400 on a bad selector. */
  matcher(req: Pick<ResourceRequest, 'namespace' | 'query'>): (object: KubeObject) => boolean {
    const labels = parseLabelSelector(req.query.get('labelSelector'));
    const fields = parseFieldSelector(req.query.get('fieldSelector'));
    return (object) =>
      (req.namespace === undefined || object.metadata.namespace === req.namespace) &&
      matchesLabels(object.metadata.labels, labels) &&
      matchesFields(object, fields);
  }

  private list(req: ResourceRequest): unknown {
    const matches = this.matcher(req);
    const items = this.store
      .list(req.resource.kind, req.namespace)
      .filter(matches)
      // Items of a list carry no apiVersion and kind, as from the real API server.
      .map(({ apiVersion: _apiVersion, kind: _kind, ...item }) => item);
    return {
      kind: `${req.resource.kind}List`,
      apiVersion: apiVersionOf(req.resource),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    };
  }

  private get(req: ResourceRequest, name: string): KubeObject {
    const object = this.store.get(req.resource.kind, namespaceOf(req), name);
    if (!object) throw notFound(req.resource, name);
    return object;
  }

  private create(req: ResourceRequest): KubeObject {
    const type = req.resource;
    const object = parseObject(req.body, type);
    const namespace = namespaceOf(req);
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (object.metadata.resourceVersion)
      throw badRequest('resourceVersion should not be set on objects to be created');
    object.metadata.namespace = namespace;
    if (type.hasStatus) delete object.status;
    applyDefaults(type.kind, object);
    validate(type, object);
    return this.store.create(object);
  }

  private replace(req: ResourceRequest, name: string, mode: UpdateMode): KubeObject {
    const object = parseObject(req.body, req.resource);
    const namespace = namespaceOf(req);
    if (object.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    object.metadata.namespace = namespace;
    return this.write(req.resource, object, this.get(req, name), mode);
  }

  private patch(req: ResourceRequest, name: string, mode: UpdateMode): KubeObject {
    const stored = this.get(req, name);
    const patched = applyPatch(req.contentType, stored, req.body);
    if (!isRecord(patched) || !isRecord(patched.metadata))
      throw apiError(422, 'the patched object is not an object');
    const object = patched as KubeObject;
    if (object.metadata.name !== name || object.metadata.namespace !== stored.metadata.namespace) {
      throw badRequest('metadata.name and metadata.namespace cannot be changed by a patch');
    }
    object.kind = req.resource.kind;
    object.apiVersion = apiVersionOf(req.resource);
    return this.write(req.resource, object, stored, mode);
  }

  private write(type: ResourceType, object: KubeObject, stored: KubeObject, mode: UpdateMode): KubeObject {
    if (mode === 'spec') applyDefaults(type.kind, object);
    validate(type, object, stored);
    return this.store.update(object, mode);
  }

  private delete(req: ResourceRequest, name: string): unknown {
    checkPreconditions(req, this.get(req, name));
    const deleted = this.store.delete(req.resource.kind, namespaceOf(req), name);
    if (req.resource.kind === 'Pod') return deleted;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        ...(req.resource.group ? { group: req.resource.group } : {}),
        kind: req.resource.plural,
        uid: deleted.metadata.uid,
      },
    };
  }

  private log(req: ResourceRequest, name: string): ApiReply {
    const pod = this.get(req, name) as Pod;
    const tailText = req.query.get('tailLines');
    const tailLines = tailText === null ? undefined : Number(tailText);
    if (tailLines !== undefined && !Number.isInteger(tailLines)) {
      throw badRequest(`tailLines: Invalid value: "${tailText}": must be an integer`);
    }
    return { status: 200, text: this.logs.read(pod, req.query.get('container'), tailLines) };
  }
}

/**
 * DeleteOptions' `preconditions` (`resourceVersion`, `uid`), as the API server checks them: a delete
 * of an object that changed since it was read is refused with 409, so the deleter can look again.
 */
function checkPreconditions(req: ResourceRequest, stored: KubeObject): void {
  if (!req.body.trim()) return;
  let options: unknown;
  try {
    options = JSON.parse(req.body);
  } catch (error) {
    throw badRequest(`couldn't decode DeleteOptions: ${(error as Error).message}`);
  }
  const preconditions = isRecord(options) && isRecord(options.preconditions) ? options.preconditions : {};
  for (const field of ['resourceVersion', 'uid'] as const) {
    const wanted = preconditions[field];
    if (typeof wanted !== 'string' || wanted === '') continue;
    const actual = stored.metadata[field] ?? '';
    if (wanted !== actual) {
      const label = field === 'uid' ? 'UID' : 'ResourceVersion';
      throw apiError(
        409,
        `Precondition failed: ${label} in precondition: ${wanted}, ${label} in object meta: ${actual}`,
      );
    }
  }
}

function ok(json: unknown): ApiReply {
  return { status: 200, json };
}

function namespaceOf(req: ResourceRequest): string {
  if (req.namespace === undefined) throw pathNotFound();
  return req.namespace;
}

export function pathNotFound(): KubeApiError {
  return new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function methodNotAllowed(method: string): KubeApiError {
  return new KubeApiError(
    405,
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource (${method})`,
  );
}

function parseObject(body: string, type: ResourceType): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
  if (!isRecord(parsed))
    throw badRequest(`${type.kind} in version "${type.version}" cannot be handled: not an object`);
  const expected = apiVersionOf(type);
  if (parsed.apiVersion !== undefined && parsed.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${String(parsed.apiVersion)}) does not match the expected API version (${expected})`,
    );
  }
  if (parsed.kind !== undefined && parsed.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${String(parsed.kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  if (parsed.metadata === undefined) parsed.metadata = {};
  if (!isRecord(parsed.metadata)) throw badRequest('metadata must be an object');
  return { ...parsed, apiVersion: expected, kind: type.kind } as KubeObject;
}
