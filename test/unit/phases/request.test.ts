import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MetricGate, unevaluableGates } from '../../../src/core/phases/gates.js';
import {
  isActive,
  mayCancel,
  newRequestVersus,
  type PhaseRequest,
} from '../../../src/core/phases/request.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-04T12:00:00Z');

function request(overrides: Partial<PhaseRequest> = {}): PhaseRequest {
  return {
    id: 'r1',
    from: { number: 0, name: 'Pre-Deployment' },
    to: { number: 1, name: 'Foundation' },
    toEnable: [],
    gateSummary: [],
    requester: 'U0REQ',
    required: 2,
    requestedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 24 * HOUR).toISOString(),
    approvals: [],
    status: 'open',
    channel: 'C1',
    ts: '1.1',
    ...overrides,
  };
}

describe('phase request rules', () => {
  it('a new request waits for a younger one and supersedes one at or past the timeout', () => {
    expect(newRequestVersus(request(), T0 + HOUR - 1, HOUR)).toBe('busy');
    expect(newRequestVersus(request(), T0 + HOUR, HOUR)).toBe('supersede');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 1, max: 48 * HOUR }),
        (age, timeout) => {
          expect(newRequestVersus(request(), T0 + age, timeout)).toBe(age >= timeout ? 'supersede' : 'busy');
        },
      ),
    );
  });

  it('only the requester or an operator may cancel', () => {
    expect(mayCancel(request(), 'U0REQ', false)).toBe(true);
    expect(mayCancel(request(), 'U0OP', true)).toBe(true);
    expect(mayCancel(request(), 'U0OTHER', false)).toBe(false);
  });

  it('cancelled and superseded requests are no longer active', () => {
    expect(isActive(request())).toBe(true);
    expect(isActive(request({ status: 'checking' }))).toBe(true);
    for (const status of ['cancelled', 'superseded', 'expired', 'advanced'] as const) {
      expect(isActive(request({ status }))).toBe(false);
    }
  });
});

describe('unevaluableGates', () => {
  const gates: MetricGate[] = [
    { name: 'error rate', query: 'x', max: 0.05 },
    { name: 'p95', query: 'y', max: 5 },
  ];

  it('names the metric gates without Prometheus and the rollout gate without a cluster', () => {
    const warnings = unevaluableGates(gates, { prometheus: false, cluster: false, deployments: ['core'] });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('error rate, p95: no Prometheus configured');
    expect(warnings[1]).toContain('rollout status: no cluster configured, so the rollout of `core`');
  });

  it('says nothing when everything can be checked, or there is nothing to check', () => {
    expect(unevaluableGates(gates, { prometheus: true, cluster: true, deployments: ['core'] })).toEqual([]);
    expect(unevaluableGates([], { prometheus: false, cluster: false, deployments: [] })).toEqual([]);
  });
});
