import type { AlertNotification } from '../../core/alerts/types.js';
import { BodyError, bearerMatches, type Route, readJsonBody, sendJson } from '../http/server.js';
import { describeStorageFailure, isStorageFailure } from '../storage/storage-error.js';
import { parseWebhookPayload } from './webhook-schema.js';

export interface WebhookRouteOptions {
  /** ALERTMANAGER_WEBHOOK_TOKEN; unset, every request is refused. */
  token: string | undefined;
  /** Records the notification durably; the 200 is sent only after it resolves. */
  ingest: (notification: AlertNotification) => Promise<{ id: string }>;
  observeSeconds?: (seconds: number) => void;
  /** Large groups with long annotations are big; Alertmanager sends them whole. */
  limitBytes?: number;
}

/**
 * `POST /alertmanager`: bearer token, payload version 4, recorded before the 200. A 4xx is final for
 * Alertmanager (nothing recorded); a state directory that cannot be written gives a 503 with the
 * cause, any other error while recording a 500: Alertmanager retries both.
 */
export function alertmanagerWebhookRoute(options: WebhookRouteOptions): Route {
  return {
    method: 'POST',
    path: '/alertmanager',
    handler: async (req, res, ctx) => {
      const started = performance.now();
      res.once('finish', () => options.observeSeconds?.((performance.now() - started) / 1000));
      if (!options.token) {
        sendJson(res, 401, {
          error: 'ALERTMANAGER_WEBHOOK_TOKEN is not set, so the webhook refuses every request',
        });
        return;
      }
      if (!bearerMatches(req, options.token)) {
        sendJson(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
        return;
      }
      let body: unknown;
      try {
        body = await readJsonBody(req, options.limitBytes ?? 32 * 1024 * 1024);
      } catch (error) {
        if (error instanceof BodyError) {
          sendJson(res, error.status, { error: error.message });
          return;
        }
        throw error;
      }
      const parsed = parseWebhookPayload(body);
      if (!parsed.ok) {
        ctx.log.warn({ path: parsed.path }, 'alertmanager webhook: invalid payload');
        sendJson(res, 400, { error: parsed.error, path: parsed.path });
        return;
      }
      let record: { id: string };
      try {
        record = await options.ingest(parsed.notification);
      } catch (error) {
        if (!isStorageFailure(error)) throw error;
        // Degraded, not dead: a 503 makes Alertmanager send the notification again.
        ctx.log.error({ err: error }, 'alertmanager webhook: could not record the notification');
        sendJson(res, 503, {
          error: `could not record the notification: ${describeStorageFailure(error)}; Alertmanager will send it again`,
        });
        return;
      }
      sendJson(res, 200, { ok: true, group: record.id });
    },
  };
}
