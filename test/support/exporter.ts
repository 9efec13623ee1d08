/**
 * A small exporter standing in for the messaging system: Prometheus text format on `GET /metrics`,
 * with the seed's twelve key metrics, whose values the test sets. Counters grow by the set amounts at
 * each scrape, so every rate Prometheus computes from them is exact whatever the scrape timing (the
 * ratios and the latency quantile depend only on the amounts, not on time).
 */
import { createServer, type Server } from 'node:http';

/** The latency histogram's bucket bounds (seconds). */
export const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface ExporterValues {
  /** Deliveries per scrape, by status. */
  successes: number;
  failures: number;
  /** Errors per scrape. */
  errors: number;
  retries: number;
  /** The bucket bound every delivery's latency falls under (its lower neighbour excluded). */
  latencyBucket: (typeof LATENCY_BUCKETS)[number];
  queueLength: number;
  cpuSecondsPerScrape: number;
  memoryBytes: number;
  connectionAttemptsPerScrape: number;
  timingCalibrationSeconds: number;
  parallelOperations: number;
  orderingChangesPerScrape: number;
}

/** 0.1 % failures, 0.1 % errors, p95 = 0.25 + 0.95 × 0.25 = 0.4875 s. */
export const HEALTHY: ExporterValues = {
  successes: 999,
  failures: 1,
  errors: 1,
  retries: 3,
  latencyBucket: 0.5,
  queueLength: 4,
  cpuSecondsPerScrape: 0.2,
  memoryBytes: 128 * 1024 * 1024,
  connectionAttemptsPerScrape: 2,
  timingCalibrationSeconds: 0.03,
  parallelOperations: 6,
  orderingChangesPerScrape: 1,
};

export interface Exporter {
  /** `host:port`, as a Prometheus scrape target. */
  target: string;
  set(values: Partial<ExporterValues>): void;
  scrapes(): number;
  close(): Promise<void>;
}

export async function startExporter(initial: ExporterValues = HEALTHY): Promise<Exporter> {
  let values = { ...initial };
  let scrapes = 0;
  const totals = {
    success: 0,
    failure: 0,
    errors: 0,
    retries: 0,
    cpu: 0,
    connections: 0,
    ordering: 0,
    buckets: LATENCY_BUCKETS.map(() => 0),
    count: 0,
    sum: 0,
  };
  const body = () => {
    const lines = [
      '# TYPE messaging_deliveries_total counter',
      `messaging_deliveries_total{status="success"} ${totals.success}`,
      `messaging_deliveries_total{status="failure"} ${totals.failure}`,
      '# TYPE messaging_errors_total counter',
      `messaging_errors_total ${totals.errors}`,
      '# TYPE messaging_retries_total counter',
      `messaging_retries_total ${totals.retries}`,
      '# TYPE messaging_delivery_duration histogram',
      ...LATENCY_BUCKETS.map(
        (le, index) => `messaging_delivery_duration_bucket{le="${le}"} ${totals.buckets[index]}`,
      ),
      `messaging_delivery_duration_bucket{le="+Inf"} ${totals.count}`,
      `messaging_delivery_duration_sum ${totals.sum}`,
      `messaging_delivery_duration_count ${totals.count}`,
      '# TYPE messaging_queue_length gauge',
      `messaging_queue_length ${values.queueLength}`,
      '# TYPE process_cpu_user_seconds_total counter',
      `process_cpu_user_seconds_total ${totals.cpu}`,
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${values.memoryBytes}`,
      '# TYPE net_conntrack_dialer_conn_attempted_total counter',
      `net_conntrack_dialer_conn_attempted_total{dialer_name="redis"} ${totals.connections}`,
      '# TYPE messaging_timing_calibration_duration gauge',
      `messaging_timing_calibration_duration ${values.timingCalibrationSeconds}`,
      '# TYPE messaging_parallel_operations_active gauge',
      `messaging_parallel_operations_active ${values.parallelOperations}`,
      '# TYPE messaging_agent_ordering_changes_total counter',
      `messaging_agent_ordering_changes_total ${totals.ordering}`,
    ];
    return `${lines.join('\n')}\n`;
  };
  const scrape = () => {
    scrapes++;
    const deliveries = values.successes + values.failures;
    totals.success += values.successes;
    totals.failure += values.failures;
    totals.errors += values.errors;
    totals.retries += values.retries;
    totals.cpu += values.cpuSecondsPerScrape;
    totals.connections += values.connectionAttemptsPerScrape;
    totals.ordering += values.orderingChangesPerScrape;
    LATENCY_BUCKETS.forEach((le, index) => {
      if (le >= values.latencyBucket) totals.buckets[index] = (totals.buckets[index] ?? 0) + deliveries;
    });
    totals.count += deliveries;
    totals.sum += deliveries * values.latencyBucket;
  };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrape();
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body());
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('exporter has no port');
  return {
    target: `127.0.0.1:${address.port}`,
    set(next) {
      values = { ...values, ...next };
    },
    scrapes: () => scrapes,
    close: () =>
      new Promise((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
  };
}
