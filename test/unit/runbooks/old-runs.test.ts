import { describe, expect, it } from 'vitest';
import { isComplete, next, startRun } from '../../../src/core/runbooks/run.js';
import {
  FINISHED_RUNS_KEPT,
  type RunbookRuns,
  withoutOldRuns,
} from '../../../src/services/runbook-service.js';

function runs(finished: number, running: number): RunbookRuns {
  const all: RunbookRuns = {};
  for (let i = 0; i < finished + running; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    let run = startRun(`run-${i}`, `book-${i}`, 1, 'U1', at);
    if (i < finished) run = next(run, { type: 'abort', by: 'U1', at });
    expect(isComplete(run)).toBe(i < finished);
    all[run.id] = { run, channel: 'C1', ts: '1.1', stepTs: [] };
  }
  return all;
}

describe('runbook runs kept', () => {
  it('keeps every running run and only the newest finished ones', () => {
    const kept = withoutOldRuns(runs(FINISHED_RUNS_KEPT + 5, 3));
    expect(Object.keys(kept)).toHaveLength(FINISHED_RUNS_KEPT + 3);
    for (let i = 0; i < 5; i++) expect(kept[`run-${i}`]).toBeUndefined();
    expect(kept[`run-${FINISHED_RUNS_KEPT + 7}`]).toBeDefined();
  });
  it('changes nothing below the bound', () => {
    const few = runs(3, 1);
    expect(withoutOldRuns(few)).toBe(few);
  });
});
