/**
 * One walk through a runbook, as data: which step is current, who did what and when. Pure: the
 * caller passes the time in each event; `next` never reads a clock and never mutates its input.
 *
 * A step's state follows what really happened (issue 10): a step whose action needs a
 * confirmation waits for it and is done only once that confirmation was executed and succeeded;
 * a cancelled, failed or expired confirmation leaves it current. A change made directly, or a
 * check that must be made by hand, offers Done instead of claiming it.
 */
export type StepStatus = 'pending' | 'current' | 'done' | 'skipped' | 'failed' | 'aborted';

/** A confirmation a step's Do it opened and that has not been settled yet. */
export interface AwaitedConfirmation {
  /** The opener reference the confirmation carries back with its outcome. */
  ref: string;
  /** Who opened it, and when (ISO 8601). */
  by: string;
  at: string;
}

export interface StepState {
  status: StepStatus;
  /** Who settled the step (done, skipped, failed or aborted). */
  by?: string;
  /** When it was settled (ISO 8601). */
  at?: string;
  /** What happened, in words (a query result, "confirmation opened", an error). */
  note?: string;
  /** Confirmations opened from this step and not settled yet (absent in records before issue 10). */
  awaiting?: AwaitedConfirmation[];
  /** Done may be clicked: the change was made directly, or the check has to be made by hand. */
  doneOffered?: boolean;
  /** Where the step's result can be followed (a Slack message), when its action said so. */
  link?: string;
}

export interface RunbookRun {
  id: string;
  runbook: string;
  startedBy: string;
  startedAt: string;
  /** Set when the run ended, whether its last step was settled or it was aborted. */
  completedAt?: string;
  /** Set when an operator aborted the run (`/runbook abort`). */
  aborted?: { by: string; at: string };
  steps: StepState[];
}

/** What a confirmation ended as, as its opener hears it. */
export type ConfirmationResult = 'executed' | 'failed' | 'cancelled' | 'expired';

/**
 * What can happen to a run.
 * - `done`, `skip`, `fail` settle the current step and make the next one current.
 * - `note` records something on the current step without moving on; `offerDone` adds Done to its
 *   buttons (the change was made directly, or the check must be made by hand).
 * - `opened`: the current step's Do it opened a confirmation; the step stays current and waits.
 * - `confirmation`: how a confirmation opened from `step` ended. `executed` settles the step as
 *   done (also a step skipped or aborted while it waited: the change was made after all);
 *   `failed`, `cancelled` and `expired` leave it where it is, with the note.
 * - `abort`: the run ends now; the current step is marked aborted, later ones stay pending.
 * An event naming another step than the current one (a stale or repeated click), or a
 * confirmation the step is not waiting for, changes nothing.
 */
export type RunEvent =
  | { type: 'done' | 'skip' | 'fail'; step: number; by: string; at: string; note?: string; link?: string }
  | { type: 'note'; step: number; note: string; offerDone?: boolean }
  | { type: 'opened'; step: number; ref: string; by: string; at: string; note: string }
  | {
      type: 'confirmation';
      step: number;
      ref: string;
      result: ConfirmationResult;
      /** Who confirmed or cancelled (absent when it expired). */
      by?: string;
      at: string;
      note: string;
      link?: string;
    }
  | { type: 'abort'; by: string; at: string; note?: string };

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

export function isAborted(run: RunbookRun): boolean {
  return run.aborted !== undefined;
}

/** Whether the step is waiting for a confirmation it opened. */
export function isAwaiting(step: StepState | undefined): boolean {
  return (step?.awaiting?.length ?? 0) > 0;
}

export function next(run: RunbookRun, event: RunEvent): RunbookRun {
  if (event.type === 'abort') return abort(run, event);
  if (event.type === 'confirmation') return confirmationEnded(run, event);
  const current = currentStep(run);
  if (current === undefined || event.step !== current) return run;
  const state = run.steps[current]!;
  if (event.type === 'note') {
    return withStep(run, current, {
      ...state,
      note: event.note,
      ...(event.offerDone || state.doneOffered ? { doneOffered: true } : {}),
    });
  }
  if (event.type === 'opened') {
    if (state.awaiting?.some((awaited) => awaited.ref === event.ref)) return run;
    return withStep(run, current, {
      ...state,
      note: event.note,
      awaiting: [...(state.awaiting ?? []), { ref: event.ref, by: event.by, at: event.at }],
    });
  }
  const status: StepStatus = event.type === 'done' ? 'done' : event.type === 'skip' ? 'skipped' : 'failed';
  return settleCurrent(run, current, {
    status,
    by: event.by,
    at: event.at,
    ...keptNote(state, event.note),
    ...(event.link !== undefined ? { link: event.link } : {}),
    // Still recorded: a confirmation executed after a skip makes the step done after all.
    ...(state.awaiting?.length ? { awaiting: state.awaiting } : {}),
  });
}

function confirmationEnded(run: RunbookRun, event: Extract<RunEvent, { type: 'confirmation' }>): RunbookRun {
  const state = run.steps[event.step];
  if (!state?.awaiting?.some((awaited) => awaited.ref === event.ref)) return run;
  const awaiting = state.awaiting.filter((awaited) => awaited.ref !== event.ref);
  const rest = awaiting.length ? { awaiting } : {};
  const link = event.link !== undefined ? { link: event.link } : {};
  if (event.result !== 'executed') {
    const { awaiting: _settled, ...without } = state;
    // Current: back to its buttons, saying why. Settled already: only the wait ends.
    return withStep(run, event.step, {
      ...without,
      ...rest,
      ...(state.status === 'current' ? { note: event.note } : {}),
    });
  }
  const { awaiting: _settled, doneOffered: _offered, ...without } = state;
  const done: StepState = {
    ...without,
    ...rest,
    status: 'done',
    ...(event.by !== undefined ? { by: event.by } : {}),
    at: event.at,
    note: event.note,
    ...link,
  };
  if (state.status === 'current') return settleCurrent(run, event.step, done);
  // Skipped, failed or aborted while it waited: the change happened after all, so it is done. The
  // run does not move: the next step already became current (or the run ended).
  if (state.status === 'pending') return run;
  if (state.status === 'done') {
    const { awaiting: _ended, ...kept } = state;
    return withStep(run, event.step, { ...kept, ...rest });
  }
  return withStep(run, event.step, done);
}

function abort(run: RunbookRun, event: Extract<RunEvent, { type: 'abort' }>): RunbookRun {
  if (isComplete(run)) return run;
  const current = currentStep(run);
  const steps = run.steps.slice();
  if (current !== undefined) {
    const state = steps[current]!;
    const { doneOffered: _offered, ...kept } = state;
    steps[current] = {
      ...kept,
      status: 'aborted',
      by: event.by,
      at: event.at,
      ...keptNote(state, event.note),
    };
  }
  return { ...run, steps, completedAt: event.at, aborted: { by: event.by, at: event.at } };
}

function keptNote(state: StepState, note: string | undefined): { note?: string } {
  if (note !== undefined) return { note };
  return state.note ? { note: state.note } : {};
}

function withStep(run: RunbookRun, index: number, state: StepState): RunbookRun {
  const steps = run.steps.slice();
  steps[index] = state;
  return { ...run, steps };
}

/** Settles the current step as `state` and makes the next one current, or completes the run. */
function settleCurrent(run: RunbookRun, current: number, state: StepState): RunbookRun {
  const steps = run.steps.slice();
  steps[current] = state;
  const following = current + 1;
  if (following < steps.length) {
    steps[following] = { ...steps[following]!, status: 'current' };
    return { ...run, steps };
  }
  return { ...run, steps, completedAt: state.at ?? run.startedAt };
}

export interface RunSummary {
  done: number;
  skipped: number;
  failed: number;
  /** Steps the run never reached, and the one it was aborted on. */
  notDone: number;
  aborted: boolean;
  /** Milliseconds from start to completion (or to `now` while in progress). */
  durationMs: number;
}

export function summarize(run: RunbookRun, now: string): RunSummary {
  const count = (status: StepStatus) => run.steps.filter((step) => step.status === status).length;
  return {
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
    notDone: count('pending') + count('aborted') + count('current'),
    aborted: isAborted(run),
    durationMs: Math.max(0, Date.parse(run.completedAt ?? now) - Date.parse(run.startedAt)),
  };
}
