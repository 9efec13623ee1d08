import { type ResourceType, resourceTypeOfPath } from './types.js';

/** What a request path addresses. */
export type Target =
  | {
      type: 'resource';
      resource: ResourceType;
      /** Undefined for a list or watch across all namespaces. */
      namespace?: string;
      name?: string;
      subresource?: string;
    }
  | { type: 'discovery'; path: string }
  | { type: 'health' }
  | { type: 'unknown' };

const DISCOVERY = new Set([
  '/version',
  '/api',
  '/apis',
  '/api/v1',
  '/apis/apps/v1',
  '/apis/coordination.k8s.io/v1',
]);
const HEALTH = new Set(['/healthz', '/readyz', '/livez']);

/**
 * `/api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]`,
 * `/apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}[/{subresource}]]`, and the same without
 * `namespaces/{ns}` for a list across namespaces.
 */
export function parsePath(pathname: string): Target {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (DISCOVERY.has(path)) return { type: 'discovery', path };
  if (HEALTH.has(path)) return { type: 'health' };
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return { type: 'unknown' };
  }
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    group = '';
    rest = segments.slice(1);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    rest = segments.slice(2);
  } else {
    return { type: 'unknown' };
  }
  const [version, ...afterVersion] = rest;
  let namespace: string | undefined;
  let parts = afterVersion;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [plural, name, subresource, ...extra] = parts;
  const resource = resourceTypeOfPath(group, version ?? '', plural ?? '');
  if (!resource || extra.length > 0 || (namespace === undefined && name !== undefined))
    return { type: 'unknown' };
  return {
    type: 'resource',
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

/** The RBAC verb of a request (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, …). */
export function verbOf(method: string, target: Target, query: URLSearchParams): string {
  if (target.type !== 'resource') return method.toLowerCase();
  const watch = ['true', '1'].includes(query.get('watch') ?? '');
  switch (method) {
    case 'GET':
      return target.name ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return target.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** `deployments`, `pods/log`: the resource as an RBAC rule names it. */
export function rbacResource(target: Target): string | undefined {
  if (target.type !== 'resource') return undefined;
  return target.subresource ? `${target.resource.plural}/${target.subresource}` : target.resource.plural;
}
