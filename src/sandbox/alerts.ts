import { createHash } from 'node:crypto';
import { closest } from 'fastest-levenshtein';

/**
 * The seed's alerting rules (deploy/prometheus/alerting_rules.yml; a test keeps the two equal), fired
 * and resolved locally as Alertmanager would send them: webhook payload version 4, grouped by alertname.
 */
export interface SeedAlert {
  name: string;
  severity: 'critical' | 'warning' | 'info';
  labels: Record<string, string>;
  summary: string;
  description: string;
  runbookUrl: string;
}

export const SEED_ALERTS: readonly SeedAlert[] = [
  {
    name: 'MessagingHighErrorRate',
    severity: 'warning',
    labels: { team: 'messaging', deployment: 'messaging-core' },
    summary: 'High messaging error rate detected',
    description: 'Messaging error rate is 12.5% (threshold 5%) for job messaging-system',
    runbookUrl: 'https://switchyard.example/runbooks/high-error-rate',
  },
  {
    name: 'MessagingHighLatency',
    severity: 'warning',
    labels: { team: 'messaging', deployment: 'messaging-core' },
    summary: 'High messaging latency detected',
    description: '95th percentile latency is 7.20s (threshold 5s) for job messaging-system',
    runbookUrl: 'https://switchyard.example/runbooks/high-latency',
  },
  {
    name: 'MessagingSystemDown',
    severity: 'critical',
    labels: { team: 'messaging', deployment: 'messaging-core' },
    summary: 'Messaging system is down',
    description: 'Messaging system target messaging-core:9090 has been down for more than 1 minute',
    runbookUrl: 'https://switchyard.example/runbooks/system-down',
  },
];

export type AlertChoice = { ok: true; alert: SeedAlert } | { ok: false; error: string };

/**
 * A seed alert by name (case-insensitive), or an alert of one's own when a severity is given; a
 * mistyped name is refused with the nearest seed alert, so a typo never fires a stray alert.
 */
export function chooseAlert(name: string, severity?: string): AlertChoice {
  const seed = SEED_ALERTS.find((alert) => alert.name.toLowerCase() === name.toLowerCase());
  if (seed) return { ok: true, alert: seed };
  const names = SEED_ALERTS.map((alert) => alert.name);
  if (severity === undefined) {
    return {
      ok: false,
      error: `"${name}" is not one of the seed's alerts (${names.join(', ')}). Did you mean ${closest(name, names)}? To fire an alert of your own, add --severity critical|warning|info.`,
    };
  }
  if (severity !== 'critical' && severity !== 'warning' && severity !== 'info') {
    return { ok: false, error: `--severity: expected critical, warning or info, got "${severity}"` };
  }
  if (name.trim() === '' || name.length > 200) {
    return { ok: false, error: 'An alert name needs 1 to 200 characters.' };
  }
  return {
    ok: true,
    alert: {
      name,
      severity,
      labels: { team: 'messaging' },
      summary: `${name} (fired from the sandbox)`,
      description: `A ${severity} alert fired by hand in local mode.`,
      runbookUrl: 'https://switchyard.example/runbooks',
    },
  };
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

/** What Alertmanager 0.25 posts for this alert's group (`group_by: [alertname]`). */
export function alertmanagerPayload(
  alert: SeedAlert,
  status: 'firing' | 'resolved',
  now: Date,
  startsAt: Date = now,
): WebhookPayload {
  const labels = { alertname: alert.name, severity: alert.severity, ...alert.labels };
  const annotations = {
    summary: alert.summary,
    description: alert.description,
    runbook_url: alert.runbookUrl,
  };
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(alert.name)}}`,
    truncatedAlerts: 0,
    status,
    receiver: 'switchyard',
    groupLabels: { alertname: alert.name },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.local:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: startsAt.toISOString(),
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : now.toISOString(),
        generatorURL: `http://prometheus.local:9090/graph?g0.expr=${encodeURIComponent(`ALERTS{alertname="${alert.name}"}`)}`,
        fingerprint: fingerprint(labels),
      },
    ],
  };
}

/** Alertmanager's fingerprint is a hash of the sorted label set; 16 hex digits like its own. */
function fingerprint(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join('\u0000');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Posts the payload to the bot's webhook with the local token; the answer says what happened. */
export async function sendToWebhook(
  botUrl: string,
  token: string,
  payload: WebhookPayload,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${botUrl}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}
