import { groupResource, type ResourceType } from './types.js';

/** The `Status` object the API server answers every failure with. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonForCode(code: number): string {
  return REASON_BY_CODE[code] ?? 'Unknown';
}

/** A failure that becomes a `Status` response; thrown anywhere below the HTTP layer. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  toStatus(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function details(type: ResourceType, name?: string): StatusDetails {
  return { ...(name ? { name } : {}), ...(type.group ? { group: type.group } : {}), kind: type.plural };
}

export function notFound(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${groupResource(type)} "${name}" not found`, details(type, name));
}

export function alreadyExists(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    409,
    'AlreadyExists',
    `${groupResource(type)} "${name}" already exists`,
    details(type, name),
  );
}

export function conflict(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResource(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(type, name),
  );
}

export function forbidden(
  type: ResourceType,
  resource: string,
  verb: string,
  user: string,
  namespace: string | undefined,
  name?: string,
): KubeApiError {
  const subject = name ? `${groupResource(type)} "${name}"` : groupResource(type);
  const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  return new KubeApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${type.group}"${scope}`,
    details(type, name),
  );
}

export function invalid(
  type: ResourceType,
  name: string,
  causes: Array<{ field: string; message: string }>,
): KubeApiError {
  const qualifiedKind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new KubeApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${text}`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.kind,
    causes: causes.map((c) => ({
      reason: c.message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid',
      ...c,
    })),
  });
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}

export function apiError(code: number, message: string): KubeApiError {
  return new KubeApiError(code, reasonForCode(code), message);
}
