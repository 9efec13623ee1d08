import type { Runbook } from './runbook.js';

/** The seed's runbook examples, written as steps the bot can walk through. */
export const SEED_RUNBOOKS: readonly Runbook[] = [
  {
    name: 'high-latency',
    title: 'High latency incident',
    alerts: ['MessagingHighLatency'],
    summary: 'p95 delivery latency above 5 s: find the change that caused it and switch it off.',
    steps: [
      {
        kind: 'check',
        title: 'Confirm the latency',
        query: 'histogram_quantile(0.95, sum by (le) (rate(messaging_delivery_duration_bucket[5m])))',
        expect: 'below 5 (seconds)',
      },
      { kind: 'rollout-status', title: 'Was there a recent rollout?', deployment: 'messaging-core' },
      { kind: 'flag', title: 'Switch off timing calibration', flag: 'timing_calibration', enabled: false },
      {
        kind: 'flag',
        title: 'Switch off adaptive timing (fallback timing takes over)',
        flag: 'adaptive_timing',
        enabled: false,
      },
      { kind: 'rollback', title: 'Still slow: roll back messaging-core', deployment: 'messaging-core' },
      {
        // The seed: "post a status update in #messaging-system-incidents and the status page". The run's
        // thread is in the channel; Send update gives this text to the webhooks (notify.webhooks).
        kind: 'status-update',
        title: 'Communicate',
        text: 'We are investigating slow message delivery. Some messages may arrive late; updates follow.',
      },
    ],
  },
  {
    name: 'feature-flag-rollback',
    title: 'Feature flag issues',
    alerts: ['MessagingHighErrorRate'],
    summary: 'Errors after a flag change: turn the new features off, then find the culprit.',
    steps: [
      {
        kind: 'check',
        title: 'Confirm the error rate',
        query: 'sum(rate(messaging_errors_total[5m])) / sum(rate(messaging_deliveries_total[5m]))',
        expect: 'below 0.05',
      },
      { kind: 'disable-all', title: 'Pull the kill switch' },
      {
        kind: 'check',
        title: 'Has the error rate recovered?',
        query: 'sum(rate(messaging_errors_total[5m])) / sum(rate(messaging_deliveries_total[5m]))',
        expect: 'below 0.05',
      },
      {
        kind: 'manual',
        title: 'Find the culprit',
        text: 'Check `/flags history` and re-enable flags one by one, watching the error rate.',
      },
    ],
  },
  {
    name: 'system-down',
    title: 'Messaging system down',
    alerts: ['MessagingSystemDown'],
    summary: 'The messaging system stopped answering its scrapes: roll back first, investigate after.',
    steps: [
      {
        kind: 'check',
        title: 'Is it really down?',
        query: 'up{job="messaging-system"}',
        expect: '1 for every instance',
      },
      { kind: 'rollout-status', title: 'Look at the pods', deployment: 'messaging-core' },
      { kind: 'rollback', title: 'Roll back messaging-core', deployment: 'messaging-core' },
      { kind: 'disable-all', title: 'Still down: pull the kill switch' },
      {
        kind: 'manual',
        title: 'Escalate',
        text: 'Page the team lead if it is not back within 15 minutes (escalation matrix).',
      },
    ],
  },
  {
    name: 'database-connectivity',
    title: 'Database connectivity',
    alerts: [],
    summary: 'Deliveries fail on database errors: check the circuit breaker and the connection pool.',
    steps: [
      {
        kind: 'check',
        title: 'Errors by type',
        query: 'sum by (type) (rate(messaging_errors_total[5m]))',
        expect: 'no database errors',
      },
      {
        kind: 'manual',
        title: 'Circuit breaker',
        text: 'Make sure `circuit_breaker` is on (`/flags get circuit_breaker`).',
      },
      { kind: 'flag', title: 'Stop pooling connections', flag: 'resource_pooling', enabled: false },
      { kind: 'manual', title: 'Database', text: 'Check the database’s own health and failover status.' },
    ],
  },
];
