import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagCatalog, type FlagValues, SEED_FLAGS } from '../../../src/core/flags/catalog.js';
import { diffFlags, plannedValues } from '../../../src/core/flags/diff.js';
import { applyChanges, planFlagChange, ruleViolations } from '../../../src/core/flags/rules.js';
import {
  type AuditMark,
  cancelledBy,
  dueTimedChanges,
  MAX_TIMED_MS,
  MIN_TIMED_MS,
  parseTimedDuration,
  planRevert,
  stillInEffect,
  type TimedChange,
  timedChange,
} from '../../../src/core/flags/timed.js';
import { SEED_PHASES } from '../../../src/core/phases/plan.js';

const catalog = new FlagCatalog();
const keys = SEED_FLAGS.map((flag) => flag.key);
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-04T22:00:00Z');
const AT = new Date(T0).toISOString();
const by = { id: 'U0OPERATOR' };

/** Valid values: the defaults, then random changes, each made only where the rules allow it. */
const validValues = fc
  .array(fc.tuple(fc.constantFrom(...keys), fc.boolean()), { maxLength: 30 })
  .map((steps) => {
    let values: FlagValues = catalog.defaults();
    for (const [key, enabled] of steps) {
      const plan = planFlagChange(catalog, values, key, enabled);
      if (plan.ok) values = applyChanges(values, plan.changes);
    }
    return values;
  });

/** The timed change `set(key, enabled)` would make on `values`, or undefined when it changes nothing. */
function timedOn(values: FlagValues, key: string, enabled: boolean, seq = 10) {
  const plan = planFlagChange(catalog, values, key, enabled);
  if (!plan.ok || plan.changes.length === 0) return undefined;
  const record = timedChange({
    flag: key,
    changes: plan.changes,
    entries: plan.changes.map((change, index) => ({ flag: change.key, seq: seq + index + 1, at: AT })),
    setAt: T0,
    durationMs: 2 * HOUR,
    by,
    via: 'slack',
  });
  return { record, after: applyChanges(values, plan.changes) };
}

describe('timed changes: the revert plan', () => {
  it('puts every value back and breaks no rule, whatever the flag and direction (property)', () => {
    fc.assert(
      fc.property(validValues, fc.constantFrom(...keys), fc.boolean(), (values, key, enabled) => {
        const timed = timedOn(values, key, enabled);
        if (!timed) return;
        const revert = planRevert(catalog, timed.after, timed.record);
        const back = applyChanges(timed.after, revert.changes);
        expect(revert.skipped).toEqual([]);
        expect(back).toEqual(values);
        expect(ruleViolations(catalog, back)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('always yields values within the rules, even after other changes meanwhile (property)', () => {
    fc.assert(
      fc.property(
        validValues,
        fc.constantFrom(...keys),
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.boolean()), { maxLength: 10 }),
        (values, key, enabled, meanwhile) => {
          const timed = timedOn(values, key, enabled);
          if (!timed) return;
          let now = timed.after;
          for (const [other, on] of meanwhile) {
            const plan = planFlagChange(catalog, now, other, on);
            if (plan.ok) now = applyChanges(now, plan.changes);
          }
          const revert = planRevert(catalog, now, timed.record);
          expect(ruleViolations(catalog, applyChanges(now, revert.changes))).toEqual([]);
          for (const change of revert.changes) expect(now[change.key]).toBe(change.from);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('re-enables a disabled flag and its dependents in an order the rules allow', () => {
    const values = { ...catalog.defaults(), retry_logic: true, exponential_backoff: true };
    const timed = timedOn(values, 'retry_logic', false)!;
    expect(timed.record.changes.map((change) => change.key)).toEqual(['retry_logic', 'exponential_backoff']);
    const revert = planRevert(catalog, timed.after, timed.record);
    expect(revert.changes).toEqual([
      { key: 'retry_logic', from: false, to: true },
      { key: 'exponential_backoff', from: false, to: true },
    ]);
  });

  it('skips, with the reason, what the rules no longer allow', () => {
    // urgent_first was turned off for 2h; meanwhile its requirement intelligent_ordering went off.
    const values = { ...catalog.defaults(), intelligent_ordering: true, urgent_first: true };
    const timed = timedOn(values, 'urgent_first', false)!;
    const now = applyChanges(timed.after, [{ key: 'intelligent_ordering', from: true, to: false }]);
    const revert = planRevert(catalog, now, timed.record);
    expect(revert.changes).toEqual([]);
    expect(revert.skipped).toEqual([
      { key: 'urgent_first', why: expect.stringContaining('needs intelligent_ordering') },
    ]);
  });
});

describe('timed changes: when a revert is owed', () => {
  const record = timedOn(catalog.defaults(), 'adaptive_timing', true, 4)!.record;
  const own: AuditMark = { flag: 'adaptive_timing', seq: 5, at: AT };

  it('is due at its time exactly, not a millisecond before', () => {
    const timed = { adaptive_timing: record };
    expect(dueTimedChanges(timed, T0 + 2 * HOUR - 1)).toEqual([]);
    expect(dueTimedChanges(timed, T0 + 2 * HOUR)).toEqual([record]);
  });

  it('is due iff its time has come, oldest first (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...keys), { minLength: 1 }),
        fc.array(fc.integer({ min: 0, max: 10 * HOUR }), { minLength: 22, maxLength: 22 }),
        fc.integer({ min: 0, max: 10 * HOUR }),
        (flags, offsets, now) => {
          const timed = Object.fromEntries(
            flags.map((flag, index) => [flag, { ...record, flag, revertAt: T0 + offsets[index]! }]),
          );
          const due = dueTimedChanges(timed, T0 + now);
          expect(due.map((change) => change.flag).sort()).toEqual(
            flags.filter((_, index) => offsets[index]! <= now).sort(),
          );
          for (let i = 1; i < due.length; i++)
            expect(due[i - 1]!.revertAt).toBeLessThanOrEqual(due[i]!.revertAt);
        },
      ),
    );
  });

  it('is owed while its own audit entry is the latest for the flag', () => {
    expect(stillInEffect(record, () => own)).toBe(true);
  });

  it('is not owed after any later change to the flag (a later audit entry)', () => {
    expect(stillInEffect(record, () => ({ flag: 'adaptive_timing', seq: 6, at: AT }))).toBe(false);
  });

  it('is not owed when its change was never committed (no entry, or another one with the same number)', () => {
    expect(stillInEffect(record, () => undefined)).toBe(false);
    expect(stillInEffect(record, () => ({ flag: 'adaptive_timing', seq: 4, at: AT }))).toBe(false);
    expect(
      stillInEffect(record, () => ({ flag: 'adaptive_timing', seq: 5, at: '2026-12-04T23:00:00.000Z' })),
    ).toBe(false);
  });

  it('is cancelled by a change set touching any flag it changed, except its own commit', () => {
    const cascade = timedOn(
      { ...catalog.defaults(), retry_logic: true, error_classification: true },
      'retry_logic',
      false,
    )!.record as TimedChange;
    const timed = { adaptive_timing: record, retry_logic: cascade };
    expect(cancelledBy(timed, [{ key: 'error_classification', from: false, to: true }])).toEqual([
      'retry_logic',
    ]);
    expect(cancelledBy(timed, [{ key: 'dashboard', from: true, to: false }])).toEqual([]);
    expect(cancelledBy(timed, [{ key: 'adaptive_timing', from: false, to: true }], record)).toEqual([]);
    expect(cancelledBy(timed, [{ key: 'adaptive_timing', from: true, to: false }])).toEqual([
      'adaptive_timing',
    ]);
  });
});

describe('timed changes: the duration', () => {
  it('takes a minute to a week, and says why otherwise', () => {
    expect(parseTimedDuration('2h')).toEqual({ ok: true, ms: 2 * HOUR });
    expect(parseTimedDuration('1h30m')).toEqual({ ok: true, ms: 1.5 * HOUR });
    expect(parseTimedDuration('1m')).toEqual({ ok: true, ms: MIN_TIMED_MS });
    expect(parseTimedDuration('7d')).toEqual({ ok: true, ms: MAX_TIMED_MS });
    expect(parseTimedDuration('59s')).toMatchObject({
      ok: false,
      error: expect.stringContaining('out of range'),
    });
    expect(parseTimedDuration('8d')).toMatchObject({
      ok: false,
      error: expect.stringContaining('out of range'),
    });
    expect(parseTimedDuration('two hours')).toMatchObject({
      ok: false,
      error: expect.stringContaining('expected a duration like 30m, 2h or 1d'),
    });
  });
});

describe('/flags diff in the core', () => {
  it('against the defaults: every flag not at its seed default', () => {
    const values = { ...catalog.defaults(), adaptive_timing: true, dashboard: false };
    expect(diffFlags(catalog, SEED_PHASES, values, 'defaults').differences).toEqual([
      { key: 'adaptive_timing', value: true, expected: false },
      { key: 'dashboard', value: false, expected: true },
    ]);
  });

  it("against the plan: the current phase's flags (and earlier phases') count as expected", () => {
    const phase1 = Object.fromEntries(SEED_PHASES[1]!.flags.map((key) => [key, true]));
    const values = {
      ...catalog.defaults(),
      ...phase1,
      urgent_first: false,
      intelligent_ordering: true,
      dashboard: false,
    };
    const diff = diffFlags(catalog, SEED_PHASES, values, 'plan');
    expect(diff.phase?.number).toBe(1);
    expect(diff.differences).toEqual([
      { key: 'intelligent_ordering', value: true, expected: false },
      { key: 'dashboard', value: false, expected: true },
    ]);
    expect(diffFlags(catalog, SEED_PHASES, values, 'defaults').differences.map((d) => d.key)).toContain(
      'adaptive_timing',
    );
  });

  it('the plan of a phase is cumulative, and of phase 0 is the defaults (property)', () => {
    expect(plannedValues(catalog, SEED_PHASES, 0)).toEqual(catalog.defaults());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), (phase) => {
        const planned = plannedValues(catalog, SEED_PHASES, phase);
        for (const earlier of SEED_PHASES.filter((p) => p.number <= phase)) {
          for (const key of earlier.flags) expect(planned[key]).toBe(true);
        }
        expect(ruleViolations(catalog, planned)).toEqual([]);
        // At the plan, nothing differs from the plan.
        expect(diffFlags(catalog, SEED_PHASES, planned, 'plan').differences).toEqual([]);
      }),
    );
  });
});
