/**
 * Gate checks before a phase advance, as plain data in and out: the readings are fetched by the
 * caller (Prometheus, the cluster); here they are judged. Every gate fails closed: no Prometheus,
 * no data, an error or a value that is not a number all block the advance.
 */

/**
 * How much worse than the phase's baseline a gate's value may become ("no degradation" in the seed's
 * success criteria): the larger of `relative` × |baseline| and `absolute` (each 0 when absent).
 */
export interface Degradation {
  relative?: number;
  absolute?: number;
}

/**
 * A metric gate of the config: the query's value must stay below `max`, or be at least `min` (one of
 * the two); with `degradation`, it must also not be worse than the baseline by more than allowed.
 */
export interface MetricGate {
  name: string;
  query: string;
  max?: number;
  min?: number;
  degradation?: Degradation;
  /** Checked only for advances into these phases; absent: for every advance. */
  phases?: number[];
}

/** The gates an advance into `phase` is judged by. */
export function gatesFor<T extends MetricGate>(gates: readonly T[], phase: number): T[] {
  return gates.filter((gate) => gate.phases === undefined || gate.phases.includes(phase));
}

export interface GateResult {
  name: string;
  passed: boolean;
  /** What was seen, e.g. "0.2 (must be below 0.05)". */
  detail: string;
  value?: number;
  max?: number;
  min?: number;
  /** The baseline a "no degradation" check compared with. */
  baseline?: number;
  /** The PromQL behind it, and where to see it in Prometheus (added by the service). */
  query?: string;
  link?: string;
}

/** What Prometheus answered for a gate's query (the shapes of the query API, values as strings). */
export type MetricReading =
  | { kind: 'no-prometheus' }
  | { kind: 'error'; reason: string }
  | { kind: 'vector'; samples: Array<{ labels: Record<string, string>; value: string }> }
  | { kind: 'scalar'; value: string };

/** A gate with `min` wants high values (a success rate); otherwise low ones (an error rate, a latency). */
export function higherIsBetter(gate: MetricGate): boolean {
  return gate.max === undefined && gate.min !== undefined;
}

/**
 * The worst sample of a reading for this gate (the highest, or the lowest for a `min` gate), or why
 * there is none. Fails closed: no Prometheus, no data, an error or a value that is not a number.
 */
export function worstValue(
  gate: MetricGate,
  reading: MetricReading,
): { ok: true; value: number } | { ok: false; reason: string } {
  switch (reading.kind) {
    case 'no-prometheus':
      return { ok: false, reason: 'no Prometheus configured (`PROMETHEUS_URL`), so it cannot be checked' };
    case 'error':
      return { ok: false, reason: `the query failed: ${reading.reason}` };
    case 'scalar':
    case 'vector': {
      const raw = reading.kind === 'scalar' ? [reading.value] : reading.samples.map((sample) => sample.value);
      if (raw.length === 0) return { ok: false, reason: 'the query returned no data' };
      const values = raw.map(Number);
      if (values.some((value) => !Number.isFinite(value))) {
        return { ok: false, reason: `the query returned a value that is not a number (${raw.join(', ')})` };
      }
      return { ok: true, value: higherIsBetter(gate) ? Math.min(...values) : Math.max(...values) };
    }
  }
}

/** The worst sample must be below `max` (or at least `min`). */
export function evaluateMetricGate(gate: MetricGate, reading: MetricReading): GateResult {
  const bounds = {
    ...(gate.max !== undefined ? { max: gate.max } : {}),
    ...(gate.min !== undefined ? { min: gate.min } : {}),
  };
  const worst = worstValue(gate, reading);
  if (!worst.ok) return { name: gate.name, passed: false, detail: worst.reason, ...bounds };
  const { value } = worst;
  const problems: string[] = [];
  if (gate.max !== undefined && !(value < gate.max)) problems.push(`must be below ${formatNumber(gate.max)}`);
  if (gate.min !== undefined && !(value >= gate.min))
    problems.push(`must be at least ${formatNumber(gate.min)}`);
  const wanted = [
    ...(gate.max !== undefined ? [`must be below ${formatNumber(gate.max)}`] : []),
    ...(gate.min !== undefined ? [`must be at least ${formatNumber(gate.min)}`] : []),
  ];
  return {
    name: gate.name,
    passed: problems.length === 0,
    value,
    ...bounds,
    detail: wanted.length > 0 ? `${formatNumber(value)} (${wanted.join(', ')})` : formatNumber(value),
  };
}

// ---- "no degradation": the current value against the phase's baseline -------------------------

/** The gates' values when a phase began, kept with the phase (on the request that started it). */
export interface Baseline {
  /** The phase it belongs to. */
  phase: number;
  capturedAt: string;
  /** `phase-start`: read when the phase began; `request`: none was stored, read when an advance was asked. */
  source: 'phase-start' | 'request';
  /** Gate name → its worst value then. */
  values: Record<string, number>;
  /** Gate name → why it had no value then. */
  missing?: Record<string, string>;
}

/** The baseline of `phase` from the readings of each gate's query (in the order of `gates`). */
export function captureBaseline(
  gates: readonly MetricGate[],
  readings: readonly MetricReading[],
  phase: number,
  at: string,
  source: Baseline['source'],
): Baseline {
  const values: Record<string, number> = {};
  const missing: Record<string, string> = {};
  gates.forEach((gate, index) => {
    const worst = worstValue(gate, readings[index] ?? { kind: 'error', reason: 'not read' });
    if (worst.ok) values[gate.name] = worst.value;
    else missing[gate.name] = worst.reason;
  });
  return {
    phase,
    capturedAt: at,
    source,
    values,
    ...(Object.keys(missing).length > 0 ? { missing } : {}),
  };
}

/** The name of a gate's "no degradation" check. */
export const baselineGateName = (gate: MetricGate): string => `${gate.name} vs baseline`;

/** How much worse than `baseline` the gate's value may be. */
export function allowedWorsening(degradation: Degradation, baseline: number): number {
  return Math.max((degradation.relative ?? 0) * Math.abs(baseline), degradation.absolute ?? 0);
}

/**
 * "No degradation": the current value may be worse than the baseline by at most the gate's allowance.
 * Undefined for a gate without `degradation`. Fails closed without a baseline or a current value.
 */
export function evaluateDegradation(
  gate: MetricGate,
  baseline: Baseline | undefined,
  reading: MetricReading,
): GateResult | undefined {
  if (!gate.degradation) return undefined;
  const name = baselineGateName(gate);
  const base = baseline?.values[gate.name];
  if (baseline === undefined || base === undefined) {
    const why = baseline?.missing?.[gate.name];
    return {
      name,
      passed: false,
      detail: `no baseline to compare with${why ? ` (when it was captured: ${why})` : ''}`,
    };
  }
  const worst = worstValue(gate, reading);
  if (!worst.ok) return { name, passed: false, baseline: base, detail: `cannot compare: ${worst.reason}` };
  const allowed = allowedWorsening(gate.degradation, base);
  const higher = higherIsBetter(gate);
  const limit = higher ? base - allowed : base + allowed;
  const passed = higher ? worst.value >= limit : worst.value <= limit;
  const when = `${baseline.source === 'phase-start' ? `when Phase ${baseline.phase} began` : 'when this advance was asked'}, ${baseline.capturedAt.replace('T', ' ').slice(0, 16)} UTC`;
  return {
    name,
    passed,
    value: worst.value,
    baseline: base,
    detail: `${formatNumber(worst.value)} (baseline ${formatNumber(base)} ${when}; must not ${higher ? 'fall below' : 'rise above'} ${formatNumber(limit)})`,
  };
}

/**
 * The query as a graph in Prometheus's own UI (`/graph?g0.expr=…`), under its base URL (the server's,
 * or the external URL people reach it by).
 */
export function prometheusGraphLink(baseUrl: string, expr: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0`;
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
