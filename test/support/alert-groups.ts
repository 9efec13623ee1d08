import { applyNotification } from '../../src/core/alerts/group.js';
import { type Alert, type AlertNotification, ZERO_TIME } from '../../src/core/alerts/types.js';
import { type GroupRecord, groupIdOf } from '../../src/ports/alert-groups.js';

/** Alertmanager's notification for group `name` with `count` alerts, all firing or all resolved. */
export function notificationFor(
  name: string,
  count: number,
  status: 'firing' | 'resolved',
): AlertNotification {
  const alerts: Alert[] = Array.from({ length: count }, (_, i) => ({
    fingerprint: `${name}-${String(i).padStart(6, '0')}`,
    status,
    labels: { alertname: name, instance: `messaging-${i}.messaging-system.svc:9090`, severity: 'critical' },
    annotations: { summary: `Delivery latency above 2 s on messaging-${i} for 5 minutes` },
    startsAt: '2026-12-05T00:00:00Z',
    endsAt: status === 'firing' ? ZERO_TIME : '2026-12-05T00:10:00Z',
    generatorURL: `http://prometheus.example/graph?g0.expr=latency%7Binstance%3D%22messaging-${i}%22%7D`,
  }));
  return {
    receiver: 'switchyard',
    status,
    alerts,
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    version: '4',
    groupKey: `{}/{team="messaging"}:{alertname="${name}"}`,
    truncatedAlerts: 0,
  };
}

/** The record the alert service keeps after `notification`, on top of `previous` (as AlertService folds it). */
export function recordAfter(
  previous: GroupRecord | undefined,
  notification: AlertNotification,
  now: number,
): GroupRecord {
  const { state } = applyNotification(previous?.state, notification, now);
  return {
    id: groupIdOf(notification.groupKey),
    state,
    sentEscalations: previous?.sentEscalations ?? [],
    ...(previous?.message && { message: previous.message }),
  };
}
