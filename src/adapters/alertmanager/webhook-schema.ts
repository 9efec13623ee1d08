import { z } from 'zod';
import type { AlertNotification } from '../../core/alerts/types.js';

/**
 * Alertmanager's webhook payload, version "4". Unknown fields are tolerated (and dropped); a wrong type
 * is refused with the path of the offending field.
 */
const labels = z.record(z.string(), z.string());

const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string(),
  endsAt: z.string(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4', { error: 'expected payload version "4"' }),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().default(''),
  // An empty notification carries nothing to record; taking it as "all resolved" would post a false
  // resolution, so it is refused (400) with the reason.
  alerts: z
    .array(alert)
    .min(1, 'expected at least one alert (an empty "alerts" list carries nothing to record)'),
});

export type ParsedPayload =
  | { ok: true; notification: AlertNotification }
  | { ok: false; error: string; path: string };

export function parseWebhookPayload(body: unknown): ParsedPayload {
  const result = webhookPayloadSchema.safeParse(body);
  if (result.success) return { ok: true, notification: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(root)';
  return { ok: false, path, error: `${path}: ${issue.message}` };
}
