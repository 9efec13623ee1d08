/** One instant query's answer, as the runbook shows it. */
export type QueryResult =
  | { kind: 'vector'; samples: Array<{ labels: Record<string, string>; value: string }> }
  | { kind: 'scalar'; value: string };

/** The Prometheus query API, as a runbook's check step needs it. */
export interface PrometheusQuery {
  query(expr: string): Promise<QueryResult>;
}
