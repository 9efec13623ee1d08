import type { FlagCatalog, FlagValues } from '../flags/catalog.js';
import { applyChanges, type FlagChange, planFlagChange } from '../flags/rules.js';

/** One phase of the seed's rollout: what it switches on and what must be true before it counts as done. */
export interface Phase {
  number: number;
  name: string;
  week: string;
  objectives: string[];
  /** Flags this phase turns on (cumulative: earlier phases' flags stay on). */
  flags: string[];
  checklist: string[];
}

export const SEED_PHASES: readonly Phase[] = [
  {
    number: 0,
    name: 'Pre-Deployment',
    week: 'Week 1',
    objectives: [
      'Deploy monitoring and observability infrastructure',
      'Establish performance baselines',
      'Configure feature flags infrastructure',
      'Deploy health check endpoints',
    ],
    flags: [],
    checklist: [
      'Feature flags infrastructure deployed',
      'Monitoring and alerting configured',
      'Rollback procedures documented and tested',
      'Performance baselines established',
      'Stakeholder approval obtained',
    ],
  },
  {
    number: 1,
    name: 'Foundation',
    week: 'Week 2',
    objectives: [
      'Deploy adaptive timing engine',
      'Enable basic error handling and retries',
      'Deploy flag validation system',
      'Monitor for regressions',
    ],
    flags: [
      'adaptive_timing',
      'timing_calibration',
      'retry_logic',
      'flag_validation',
      'metrics_collection',
      'logging_enhanced',
    ],
    checklist: [
      'Timing engine deployed and calibrated',
      'Retry logic enabled and tested',
      'Flag validation working correctly',
      'No performance regressions detected',
      'Health checks passing',
    ],
  },
  {
    number: 2,
    name: 'Intelligence',
    week: 'Week 3',
    objectives: [
      'Deploy intelligent agent ordering',
      'Enable enhanced observability',
      'Add performance metrics collection',
      'Test priority-based routing',
    ],
    flags: ['intelligent_ordering', 'urgent_first', 'dashboard', 'alerting'],
    checklist: [
      'Intelligent ordering active',
      'Enhanced dashboard operational',
      'Priority routing validated',
      'Alerting system tested',
      'User feedback collected',
    ],
  },
  {
    number: 3,
    name: 'Scale',
    week: 'Week 4',
    objectives: [
      'Deploy parallel delivery system',
      'Enable concurrency controls',
      'Test resource pooling',
      'Validate performance improvements',
    ],
    flags: ['parallel_delivery', 'concurrency_control', 'resource_pooling'],
    checklist: [
      'Parallel delivery enabled',
      'Concurrency controls working',
      'Resource pooling optimized',
      'Load tests passing',
      'Performance improvements validated',
    ],
  },
];

export interface PhasePosition {
  /** The highest phase whose flags (and all earlier phases' flags) are on. */
  current: Phase;
  next?: Phase;
  /** New features (off by default) of later phases that are on: ahead of the plan in places. */
  ahead: string[];
  /** For the next phase: flags still off that advancing would turn on. */
  toEnable: string[];
}

/** Where the rollout stands, read from the flag values alone (the flags are the truth of what runs). */
export function phasePosition(
  phases: readonly Phase[],
  values: FlagValues,
  defaults: FlagValues,
): PhasePosition {
  let current = phases[0]!;
  for (const phase of phases.slice(1)) {
    if (!phase.flags.every((key) => values[key])) break;
    current = phase;
  }
  const next = phases.find((phase) => phase.number === current.number + 1);
  const later = phases.filter((phase) => phase.number > current.number);
  const ahead = later.flatMap((phase) => phase.flags).filter((key) => values[key] && !defaults[key]);
  const toEnable = next ? next.flags.filter((key) => !values[key]) : [];
  return { current, next, ahead, toEnable };
}

export interface PhaseRollback {
  from: Phase;
  to: Phase;
  /** The phase's new features (off by default) that are on, and whatever depends on them. */
  changes: FlagChange[];
}

/**
 * Going back one phase turns off the new features the current phase turned on. Baseline flags it
 * also lists (observability, concurrency control) stay on: they are protections, not features.
 */
export function planPhaseRollback(
  phases: readonly Phase[],
  catalog: FlagCatalog,
  values: FlagValues,
): PhaseRollback | undefined {
  const { current } = phasePosition(phases, values, catalog.defaults());
  const previous = phases.find((phase) => phase.number === current.number - 1);
  if (!previous) return undefined;
  let after = values;
  const changes: FlagChange[] = [];
  for (const key of current.flags.filter((flag) => !catalog.require(flag).defaultEnabled)) {
    const plan = planFlagChange(catalog, after, key, false);
    if (!plan.ok) continue;
    after = applyChanges(after, plan.changes);
    changes.push(...plan.changes);
  }
  return { from: current, to: previous, changes };
}
