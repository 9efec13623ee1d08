import type { Phase } from '../phases/plan.js';
import { phasePosition } from '../phases/plan.js';
import type { FlagCatalog, FlagValues } from './catalog.js';

/** What `/flags diff` compares against: the seed defaults, or the current phase's plan. */
export type DiffBase = 'defaults' | 'plan';

export interface FlagDifference {
  key: string;
  value: boolean;
  expected: boolean;
}

/**
 * The values the plan expects at a phase: the defaults, with every flag of that phase and of the
 * phases before it on (phases are cumulative).
 */
export function plannedValues(
  catalog: FlagCatalog,
  phases: readonly Phase[],
  phaseNumber: number,
): FlagValues {
  const values = catalog.defaults();
  for (const phase of phases) {
    if (phase.number > phaseNumber) continue;
    for (const key of phase.flags) if (key in values) values[key] = true;
  }
  return values;
}

/** The flags whose value differs from `expected`, in catalog order. */
export function flagDifferences(
  catalog: FlagCatalog,
  values: FlagValues,
  expected: FlagValues,
): FlagDifference[] {
  return catalog.flags
    .map((flag) => ({
      key: flag.key,
      value: values[flag.key] ?? flag.defaultEnabled,
      expected: expected[flag.key] ?? flag.defaultEnabled,
    }))
    .filter((entry) => entry.value !== entry.expected);
}

export interface FlagDiff {
  base: DiffBase;
  /** For `plan`: the phase the flags are at (the highest whose flags are all on). */
  phase?: Phase;
  differences: FlagDifference[];
}

/** The differences against the defaults or against the plan of the phase the flags are at. */
export function diffFlags(
  catalog: FlagCatalog,
  phases: readonly Phase[],
  values: FlagValues,
  base: DiffBase,
): FlagDiff {
  if (base === 'defaults') {
    return { base, differences: flagDifferences(catalog, values, catalog.defaults()) };
  }
  const { current } = phasePosition(phases, values, catalog.defaults());
  return {
    base,
    phase: current,
    differences: flagDifferences(catalog, values, plannedValues(catalog, phases, current.number)),
  };
}
