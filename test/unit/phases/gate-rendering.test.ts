/**
 * How a phase request shows its gates (value, threshold, baseline, a link to the query in Prometheus),
 * with config text escaped; and that requests stored before baselines existed still load.
 */
import { describe, expect, it } from 'vitest';
import { phaseRequestsSchema } from '../../../src/adapters/storage/state-schemas.js';
import { evaluateMetricGate, prometheusGraphLink } from '../../../src/core/phases/gates.js';
import type { PhaseRequest } from '../../../src/core/phases/request.js';
import { renderPhaseRequest } from '../../../src/messages/phase.js';

const OLD_REQUEST = {
  id: 'r1',
  from: { number: 0, name: 'Pre-Deployment' },
  to: { number: 1, name: 'Foundation' },
  toEnable: ['adaptive_timing'],
  gateSummary: ['error rate below 0.05'],
  requester: 'U0OPERATOR',
  required: 1,
  requestedAt: '2026-12-04T22:00:00.000Z',
  expiresAt: '2026-12-05T22:00:00.000Z',
  approvals: ['U0LEAD1'],
  status: 'blocked',
  channel: 'C0INCIDENTS',
  ts: '1.0001',
} satisfies PhaseRequest;

describe('a phase request with gate results', () => {
  it('shows each gate with value, threshold and a link to its query; config text is escaped', () => {
    const query = 'sum(rate(x{status="success"}[5m])) > 0 & <b>';
    const gate = { name: 'success <rate> & more', query, min: 0.995 };
    const request: PhaseRequest = {
      ...OLD_REQUEST,
      gates: [
        {
          ...evaluateMetricGate(gate, { kind: 'scalar', value: '0.97' }),
          query,
          link: prometheusGraphLink('http://prom.example:9090', query),
        },
      ],
      baseline: {
        phase: 0,
        capturedAt: '2026-12-04T21:00:00.000Z',
        source: 'request',
        values: { 'success <rate> & more': 0.999 },
        missing: { 'p95 latency (s)': 'the query returned no data' },
      },
    };
    const { text } = renderPhaseRequest(request);
    expect(text).toContain(
      `:x: success &lt;rate&gt; &amp; more: 0.97 (must be at least 0.995) · <http://prom.example:9090/graph?g0.expr=${encodeURIComponent(query)}&amp;g0.tab=0|query in Prometheus>`,
    );
    expect(text).toContain(
      'Baseline (none was kept for Phase 0, so captured when this advance was asked, 2026-12-04 21:00 UTC): success &lt;rate&gt; &amp; more 0.999, p95 latency (s) no data',
    );
    expect(text).not.toContain('<b>');
  });

  it('shows no link when none was made (no Prometheus) or when it is not a plain http(s) URL', () => {
    const plain = renderPhaseRequest({
      ...OLD_REQUEST,
      gates: [{ name: 'e', passed: false, detail: 'no Prometheus configured' }],
    }).text;
    expect(plain).toContain(':x: e: no Prometheus configured');
    expect(plain).not.toContain('query in Prometheus');
    const odd = renderPhaseRequest({
      ...OLD_REQUEST,
      gates: [{ name: 'e', passed: true, detail: '1', link: 'javascript:alert(1)' }],
    }).text;
    expect(odd).not.toContain('query in Prometheus');
  });
});

describe('stored requests', () => {
  it('load without baselines (recorded before them) and with them', () => {
    expect(phaseRequestsSchema.safeParse({ r1: OLD_REQUEST }).success).toBe(true);
    const baseline = {
      phase: 1,
      capturedAt: '2026-12-04T22:00:00.000Z',
      source: 'phase-start',
      values: { e: 0.01 },
    };
    expect(
      phaseRequestsSchema.safeParse({
        r1: { ...OLD_REQUEST, baseline, nextBaseline: { ...baseline, phase: 2 } },
      }).success,
    ).toBe(true);
    expect(
      phaseRequestsSchema.safeParse({
        r1: { ...OLD_REQUEST, nextBaseline: { ...baseline, values: { e: 'x' } } },
      }).success,
    ).toBe(false);
  });
});
