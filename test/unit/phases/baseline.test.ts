/**
 * The seed's metrics as gates, judged as plain data: `min` gates (success rate), the "no degradation"
 * check against the phase's baseline, and the link to each query in Prometheus.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileConfigSchema } from '../../../src/config/file.js';
import {
  allowedWorsening,
  type Baseline,
  captureBaseline,
  evaluateDegradation,
  evaluateMetricGate,
  gatesFor,
  type MetricGate,
  prometheusGraphLink,
} from '../../../src/core/phases/gates.js';
import { SEED_GATES } from '../../../src/core/phases/seed-gates.js';

const vector = (...values: string[]) => ({
  kind: 'vector' as const,
  samples: values.map((value) => ({ labels: {}, value })),
});
const success: MetricGate = {
  name: 'success rate',
  query: 's',
  min: 0.995,
  degradation: { absolute: 0.002 },
};
const latency: MetricGate = {
  name: 'p95 latency (s)',
  query: 'l',
  max: 5,
  degradation: { relative: 0.2, absolute: 0.05 },
};
const baseline = (values: Record<string, number>, missing?: Record<string, string>): Baseline => ({
  phase: 1,
  capturedAt: '2026-12-04T22:00:00.000Z',
  source: 'phase-start',
  values,
  ...(missing ? { missing } : {}),
});

describe('a min gate (success rate ≥ 99.5 %)', () => {
  it('passes at or above the minimum and blocks below it with its value, judging the lowest sample', () => {
    expect(evaluateMetricGate(success, vector('0.999'))).toEqual({
      name: 'success rate',
      passed: true,
      value: 0.999,
      min: 0.995,
      detail: '0.999 (must be at least 0.995)',
    });
    expect(evaluateMetricGate(success, vector('0.995')).passed).toBe(true);
    expect(evaluateMetricGate(success, vector('0.999', '0.97'))).toMatchObject({
      passed: false,
      value: 0.97,
      detail: '0.97 (must be at least 0.995)',
    });
  });

  it('fails closed on no data, NaN and errors', () => {
    expect(evaluateMetricGate(success, vector()).passed).toBe(false);
    expect(evaluateMetricGate(success, vector('NaN')).passed).toBe(false);
    expect(evaluateMetricGate(success, { kind: 'no-prometheus' }).passed).toBe(false);
  });

  it('passes exactly when every sample is within the bound (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (values, bound) => {
          const reading = vector(...values.map(String));
          const low = evaluateMetricGate({ name: 'g', query: 'q', min: bound }, reading);
          const high = evaluateMetricGate({ name: 'g', query: 'q', max: bound }, reading);
          expect(low.passed).toBe(values.every((value) => value >= bound));
          expect(high.passed).toBe(values.every((value) => value < bound));
        },
      ),
    );
  });
});

describe('no degradation against the baseline', () => {
  it('blocks a latency that rose more than allowed, showing value and baseline', () => {
    const result = evaluateDegradation(latency, baseline({ 'p95 latency (s)': 0.5 }), vector('0.95'));
    expect(result).toMatchObject({
      name: 'p95 latency (s) vs baseline',
      passed: false,
      value: 0.95,
      baseline: 0.5,
    });
    expect(result?.detail).toBe(
      '0.95 (baseline 0.5 when Phase 1 began, 2026-12-04 22:00 UTC; must not rise above 0.6)',
    );
    expect(evaluateDegradation(latency, baseline({ 'p95 latency (s)': 0.5 }), vector('0.6'))?.passed).toBe(
      true,
    );
  });

  it('blocks a success rate that fell more than allowed', () => {
    const base = baseline({ 'success rate': 0.999 });
    expect(evaluateDegradation(success, base, vector('0.9965'))).toMatchObject({
      passed: false,
      detail: expect.stringContaining('must not fall below 0.997'),
    });
    expect(evaluateDegradation(success, base, vector('0.998'))?.passed).toBe(true);
  });

  it('fails closed without a baseline or a current value, and is absent for a gate without degradation', () => {
    expect(evaluateDegradation(latency, undefined, vector('1'))).toMatchObject({
      passed: false,
      detail: 'no baseline to compare with',
    });
    expect(
      evaluateDegradation(
        latency,
        baseline({}, { 'p95 latency (s)': 'the query returned no data' }),
        vector('1'),
      ),
    ).toMatchObject({
      passed: false,
      detail: 'no baseline to compare with (when it was captured: the query returned no data)',
    });
    expect(evaluateDegradation(latency, baseline({ 'p95 latency (s)': 1 }), vector())).toMatchObject({
      passed: false,
      detail: 'cannot compare: the query returned no data',
    });
    expect(evaluateDegradation({ name: 'x', query: 'q', max: 1 }, undefined, vector('1'))).toBeUndefined();
  });

  it('is monotonic: a value no worse than one that passes also passes (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.boolean(),
        (base, a, b, relative, higher) => {
          const gate: MetricGate = higher
            ? { name: 'g', query: 'q', min: 0, degradation: { relative } }
            : { name: 'g', query: 'q', max: 1e9, degradation: { relative } };
          const better = higher ? Math.max(a, b) : Math.min(a, b);
          const worse = higher ? Math.min(a, b) : Math.max(a, b);
          const judge = (value: number) =>
            evaluateDegradation(gate, baseline({ g: base }), vector(String(value)))?.passed;
          if (judge(worse)) expect(judge(better)).toBe(true);
          // The baseline itself never counts as a degradation.
          expect(judge(base)).toBe(true);
          expect(allowedWorsening({ relative }, base)).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('captures each gate’s worst value, and why one had none', () => {
    expect(
      captureBaseline(
        [latency, success],
        [vector('0.4', '0.5'), vector()],
        2,
        '2026-12-04T22:00:00.000Z',
        'request',
      ),
    ).toEqual({
      phase: 2,
      capturedAt: '2026-12-04T22:00:00.000Z',
      source: 'request',
      values: { 'p95 latency (s)': 0.5 },
      missing: { 'success rate': 'the query returned no data' },
    });
  });
});

describe('links and defaults', () => {
  it('links a query to the graph page of Prometheus, encoded', () => {
    expect(prometheusGraphLink('http://prom:9090/', 'sum(rate(x{status="success"}[5m]))')).toBe(
      'http://prom:9090/graph?g0.expr=sum(rate(x%7Bstatus%3D%22success%22%7D%5B5m%5D))&g0.tab=0',
    );
  });

  it("defaults to the seed's gates: error rate, p95 latency, success rate ≥ 99.5 % (each with a baseline check), health checks", () => {
    const config = fileConfigSchema.parse({});
    expect(config.gates).toEqual(SEED_GATES);
    expect(
      config.gates.map((gate) => [gate.name, gate.max ?? gate.min, gate.degradation !== undefined]),
    ).toEqual([
      ['error rate', 0.05, true],
      ['p95 latency (s)', 5, true],
      ['success rate', 0.995, true],
      ['health checks', 1, false],
    ]);
  });

  it('judges an advance by the gates of the phase it goes to', () => {
    const gates: MetricGate[] = [
      { name: 'always', query: 'a', max: 1 },
      { name: 'scale only', query: 's', max: 1, phases: [3] },
    ];
    expect(gatesFor(gates, 1).map((gate) => gate.name)).toEqual(['always']);
    expect(gatesFor(gates, 3).map((gate) => gate.name)).toEqual(['always', 'scale only']);
    expect(fileConfigSchema.parse({ gates }).gates[1]?.phases).toEqual([3]);
    expect(fileConfigSchema.safeParse({ gates: [{ ...gates[1], phases: [0] }] }).success).toBe(false);
  });

  it('still loads the older gate form, and refuses a gate with both or neither bound', () => {
    expect(fileConfigSchema.parse({ gates: [{ name: 'e', query: 'q', max: 0.05 }] }).gates).toEqual([
      { name: 'e', query: 'q', max: 0.05 },
    ]);
    for (const gate of [
      { name: 'e', query: 'q' },
      { name: 'e', query: 'q', max: 1, min: 0 },
    ]) {
      const parsed = fileConfigSchema.safeParse({ gates: [gate] });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toContain('either max');
    }
    expect(
      fileConfigSchema.safeParse({ gates: [{ name: 'e', query: 'q', max: 1, degradation: {} }] }).success,
    ).toBe(false);
  });
});
