import type { AlertNotification } from '../../core/alerts/types.js';
import { BodyError, bearerMatches, type Route, readJsonBody, sendJson } from '../http/server.js';
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
 * Alertmanager (nothing recorded); an error while recording becomes a 500, which it retries.
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
      const record = await options.ingest(parsed.notification);
      sendJson(res, 200, { ok: true, group: record.id });
    },
  };
}
