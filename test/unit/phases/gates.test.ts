import { describe, expect, it } from 'vitest';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import { planPhaseAdvance } from '../../../src/core/phases/advance.js';
import {
  evaluateMetricGate,
  evaluateRolloutGate,
  gatesPassed,
  type MetricGate,
} from '../../../src/core/phases/gates.js';
import { SEED_PHASES } from '../../../src/core/phases/plan.js';

const errorRate: MetricGate = { name: 'error rate', query: 'x', max: 0.05 };
const vector = (...values: string[]) => ({
  kind: 'vector' as const,
  samples: values.map((value) => ({ labels: {}, value })),
});

describe('metric gates', () => {
  it('passes below the threshold and shows the value', () => {
    expect(evaluateMetricGate(errorRate, vector('0.01'))).toEqual({
      name: 'error rate',
      passed: true,
      value: 0.01,
      max: 0.05,
      detail: '0.01 (must be below 0.05)',
    });
  });

  it('fails at or above the threshold, judging the worst sample', () => {
    expect(evaluateMetricGate(errorRate, vector('0.01', '0.2'))).toMatchObject({
      passed: false,
      value: 0.2,
      detail: '0.2 (must be below 0.05)',
    });
    expect(evaluateMetricGate(errorRate, { kind: 'scalar', value: '0.05' }).passed).toBe(false);
  });

  it('fails closed: no Prometheus, no data, an error, NaN', () => {
    expect(evaluateMetricGate(errorRate, { kind: 'no-prometheus' })).toMatchObject({
      passed: false,
      detail: expect.stringContaining('no Prometheus configured'),
    });
    expect(evaluateMetricGate(errorRate, vector()).detail).toBe('the query returned no data');
    expect(evaluateMetricGate(errorRate, vector('NaN')).passed).toBe(false);
    expect(evaluateMetricGate(errorRate, { kind: 'error', reason: 'timeout' })).toMatchObject({
      passed: false,
      detail: 'the query failed: timeout',
    });
  });
});

describe('rollout gate', () => {
  const row = (name: string, state: string) => ({ name, state, ready: 1, desired: 2 });
  it('passes without a cluster, saying so', () => {
    expect(evaluateRolloutGate({ kind: 'no-cluster' })).toEqual({
      name: 'rollout status',
      passed: true,
      detail: 'no cluster configured; skipped',
    });
  });

  it('needs every listed Deployment present and fully rolled out', () => {
    expect(
      evaluateRolloutGate({ kind: 'rows', expected: ['a', 'b'], rows: [row('a', 'done'), row('b', 'done')] })
        .passed,
    ).toBe(true);
    expect(
      evaluateRolloutGate({
        kind: 'rows',
        expected: ['a', 'b', 'c'],
        rows: [row('a', 'waiting'), row('b', 'failed')],
      }).detail,
    ).toBe('`a` still rolling out (1/2 ready); `b` rollout failed (1/2 ready); `c` not found');
    expect(evaluateRolloutGate({ kind: 'error', reason: 'down' }).passed).toBe(false);
  });

  it('all must pass', () => {
    expect(gatesPassed([])).toBe(true);
    expect(
      gatesPassed([
        evaluateMetricGate(errorRate, vector('0.2')),
        evaluateRolloutGate({ kind: 'no-cluster' }),
      ]),
    ).toBe(false);
  });
});

describe('phase advance plan', () => {
  const catalog = new FlagCatalog();
  it('turns on the next phase flags that are off, dependencies first', () => {
    const plan = planPhaseAdvance(SEED_PHASES, catalog, catalog.defaults());
    expect(plan.ok && plan.to.number).toBe(1);
    expect(plan.ok && plan.changes.map((change) => change.key)).toEqual([
      'adaptive_timing',
      'timing_calibration',
      'retry_logic',
      'flag_validation',
    ]);
  });

  it('refuses, changing nothing, when a flag of the next phase cannot go on', () => {
    const values = {
      ...catalog.defaults(),
      adaptive_timing: true,
      timing_calibration: true,
      retry_logic: true,
      flag_validation: true,
      custom_ordering: true,
    };
    const plan = planPhaseAdvance(SEED_PHASES, catalog, values);
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.error).toContain('`urgent_first` cannot be turned on');
  });
});
