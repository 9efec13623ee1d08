import type { FlagCatalog, FlagValues } from '../flags/catalog.js';
import { applyChanges, type FlagChange, planFlagChange } from '../flags/rules.js';
import { type Phase, phasePosition } from './plan.js';

export type PhaseAdvance =
  | { ok: true; from: Phase; to: Phase; changes: FlagChange[] }
  | { ok: false; from: Phase; error: string };

/**
 * Going forward one phase turns on the next phase's flags that are off, each through the flag rules
 * (dependencies first). If any of them cannot be turned on, nothing is: the reason is returned.
 */
export function planPhaseAdvance(
  phases: readonly Phase[],
  catalog: FlagCatalog,
  values: FlagValues,
): PhaseAdvance {
  const { current, next } = phasePosition(phases, values, catalog.defaults());
  if (!next)
    return {
      ok: false,
      from: current,
      error: `Phase ${current.number} — ${current.name} is the last phase of the plan.`,
    };
  let after = values;
  const changes: FlagChange[] = [];
  let pending = next.flags.filter((key) => !values[key]);
  // Dependency order: enable what can be enabled, then retry the rest, until nothing moves.
  while (pending.length > 0) {
    const refused: Array<{ key: string; error: string }> = [];
    for (const key of pending) {
      const plan = planFlagChange(catalog, after, key, true);
      if (!plan.ok) {
        refused.push({ key, error: plan.error });
        continue;
      }
      after = applyChanges(after, plan.changes);
      changes.push(...plan.changes);
    }
    if (refused.length === pending.length) {
      return {
        ok: false,
        from: current,
        error: `\`${refused[0]!.key}\` cannot be turned on: ${refused[0]!.error}`,
      };
    }
    pending = refused.map((entry) => entry.key);
  }
  return { ok: true, from: current, to: next, changes };
}
