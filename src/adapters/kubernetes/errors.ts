import { ApiException } from '@kubernetes/client-node';
import { ClusterError, type ClusterErrorKind } from '../../ports/cluster.js';

/** An ApiException (or a network failure) as a ClusterError carrying the API server's own message. */
export function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  if (error instanceof ApiException) {
    const code = error.code;
    return new ClusterError(kindOf(code), `${what}: ${statusMessage(error.body) ?? `HTTP ${code}`}`, code);
  }
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  return new ClusterError(
    'unavailable',
    `${what}: the cluster could not be reached (${cause ?? (error as Error).message ?? 'error'})`,
    0,
  );
}

function kindOf(code: number): ClusterErrorKind {
  if (code === 403 || code === 401) return 'forbidden';
  if (code === 404) return 'not-found';
  if (code === 409) return 'conflict';
  if (code === 400 || code === 422) return 'invalid';
  return 'unavailable';
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body && 'message' in body)
    return String((body as { message: unknown }).message);
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return body.slice(0, 200) || undefined;
  }
}
