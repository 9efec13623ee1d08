import type { Alert, AlertNotification } from '../../../src/core/alerts/types.js';

/** 2026-01-10T03:00:00Z: 3 a.m., as incidents go. */
export const T0 = Date.parse('2026-01-10T03:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const GROUP_KEY =
  '{}/{team="messaging"}:{alertname="MessagingSystemDown", deployment="messaging-core"}';

export const iso = (ms: number): string => new Date(ms).toISOString();

export function firing(fingerprint: string, startsAt: number, labels: Record<string, string> = {}): Alert {
  return {
    fingerprint,
    status: 'firing',
    labels: {
      alertname: 'MessagingSystemDown',
      deployment: 'messaging-core',
      team: 'messaging',
      severity: 'critical',
      instance: `10.0.0.${fingerprint.length}:8080`,
      ...labels,
    },
    annotations: {
      summary: 'Messaging system is down',
      description: `Messaging system target ${fingerprint} has been down for more than 1 minute`,
      runbook_url: 'https://switchyard.example/runbooks/system-down',
    },
    startsAt: iso(startsAt),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22messaging-system%22%7D+%3D%3D+0',
  };
}

export function resolved(alert: Alert, endsAt: number): Alert {
  return { ...alert, status: 'resolved', endsAt: iso(endsAt) };
}

/** A webhook payload shaped like the one Alertmanager 0.25 sends (see the integration test). */
export function notification(alerts: Alert[], overrides: Partial<AlertNotification> = {}): AlertNotification {
  return {
    receiver: 'switchyard',
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: 'MessagingSystemDown', deployment: 'messaging-core' },
    commonLabels: { alertname: 'MessagingSystemDown', deployment: 'messaging-core', team: 'messaging' },
    commonAnnotations: { summary: 'Messaging system is down' },
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: GROUP_KEY,
    truncatedAlerts: 0,
    ...overrides,
  };
}
