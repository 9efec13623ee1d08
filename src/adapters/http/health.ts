import type { Role } from '../leadership.js';
import type { Route } from './server.js';
import { sendJson } from './server.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** Liveness says the process answers; readiness says it can do its job (store, Slack, cluster). */
export function healthRoutes(
  checks: readonly ReadinessCheck[],
  isShuttingDown: () => boolean,
  /** Single replica, or leader / follower (a follower is ready: it serves every request). */
  role?: () => Role,
): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (_req, res) => {
        if (isShuttingDown()) return sendJson(res, 503, { status: 'shutting down', checks: {} });
        const results = await Promise.all(
          checks.map(async ({ name, check }) => {
            try {
              await withTimeout(check(), 3_000);
              return [name, 'ok'] as const;
            } catch (error) {
              return [name, (error as Error).message || 'failed'] as const;
            }
          }),
        );
        const ready = results.every(([, result]) => result === 'ok');
        sendJson(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not ready',
          checks: Object.fromEntries(results),
          ...(role && role()),
        });
      },
    },
  ];
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** A cached check, so frequent probes don't hammer a rate-limited API. */
export function cachedCheck(check: () => Promise<void>, ttlMs: number): () => Promise<void> {
  let last: { at: number; error?: Error } | undefined;
  return async () => {
    if (!last || Date.now() - last.at > ttlMs) {
      try {
        await check();
        last = { at: Date.now() };
      } catch (error) {
        last = { at: Date.now(), error: error as Error };
      }
    }
    if (last.error) throw last.error;
  };
}
