import type { OutboxFailure } from '../slack/outbox-errors.js';

/** A delivery attempt that did not succeed: the HTTP status (absent for a network error or timeout). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** Which try of the job this was (1 for the first). */
    readonly attempt: number,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** A webhook or PagerDuty call is tried this often before it is dropped (backoff grows to 30 s). */
export const MAX_DELIVERY_ATTEMPTS = 12;

/** How long one call may take. */
const TIMEOUT_MS = 10_000;

/**
 * What the notify outbox does with a failed delivery: 429 → wait `Retry-After` (1 s without one);
 * 5xx, 408, network errors and timeouts → retry with backoff, up to `MAX_DELIVERY_ATTEMPTS`; any
 * other answer (4xx, a redirect) → drop, since sending it again cannot help.
 */
export function classifyDeliveryError(error: unknown): OutboxFailure {
  if (!(error instanceof DeliveryError)) {
    return { kind: 'retry', reason: (error as Error)?.message ?? String(error), maxAttempts: 5 };
  }
  const { status, attempt } = error;
  if (status === 429) return { kind: 'rate-limited', retryAfterMs: error.retryAfterMs ?? 1_000 };
  if (status === undefined || status >= 500 || status === 408) {
    return attempt >= MAX_DELIVERY_ATTEMPTS
      ? { kind: 'drop', reason: `${error.message} (gave up after ${attempt} attempts)` }
      : { kind: 'retry', reason: error.message };
  }
  return { kind: 'drop', reason: error.message };
}

export interface HttpAnswer {
  status: number;
  /** The response body as text (the first 2,000 characters). */
  body: string;
}

/**
 * POSTs `body` as JSON to `url`. Redirects are not followed (the target is the configured URL and
 * nothing else). Resolves with a 2xx answer; throws `DeliveryError` otherwise.
 */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  attempt: number,
): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Switchyard', ...headers },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryError(`request failed: ${cause ?? (error as Error).name}`, attempt);
  }
  const text = (await response.text().catch(() => '')).slice(0, 2_000);
  if (response.status >= 200 && response.status < 300) return { status: response.status, body: text };
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new DeliveryError(
    `HTTP ${response.status}`,
    attempt,
    response.status,
    Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 300) * 1000 : undefined,
  );
}
