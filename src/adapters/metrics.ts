import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FlagCatalog, FlagValues } from '../core/flags/catalog.js';
import type { LeadershipState } from '../core/leadership.js';

/** Every metric the bot exposes on /metrics, in one registry per process (tests make their own). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
  const metrics = {
    registry,
    commands: new Counter({
      name: 'switchyard_commands_total',
      help: 'Slash commands handled, by command, subcommand and outcome',
      labelNames: ['command', 'subcommand', 'outcome'] as const,
      registers: [registry],
    }),
    commandDuration: new Histogram({
      name: 'switchyard_command_duration_seconds',
      help: 'Time from receiving a slash command to having its reply',
      labelNames: ['command'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    flagChanges: new Counter({
      name: 'switchyard_flag_changes_total',
      help: 'Flag changes, by flag, action and where they came from',
      labelNames: ['flag', 'action', 'via'] as const,
      registers: [registry],
    }),
    flagEnabled: new Gauge({
      name: 'switchyard_flag_enabled',
      help: 'Current value of each feature flag (1 on, 0 off)',
      labelNames: ['flag', 'env_var', 'group'] as const,
      registers: [registry],
    }),
    slackApiErrors: new Counter({
      name: 'switchyard_slack_api_errors_total',
      help: 'Failed Slack Web API calls, by method and error',
      labelNames: ['method', 'error'] as const,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'switchyard_http_requests_total',
      help: 'HTTP requests, by route and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: 'switchyard_alerts_received_total',
      help: 'Alerts received from Alertmanager (one per alert per notification), by status and severity',
      labelNames: ['status', 'severity'] as const,
      registers: [registry],
    }),
    alertGroupsActive: new Gauge({
      name: 'switchyard_alert_groups_active',
      help: 'Alert groups currently firing',
      registers: [registry],
    }),
    escalationsSent: new Counter({
      name: 'switchyard_escalations_sent_total',
      help: 'Escalation tiers fired (queued to Slack), by tier (1 = first configured tier)',
      labelNames: ['tier'] as const,
      registers: [registry],
    }),
    slackQueueDepth: new Gauge({
      name: 'switchyard_slack_queue_depth',
      help: 'Slack posts waiting in the outbox',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'switchyard_leader',
      help: 'Whether this replica holds the leader Lease and does the timed and outbound work (1) or not (0)',
      registers: [registry],
    }),
    leaderTransitions: new Gauge({
      name: 'switchyard_leader_transitions',
      help: "The leader Lease's leaseTransitions as this replica last saw it (how often leadership changed hands)",
      registers: [registry],
    }),
    alertWebhookDuration: new Histogram({
      name: 'switchyard_alertmanager_webhook_duration_seconds',
      help: 'Time to answer an Alertmanager webhook (validated and recorded durably)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function setFlagGauges(metrics: Metrics, catalog: FlagCatalog, values: FlagValues): void {
  for (const flag of catalog.flags) {
    metrics.flagEnabled.set(
      { flag: flag.key, env_var: flag.envVar, group: flag.group },
      values[flag.key] ? 1 : 0,
    );
  }
}

/** Keeps `switchyard_leader` and `switchyard_leader_transitions` in step with an elector; returns a detach. */
export function attachLeaderMetrics(
  metrics: Metrics,
  elector: { onStateChange(listener: (state: LeadershipState) => void): () => void },
): () => void {
  return elector.onStateChange((state) => {
    metrics.leader.set(state.leading ? 1 : 0);
    metrics.leaderTransitions.set(state.transitions);
  });
}
