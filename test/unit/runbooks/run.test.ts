import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentStep,
  isComplete,
  next,
  type RunbookRun,
  type RunEvent,
  type StepStatus,
  startRun,
  summarize,
} from '../../../src/core/runbooks/run.js';
import { findRunbook } from '../../../src/core/runbooks/runbook.js';
import { SEED_RUNBOOKS } from '../../../src/core/runbooks/seed.js';
import { renderRunHeader, renderStep } from '../../../src/messages/runbook.js';
import { formatQueryResult } from '../../../src/services/runbook-service.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:03:30.000Z';

const statuses = (run: RunbookRun) => run.steps.map((step) => step.status);

describe('a runbook run', () => {
  it('starts on the first step, the rest pending', () => {
    const run = startRun('r1', 'high-latency', 3, 'U1', T0);
    expect(statuses(run)).toEqual(['current', 'pending', 'pending']);
    expect(currentStep(run)).toBe(0);
    expect(isComplete(run)).toBe(false);
  });

  it('moves on when the current step is done or skipped, recording who and when', () => {
    let run = startRun('r1', 'x', 3, 'U1', T0);
    run = next(run, { type: 'done', step: 0, by: 'U2', at: T1, note: 'value 0.01' });
    run = next(run, { type: 'skip', step: 1, by: 'U3', at: T1 });
    expect(statuses(run)).toEqual(['done', 'skipped', 'current']);
    expect(run.steps[0]).toEqual({ status: 'done', by: 'U2', at: T1, note: 'value 0.01' });
    expect(run.steps[1]).toMatchObject({ status: 'skipped', by: 'U3' });
    run = next(run, { type: 'fail', step: 2, by: 'U2', at: T2 });
    expect(statuses(run)).toEqual(['done', 'skipped', 'failed']);
    expect(isComplete(run)).toBe(true);
    expect(run.completedAt).toBe(T2);
    expect(summarize(run, T2)).toEqual({ done: 1, skipped: 1, failed: 1, durationMs: 210_000 });
  });

  it('ignores a stale or repeated click and returns the same run', () => {
    const run = next(startRun('r1', 'x', 2, 'U1', T0), { type: 'done', step: 0, by: 'U2', at: T1 });
    expect(next(run, { type: 'done', step: 0, by: 'U3', at: T2 })).toBe(run);
    expect(next(run, { type: 'skip', step: 5, by: 'U3', at: T2 })).toBe(run);
  });

  it('keeps a note on the current step without moving on, and keeps it when the step settles', () => {
    let run = startRun('r1', 'x', 2, 'U1', T0);
    run = next(run, { type: 'note', step: 0, note: 'no Prometheus' });
    expect(run.steps[0]).toEqual({ status: 'current', note: 'no Prometheus' });
    run = next(run, { type: 'skip', step: 0, by: 'U2', at: T1 });
    expect(run.steps[0]).toEqual({ status: 'skipped', by: 'U2', at: T1, note: 'no Prometheus' });
  });

  it('never mutates its input', () => {
    const run = startRun('r1', 'x', 2, 'U1', T0);
    const copy = structuredClone(run);
    next(run, { type: 'done', step: 0, by: 'U2', at: T1 });
    expect(run).toEqual(copy);
  });

  const event: fc.Arbitrary<RunEvent> = fc.oneof(
    fc.record({
      type: fc.constantFrom('done' as const, 'skip' as const, 'fail' as const),
      step: fc.integer({ min: -1, max: 8 }),
      by: fc.constantFrom('U1', 'U2'),
      at: fc.constant(T1),
    }),
    fc.record({
      type: fc.constant('note' as const),
      step: fc.integer({ min: -1, max: 8 }),
      note: fc.string(),
    }),
  );

  it('property: exactly one current step until complete, and steps never go back', () => {
    const settled: StepStatus[] = ['done', 'skipped', 'failed'];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.array(event, { maxLength: 40 }), (count, events) => {
        let run = startRun('r', 'x', count, 'U1', T0);
        let previous = 0;
        for (const item of events) {
          const before = run;
          run = next(run, item);
          const current = run.steps.filter((step) => step.status === 'current').length;
          if (isComplete(run)) {
            expect(current).toBe(0);
            expect(run.steps.every((step) => settled.includes(step.status))).toBe(true);
          } else {
            expect(current).toBe(1);
            const index = currentStep(run)!;
            expect(index).toBeGreaterThanOrEqual(previous);
            previous = index;
            run.steps.forEach((step, i) => {
              if (i < index) expect(settled).toContain(step.status);
              if (i > index) expect(step.status).toBe('pending');
            });
          }
          // A settled step stays settled, exactly as it was.
          before.steps.forEach((step, i) => {
            if (settled.includes(step.status)) expect(run.steps[i]).toEqual(step);
          });
        }
      }),
    );
  });
});

describe('runbook messages', () => {
  const runbook = findRunbook(SEED_RUNBOOKS, 'feature-flag-rollback')!;

  it('shows the current step with its buttons and the others without', () => {
    const run = startRun('r1', runbook.name, runbook.steps.length, 'U1', T0);
    const first = JSON.stringify(renderStep(runbook, run, 0, runbook.steps[0]!).blocks);
    expect(first).toContain('switchyard.runbook.check');
    expect(first).toContain('switchyard.runbook.skip');
    expect(first).toContain('"value":"r1:0"');
    expect(JSON.stringify(renderStep(runbook, run, 1, runbook.steps[1]!).blocks)).not.toContain('actions');
  });

  it('summarises a complete run', () => {
    let run = startRun('r1', runbook.name, runbook.steps.length, 'U1', T0);
    runbook.steps.forEach((_, step) => {
      run = next(run, { type: step % 2 ? 'skip' : 'done', step, by: 'U2', at: T2 });
    });
    const header = renderRunHeader(runbook, run, T2);
    expect(header.text).toBe('Runbook Feature flag issues: complete (2 done, 2 skipped) in 3m30s');
  });

  it('formats query results', () => {
    expect(formatQueryResult({ kind: 'vector', samples: [] })).toContain('no data');
    expect(formatQueryResult({ kind: 'scalar', value: '0.01' })).toBe('Result: `0.01`');
    expect(formatQueryResult({ kind: 'vector', samples: [{ labels: { job: 'a' }, value: '1' }] })).toContain(
      '`{job="a"}` = `1`',
    );
  });
});
