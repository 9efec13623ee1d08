/**
 * One walk through a runbook, as data: which step is current, who did what and when. Pure: the
 * caller passes the time in each event; `next` never reads a clock and never mutates its input.
 */
export type StepStatus = 'pending' | 'current' | 'done' | 'skipped' | 'failed';

export interface StepState {
  status: StepStatus;
  /** Who settled the step (done, skipped or failed). */
  by?: string;
  /** When it was settled (ISO 8601). */
  at?: string;
  /** What happened, in words (a query result, "confirmation opened", an error). */
  note?: string;
}

export interface RunbookRun {
  id: string;
  runbook: string;
  startedBy: string;
  startedAt: string;
  completedAt?: string;
  steps: StepState[];
}

/**
 * What can happen to a run. `done`, `skip` and `fail` settle the step they name and make the next
 * one current; `note` records something on the current step without moving on (e.g. a query that
 * could not run). An event naming another step than the current one (a stale or repeated click)
 * changes nothing.
 */
export type RunEvent =
  | { type: 'done' | 'skip' | 'fail'; step: number; by: string; at: string; note?: string }
  | { type: 'note'; step: number; note: string };

export function startRun(id: string, runbook: string, stepCount: number, by: string, at: string): RunbookRun {
  if (stepCount < 1) throw new Error('a runbook has at least one step');
  return {
    id,
    runbook,
    startedBy: by,
    startedAt: at,
    steps: Array.from({ length: stepCount }, (_, index) => ({
      status: index === 0 ? ('current' as const) : ('pending' as const),
    })),
  };
}

/** The index of the current step, or undefined once the run is complete. */
export function currentStep(run: RunbookRun): number | undefined {
  const index = run.steps.findIndex((step) => step.status === 'current');
  return index < 0 ? undefined : index;
}

export function isComplete(run: RunbookRun): boolean {
  return run.completedAt !== undefined;
}

export function next(run: RunbookRun, event: RunEvent): RunbookRun {
  const current = currentStep(run);
  if (current === undefined || event.step !== current) return run;
  if (event.type === 'note') {
    const steps = run.steps.slice();
    steps[current] = { ...steps[current]!, note: event.note };
    return { ...run, steps };
  }
  const status: StepStatus = event.type === 'done' ? 'done' : event.type === 'skip' ? 'skipped' : 'failed';
  const steps = run.steps.slice();
  steps[current] = {
    status,
    by: event.by,
    at: event.at,
    ...(event.note !== undefined
      ? { note: event.note }
      : steps[current]!.note
        ? { note: steps[current]!.note }
        : {}),
  };
  const following = current + 1;
  if (following < steps.length) {
    steps[following] = { ...steps[following]!, status: 'current' };
    return { ...run, steps };
  }
  return { ...run, steps, completedAt: event.at };
}

export interface RunSummary {
  done: number;
  skipped: number;
  failed: number;
  /** Milliseconds from start to completion (or to `now` while in progress). */
  durationMs: number;
}

export function summarize(run: RunbookRun, now: string): RunSummary {
  const count = (status: StepStatus) => run.steps.filter((step) => step.status === status).length;
  return {
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
    durationMs: Math.max(0, Date.parse(run.completedAt ?? now) - Date.parse(run.startedAt)),
  };
}
