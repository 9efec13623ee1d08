import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConfirmationResult,
  currentStep,
  isAwaiting,
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
    expect(summarize(run, T2)).toEqual({
      done: 1,
      skipped: 1,
      failed: 1,
      notDone: 0,
      aborted: false,
      durationMs: 210_000,
    });
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

  const stepIndex = fc.integer({ min: -1, max: 8 });
  const ref = fc.constantFrom('a', 'b', 'c');
  const result = fc.constantFrom<ConfirmationResult>('executed', 'failed', 'cancelled', 'expired');
  const event: fc.Arbitrary<RunEvent> = fc.oneof(
    fc.record({
      type: fc.constantFrom('done' as const, 'skip' as const, 'fail' as const),
      step: stepIndex,
      by: fc.constantFrom('U1', 'U2'),
      at: fc.constant(T1),
    }),
    fc.record({
      type: fc.constant('note' as const),
      step: stepIndex,
      note: fc.string(),
      offerDone: fc.boolean(),
    }),
    fc.record({
      type: fc.constant('opened' as const),
      step: stepIndex,
      ref,
      by: fc.constant('U2'),
      at: fc.constant(T1),
      note: fc.constant('opened'),
    }),
    fc.record({
      type: fc.constant('confirmation' as const),
      step: stepIndex,
      ref,
      result,
      by: fc.constant('U3'),
      at: fc.constant(T2),
      note: fc.constant('outcome'),
    }),
    fc.record({ type: fc.constant('abort' as const), by: fc.constant('U3'), at: fc.constant(T2) }),
  );

  it('property: exactly one current step until complete, and steps never go back', () => {
    const settled: StepStatus[] = ['done', 'skipped', 'failed', 'aborted'];
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
            if (run.aborted) {
              // Aborted: settled up to where it stopped, the rest never reached.
              const reached = run.steps.filter((step) => step.status !== 'pending').length;
              run.steps.forEach((step, i) => {
                expect(i < reached ? settled : ['pending']).toContain(step.status);
              });
            } else {
              expect(run.steps.every((step) => settled.includes(step.status))).toBe(true);
            }
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
          // A settled step stays settled; it only ever becomes done, when a confirmation it waited
          // for was executed after all.
          before.steps.forEach((step, i) => {
            if (!settled.includes(step.status)) return;
            const after = run.steps[i]!;
            if (after.status === step.status) {
              expect({ ...after, awaiting: undefined }).toEqual({ ...step, awaiting: undefined });
            } else {
              expect(after.status).toBe('done');
              expect(item).toMatchObject({ type: 'confirmation', result: 'executed', step: i });
            }
          });
        }
      }),
    );
  });

  it('property: a step is done only by Done or by a confirmation it opened that was executed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.array(event, { maxLength: 40 }), (count, events) => {
        let run = startRun('r', 'x', count, 'U1', T0);
        const openedOn = new Map<string, Set<number>>();
        for (const item of events) {
          const before = run;
          run = next(run, item);
          if (item.type === 'opened' && run !== before) {
            openedOn.set(item.ref, (openedOn.get(item.ref) ?? new Set()).add(item.step));
          }
          run.steps.forEach((step, i) => {
            if (step.status !== 'done' || before.steps[i]!.status === 'done') return;
            if (item.type === 'done') {
              expect(item.step).toBe(i);
              return;
            }
            expect(item).toMatchObject({ type: 'confirmation', result: 'executed', step: i });
            expect(openedOn.get((item as { ref: string }).ref)?.has(i)).toBe(true);
          });
          // Cancelled, failed or expired: the step's status does not change.
          if (item.type === 'confirmation' && item.result !== 'executed') {
            expect(statuses(run)).toEqual(statuses(before));
          }
          // While a step waits for a confirmation, it is current or was settled while waiting.
          run.steps.forEach((step) => {
            if (isAwaiting(step)) expect(step.status).not.toBe('pending');
          });
        }
      }),
    );
  });
});

describe('a step whose action needs a confirmation', () => {
  const opened = (step: number, ref: string, at = T1): RunEvent => ({
    type: 'opened',
    step,
    ref,
    by: 'U2',
    at,
    note: 'confirmation opened',
  });
  const ended = (step: number, ref: string, result: ConfirmationResult, at = T2): RunEvent => ({
    type: 'confirmation',
    step,
    ref,
    result,
    ...(result === 'expired' ? {} : { by: 'U3' }),
    at,
    note: `it ${result}`,
    ...(result === 'executed' ? { link: 'https://slack.com/archives/C1/p1' } : {}),
  });

  it('waits while its confirmation is open: still current, not done', () => {
    const run = next(startRun('r1', 'x', 2, 'U1', T0), opened(0, 'a'));
    expect(statuses(run)).toEqual(['current', 'pending']);
    expect(isAwaiting(run.steps[0])).toBe(true);
    expect(run.steps[0]!.note).toBe('confirmation opened');
  });

  it.each(['cancelled', 'failed', 'expired'] as const)(
    'is still current when the confirmation %s',
    (result) => {
      let run = next(startRun('r1', 'x', 2, 'U1', T0), opened(0, 'a'));
      run = next(run, ended(0, 'a', result));
      expect(statuses(run)).toEqual(['current', 'pending']);
      expect(isAwaiting(run.steps[0])).toBe(false);
      expect(run.steps[0]).toEqual({ status: 'current', note: `it ${result}` });
      // The same outcome again (a second click on an expired confirmation) changes nothing.
      expect(next(run, ended(0, 'a', result))).toBe(run);
    },
  );

  it('is done, linked to the result, once its confirmation was executed', () => {
    let run = next(startRun('r1', 'x', 2, 'U1', T0), opened(0, 'a'));
    run = next(run, ended(0, 'a', 'executed'));
    expect(statuses(run)).toEqual(['done', 'current']);
    expect(run.steps[0]).toEqual({
      status: 'done',
      by: 'U3',
      at: T2,
      note: 'it executed',
      link: 'https://slack.com/archives/C1/p1',
    });
  });

  it('ignores the outcome of a confirmation it is not waiting for', () => {
    const run = next(startRun('r1', 'x', 2, 'U1', T0), opened(0, 'a'));
    expect(next(run, ended(0, 'b', 'executed'))).toBe(run);
    expect(next(run, ended(1, 'a', 'executed'))).toBe(run);
  });

  it('with two confirmations open, one cancelled, is done by the other', () => {
    let run = next(startRun('r1', 'x', 2, 'U1', T0), opened(0, 'a'));
    run = next(run, opened(0, 'b'));
    run = next(run, ended(0, 'a', 'cancelled'));
    expect(run.steps[0]!.awaiting?.map((awaited) => awaited.ref)).toEqual(['b']);
    run = next(run, ended(0, 'b', 'executed'));
    expect(statuses(run)).toEqual(['done', 'current']);
    expect(isAwaiting(run.steps[0])).toBe(false);
  });

  it('skipped while it waited, is done after all when the confirmation then executes; the run does not move', () => {
    let run = next(startRun('r1', 'x', 3, 'U1', T0), opened(0, 'a'));
    run = next(run, { type: 'skip', step: 0, by: 'U2', at: T1 });
    expect(statuses(run)).toEqual(['skipped', 'current', 'pending']);
    run = next(run, ended(0, 'a', 'executed'));
    expect(statuses(run)).toEqual(['done', 'current', 'pending']);
  });

  it('offers Done after a direct change or a check by hand, and keeps offering it', () => {
    let run = next(startRun('r1', 'x', 2, 'U1', T0), {
      type: 'note',
      step: 0,
      note: 'made directly',
      offerDone: true,
    });
    expect(run.steps[0]).toEqual({ status: 'current', note: 'made directly', doneOffered: true });
    run = next(run, { type: 'note', step: 0, note: 'again' });
    expect(run.steps[0]!.doneOffered).toBe(true);
    run = next(run, { type: 'done', step: 0, by: 'U2', at: T1 });
    expect(summarize(run, T1).done).toBe(1);
  });
});

describe('an aborted run', () => {
  it('ends now: the current step aborted, later ones not reached; the summary says so', () => {
    let run = next(startRun('r1', 'x', 3, 'U1', T0), { type: 'done', step: 0, by: 'U2', at: T1 });
    run = next(run, { type: 'abort', by: 'U3', at: T2 });
    expect(statuses(run)).toEqual(['done', 'aborted', 'pending']);
    expect(run.aborted).toEqual({ by: 'U3', at: T2 });
    expect(isComplete(run)).toBe(true);
    expect(currentStep(run)).toBeUndefined();
    expect(summarize(run, T2)).toMatchObject({ done: 1, notDone: 2, aborted: true, durationMs: 210_000 });
    // Nothing moves an aborted run on; aborting again changes nothing.
    expect(next(run, { type: 'done', step: 1, by: 'U2', at: T2 })).toBe(run);
    expect(next(run, { type: 'abort', by: 'U2', at: T2 })).toBe(run);
  });

  it('still records a confirmation that executed after the abort: that change was made', () => {
    let run = next(startRun('r1', 'x', 2, 'U1', T0), {
      type: 'opened',
      step: 0,
      ref: 'a',
      by: 'U2',
      at: T1,
      note: 'opened',
    });
    run = next(run, { type: 'abort', by: 'U3', at: T1 });
    run = next(run, {
      type: 'confirmation',
      step: 0,
      ref: 'a',
      result: 'executed',
      by: 'U2',
      at: T2,
      note: 'ok',
    });
    expect(statuses(run)).toEqual(['done', 'pending']);
    expect(run.aborted).toEqual({ by: 'U3', at: T1 });
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

  it('offers Done on a flag step only once its change was made directly', () => {
    const highLatency = findRunbook(SEED_RUNBOOKS, 'high-latency')!;
    let run = startRun('r1', highLatency.name, highLatency.steps.length, 'U1', T0);
    for (const step of [0, 1]) run = next(run, { type: 'skip', step, by: 'U2', at: T1 });
    const flagStep = highLatency.steps[2]!;
    expect(flagStep.kind).toBe('flag');
    const before = JSON.stringify(renderStep(highLatency, run, 2, flagStep).blocks);
    expect(before).toContain('switchyard.runbook.do');
    expect(before).not.toContain('switchyard.runbook.done');
    run = next(run, {
      type: 'note',
      step: 2,
      note: 'Made directly: `timing_calibration` off',
      offerDone: true,
    });
    const after = JSON.stringify(renderStep(highLatency, run, 2, flagStep).blocks);
    expect(after).toContain('switchyard.runbook.done');
    expect(after).toContain('switchyard.runbook.skip');
  });

  it('shows a waiting step, the link to its result, and only Slack links', () => {
    let run = startRun('r1', runbook.name, runbook.steps.length, 'U1', T0);
    run = next(run, { type: 'done', step: 0, by: 'U2', at: T1 });
    run = next(run, { type: 'opened', step: 1, ref: 'a', by: 'U2', at: T1, note: 'opened <@U9>' });
    const waiting = renderStep(runbook, run, 1, runbook.steps[1]!);
    expect(waiting.text).toBe('2/4 Pull the kill switch (current, waiting for its confirmation)');
    expect(JSON.stringify(waiting.blocks)).toContain('Waiting for the confirmation opened by <@U2>');
    // A note is shown escaped: no mention, no link.
    expect(JSON.stringify(waiting.blocks)).toContain('opened &lt;@U9&gt;');
    const link = 'https://slack.com/archives/C0INCIDENTS/p1700000000000100';
    const done = next(run, {
      type: 'confirmation',
      step: 1,
      ref: 'a',
      result: 'executed',
      by: 'U3',
      at: T2,
      note: 'ok',
      link,
    });
    const rendered = JSON.stringify(renderStep(runbook, done, 1, runbook.steps[1]!).blocks);
    expect(rendered).toContain(`<${link}|The result>`);
    expect(rendered).toContain('Done by <@U3>');
    const forged = {
      ...done,
      steps: done.steps.map((step) => ({ ...step, link: 'https://evil.example/x' })),
    };
    expect(JSON.stringify(renderStep(runbook, forged, 1, runbook.steps[1]!).blocks)).not.toContain('evil');
  });

  it('summarises an aborted run: who aborted it, and the steps never reached', () => {
    let run = startRun('r1', runbook.name, runbook.steps.length, 'U1', T0);
    run = next(run, { type: 'done', step: 0, by: 'U2', at: T1 });
    run = next(run, { type: 'abort', by: 'U3', at: T2 });
    const header = renderRunHeader(runbook, run, T2);
    expect(header.text).toBe(
      'Runbook Feature flag issues: aborted (1 done, 0 skipped, 3 not done) after 3m30s',
    );
    const blocks = JSON.stringify(header.blocks);
    expect(blocks).toContain('*Aborted* by <@U3>');
    expect(blocks).toContain('Pull the kill switch (aborted');
    expect(blocks).toContain('Find the culprit (not reached)');
  });

  it('formats query results', () => {
    expect(formatQueryResult({ kind: 'vector', samples: [] })).toContain('no data');
    expect(formatQueryResult({ kind: 'scalar', value: '0.01' })).toBe('Result: `0.01`');
    expect(formatQueryResult({ kind: 'vector', samples: [{ labels: { job: 'a' }, value: '1' }] })).toContain(
      '`{job="a"}` = `1`',
    );
  });
});
