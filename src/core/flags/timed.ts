import { formatDuration, parseDuration } from '../duration.js';
import type { FlagCatalog, FlagValues } from './catalog.js';
import { applyChanges, type FlagChange, planFlagChange } from './rules.js';
import type { Actor, ChangeChannel } from './state.js';

/**
 * Timed changes (issue 14 item 5): `/flags enable <flag> --for 2h` changes the flag now and changes it
 * back by itself when the time is up, unless someone changed it (or anything it changed) meanwhile.
 *
 * The rule is a function of plain data: what the timed change did (its changes and the audit entries
 * that recorded them), when it reverts, and the flags' latest audit entries. The audit log is the
 * truth: a revert is still owed only while, for every flag it changed, the latest audit entry is the
 * one the timed change wrote. So a later change, whoever made it, cancels the revert even when the
 * record of the cancellation was lost in a crash; a timed change whose own commit never happened
 * (crash or refusal between the record and the commit) never reverts anything.
 */

export const MIN_TIMED_MS = 60_000;
export const MAX_TIMED_MS = 7 * 24 * 3_600_000;

/** The audit entry one flag's part of a timed change was recorded with. */
export interface AuditMark {
  flag: string;
  seq: number;
  at: string;
}

export interface TimedChange {
  /** The flag named in the command; the record's key. */
  flag: string;
  /** Every flag the timed change changed (a disable also turns off what depends on the flag). */
  changes: FlagChange[];
  /** The audit entries of those changes, one per flag. */
  entries: AuditMark[];
  /** ms; when the change was made and when it reverts. */
  setAt: number;
  revertAt: number;
  by: Actor;
  via: ChangeChannel;
  reason?: string;
}

/** Pending timed changes, by flag key. */
export type TimedChanges = Record<string, TimedChange>;

export type DurationParse = { ok: true; ms: number } | { ok: false; error: string };

/** `--for` / `"for"`: a duration between a minute and a week. */
export function parseTimedDuration(text: string): DurationParse {
  const ms = parseDuration(text);
  if (ms === undefined) {
    return {
      ok: false,
      error: `expected a duration like 30m, 2h or 1d after --for, got "${text.slice(0, 40)}"`,
    };
  }
  if (ms < MIN_TIMED_MS || ms > MAX_TIMED_MS) {
    return {
      ok: false,
      error: `a timed change lasts between ${formatDuration(MIN_TIMED_MS)} and ${formatDuration(MAX_TIMED_MS)}; ${formatDuration(ms)} is out of range`,
    };
  }
  return { ok: true, ms };
}

/** The record of a timed change about to be committed with these audit entries. */
export function timedChange(input: {
  flag: string;
  changes: readonly FlagChange[];
  entries: readonly AuditMark[];
  setAt: number;
  durationMs: number;
  by: Actor;
  via: ChangeChannel;
  reason?: string;
}): TimedChange {
  return {
    flag: input.flag,
    changes: input.changes.map((change) => ({ ...change })),
    entries: input.entries.map((entry) => ({ ...entry })),
    setAt: input.setAt,
    revertAt: input.setAt + input.durationMs,
    by: input.by,
    via: input.via,
    ...(input.reason !== undefined && { reason: input.reason }),
  };
}

/** The timed changes whose time has come, oldest first. */
export function dueTimedChanges(timed: TimedChanges, now: number): TimedChange[] {
  return Object.values(timed)
    .filter((change) => change.revertAt <= now)
    .sort((a, b) => a.revertAt - b.revertAt || a.flag.localeCompare(b.flag));
}

/**
 * Whether the revert is still owed: for each flag it changed, the latest audit entry (`latest`) is
 * still the one it wrote. False after any later change to one of those flags, and for a timed change
 * that was never committed.
 */
export function stillInEffect(change: TimedChange, latest: (flag: string) => AuditMark | undefined): boolean {
  return change.entries.every((mark) => {
    const found = latest(mark.flag);
    return found !== undefined && found.seq === mark.seq && found.at === mark.at;
  });
}

/**
 * The keys of the pending timed changes a committed change set cancels: every one that changed a flag
 * changed again now. `keep` (the timed change being made in this very commit) is never cancelled.
 */
export function cancelledBy(
  timed: TimedChanges,
  changed: readonly FlagChange[],
  keep?: Pick<TimedChange, 'flag' | 'setAt'>,
): string[] {
  const keys = new Set(changed.map((change) => change.key));
  return Object.values(timed)
    .filter((change) => !(keep && change.flag === keep.flag && change.setAt === keep.setAt))
    .filter((change) => change.changes.some((part) => keys.has(part.key)))
    .map((change) => change.flag);
}

export interface RevertPlan {
  /** What to commit, valid under the rules (a re-enable waits for what it needs, a disable takes its dependents). */
  changes: FlagChange[];
  /** Flags that cannot go back under the rules now (e.g. a requirement someone turned off). */
  skipped: Array<{ key: string; why: string }>;
}

/** Puts back every flag the timed change changed, in an order the rules allow, against `values` now. */
export function planRevert(catalog: FlagCatalog, values: FlagValues, change: TimedChange): RevertPlan {
  let after = values;
  const changes: FlagChange[] = [];
  let remaining = change.changes.map((part) => ({ key: part.key, to: part.from }));
  const why = new Map<string, string>();
  let progress = true;
  while (remaining.length > 0 && progress) {
    progress = false;
    const next: typeof remaining = [];
    for (const target of remaining) {
      if (after[target.key] === target.to) {
        progress = true;
        continue;
      }
      const plan = planFlagChange(catalog, after, target.key, target.to);
      if (!plan.ok) {
        why.set(target.key, plan.error);
        next.push(target);
        continue;
      }
      after = applyChanges(after, plan.changes);
      for (const part of plan.changes) {
        const earlier = changes.findIndex((made) => made.key === part.key);
        if (earlier >= 0) changes.splice(earlier, 1);
        if (values[part.key] !== part.to)
          changes.push({ key: part.key, from: values[part.key]!, to: part.to });
      }
      progress = true;
    }
    remaining = next;
  }
  return {
    changes,
    skipped: remaining.map((target) => ({ key: target.key, why: why.get(target.key) ?? 'not allowed now' })),
  };
}
