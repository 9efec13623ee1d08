/**
 * Gate checks before a phase advance, as plain data in and out: the readings are fetched by the
 * caller (Prometheus, the cluster); here they are judged. Every gate fails closed: no Prometheus,
 * no data, an error or a value that is not a number all block the advance.
 */

/** A metric gate of the config: the query's value must stay below `max`. */
export interface MetricGate {
  name: string;
  query: string;
  max: number;
}

export interface GateResult {
  name: string;
  passed: boolean;
  /** What was seen, e.g. "0.2 (must be below 0.05)". */
  detail: string;
  value?: number;
  max?: number;
}

/** What Prometheus answered for a gate's query (the shapes of the query API, values as strings). */
export type MetricReading =
  | { kind: 'no-prometheus' }
  | { kind: 'error'; reason: string }
  | { kind: 'vector'; samples: Array<{ labels: Record<string, string>; value: string }> }
  | { kind: 'scalar'; value: string };

/** The worst (highest) sample must be below the threshold. */
export function evaluateMetricGate(gate: MetricGate, reading: MetricReading): GateResult {
  const fail = (detail: string): GateResult => ({ name: gate.name, passed: false, detail, max: gate.max });
  switch (reading.kind) {
    case 'no-prometheus':
      return fail('no Prometheus configured (`PROMETHEUS_URL`), so it cannot be checked');
    case 'error':
      return fail(`the query failed: ${reading.reason}`);
    case 'scalar':
    case 'vector': {
      const raw = reading.kind === 'scalar' ? [reading.value] : reading.samples.map((sample) => sample.value);
      if (raw.length === 0) return fail('the query returned no data');
      const values = raw.map(Number);
      if (values.some((value) => !Number.isFinite(value))) {
        return fail(`the query returned a value that is not a number (${raw.join(', ')})`);
      }
      const value = Math.max(...values);
      const passed = value < gate.max;
      return {
        name: gate.name,
        passed,
        value,
        max: gate.max,
        detail: `${formatNumber(value)} (must be below ${formatNumber(gate.max)})`,
      };
    }
  }
}

/** What the cluster shows of the Deployments (as `/rollback deployment` lists them). */
export type RolloutReading =
  | { kind: 'no-cluster' }
  | { kind: 'error'; reason: string }
  | {
      kind: 'rows';
      expected: readonly string[];
      rows: ReadonlyArray<{ name: string; state: string; ready: number; desired: number }>;
    };

export const ROLLOUT_GATE = 'rollout status';

/** Every listed Deployment must exist and be fully rolled out; without a cluster there is nothing to check. */
export function evaluateRolloutGate(reading: RolloutReading): GateResult {
  if (reading.kind === 'no-cluster') {
    return { name: ROLLOUT_GATE, passed: true, detail: 'no cluster configured; skipped' };
  }
  if (reading.kind === 'error') {
    return { name: ROLLOUT_GATE, passed: false, detail: `the cluster did not answer: ${reading.reason}` };
  }
  const problems: string[] = [];
  for (const name of reading.expected) {
    const row = reading.rows.find((candidate) => candidate.name === name);
    if (!row) problems.push(`\`${name}\` not found`);
    else if (row.state !== 'done') {
      problems.push(
        `\`${name}\` ${row.state === 'failed' ? 'rollout failed' : 'still rolling out'} (${row.ready}/${row.desired} ready)`,
      );
    }
  }
  if (problems.length > 0) return { name: ROLLOUT_GATE, passed: false, detail: problems.join('; ') };
  return {
    name: ROLLOUT_GATE,
    passed: true,
    detail:
      reading.expected.length > 0
        ? `${reading.expected.map((name) => `\`${name}\``).join(', ')} fully rolled out`
        : 'no Deployments listed',
  };
}

export function gatesPassed(results: readonly GateResult[]): boolean {
  return results.every((result) => result.passed);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/**
 * The gates that cannot be evaluated in this setup, known before anyone approves: metric gates
 * without Prometheus (they would block the advance), the rollout gate without a cluster (skipped).
 */
export function unevaluableGates(
  gates: readonly MetricGate[],
  setup: { prometheus: boolean; cluster: boolean; deployments: readonly string[] },
): string[] {
  const warnings: string[] = [];
  if (gates.length > 0 && !setup.prometheus) {
    warnings.push(
      `${gates.map((gate) => gate.name).join(', ')}: no Prometheus configured (\`PROMETHEUS_URL\`), so ${gates.length === 1 ? 'this gate' : 'these gates'} cannot be checked and will block the advance after the approvals`,
    );
  }
  if (setup.deployments.length > 0 && !setup.cluster) {
    warnings.push(
      `${ROLLOUT_GATE}: no cluster configured, so the rollout of ${setup.deployments.map((name) => `\`${name}\``).join(', ')} cannot be checked (it is skipped)`,
    );
  }
  return warnings;
}
