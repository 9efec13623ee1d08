import type { MetricGate } from './gates.js';

/**
 * The default gates, from the seed: its alert thresholds (error rate above 5 %, p95 latency above 5 s),
 * its success metric "99.5%+ delivery success rate", and "no degradation in key metrics" against the
 * baseline read when the phase began, and its health checks (Phase 0's validation criteria). The queries are the seed's "Key Metrics", summed over the
 * service (the recording rules in deploy/prometheus/recording_rules.yml compute the same per job).
 */
export const SEED_GATES: MetricGate[] = [
  {
    name: 'error rate',
    query: 'sum(rate(messaging_errors_total[5m])) / sum(rate(messaging_deliveries_total[5m]))',
    max: 0.05,
    // May rise by half its baseline or by 0.5 percentage points, whichever is more.
    degradation: { relative: 0.5, absolute: 0.005 },
  },
  {
    name: 'p95 latency (s)',
    query: 'histogram_quantile(0.95, sum by (le) (rate(messaging_delivery_duration_bucket[5m])))',
    max: 5,
    // May be 20 % slower than the baseline (or 50 ms, for a tiny baseline).
    degradation: { relative: 0.2, absolute: 0.05 },
  },
  {
    name: 'success rate',
    query:
      'sum(rate(messaging_deliveries_total{status="success"}[5m])) / sum(rate(messaging_deliveries_total[5m]))',
    min: 0.995,
    // May fall by at most 0.2 percentage points.
    degradation: { absolute: 0.002 },
  },
  {
    // Phase 0's "Health check endpoints returning 200" and the success criterion "All health checks
    // passing": every target of the messaging system answers its scrape (as MessagingSystemDown watches).
    name: 'health checks',
    query: 'min(up{job="messaging-system"})',
    min: 1,
  },
];
