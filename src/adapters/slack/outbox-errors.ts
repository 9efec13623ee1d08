/** What the outbox does with a failed Slack call. */
export type OutboxFailure =
  | { kind: 'rate-limited'; retryAfterMs: number }
  /** `maxAttempts`: give up after that many (errors not from Slack: a bug retried forever would block its conversation). */
  | { kind: 'retry'; reason: string; maxAttempts?: number }
  | { kind: 'drop'; reason: string };

/** Slack error codes that mean trouble on Slack's side: worth retrying. */
/** How often an error that did not come from Slack is tried before the job is dropped. */
export const NON_SLACK_ATTEMPTS = 5;

const TRANSIENT = new Set(['fatal_error', 'internal_error', 'service_unavailable', 'request_timeout']);

/**
 * Classifies an error thrown by `@slack/web-api` (with `rejectRateLimitedCalls` and no retries of its
 * own): 429 → wait `Retry-After`; 5xx, network errors and Slack's transient codes → retry with
 * backoff; any other `ok:false` (channel_not_found, invalid_blocks…) → drop, since resending cannot help.
 * Errors from elsewhere (a failed disk write, a bug in rendering) are retried a few times, then dropped
 * with an error log, so one bad job cannot hold up its conversation (and everything behind it) for good.
 */
export function classifySlackError(error: unknown): OutboxFailure {
  const e = error as {
    code?: string;
    retryAfter?: number;
    statusCode?: number;
    headers?: Record<string, string>;
    data?: { error?: string };
  };
  switch (e.code) {
    case 'slack_webapi_rate_limited_error':
      return { kind: 'rate-limited', retryAfterMs: seconds(e.retryAfter) };
    case 'slack_webapi_http_error':
      if (e.statusCode === 429)
        return { kind: 'rate-limited', retryAfterMs: seconds(e.headers?.['retry-after']) };
      if ((e.statusCode ?? 500) >= 500) return { kind: 'retry', reason: `HTTP ${e.statusCode}` };
      return { kind: 'drop', reason: `HTTP ${e.statusCode}` };
    case 'slack_webapi_request_error':
      return { kind: 'retry', reason: 'request failed' };
    case 'slack_webapi_platform_error': {
      const code = e.data?.error ?? 'unknown';
      if (code === 'ratelimited') return { kind: 'rate-limited', retryAfterMs: 1_000 };
      return TRANSIENT.has(code) ? { kind: 'retry', reason: code } : { kind: 'drop', reason: code };
    }
    default:
      return {
        kind: 'retry',
        reason: (error as Error)?.message ?? String(error),
        maxAttempts: NON_SLACK_ATTEMPTS,
      };
  }
}

function seconds(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : 1000;
}
