import { describe, expect, it } from 'vitest';
import { FlagCatalog } from '../../../src/core/flags/catalog.js';
import { phasePosition, SEED_PHASES } from '../../../src/core/phases/plan.js';
import { describeStep, findRunbook } from '../../../src/core/runbooks/runbook.js';
import { SEED_RUNBOOKS } from '../../../src/core/runbooks/seed.js';

const catalog = new FlagCatalog();
const defaults = catalog.defaults();
const on = (...keys: string[]) => ({ ...defaults, ...Object.fromEntries(keys.map((key) => [key, true])) });

describe('phase position', () => {
  it('starts in phase 0, with phase 1 turning on its new flags', () => {
    const position = phasePosition(SEED_PHASES, defaults, defaults);
    expect(position.current.number).toBe(0);
    expect(position.toEnable).toEqual([
      'adaptive_timing',
      'timing_calibration',
      'retry_logic',
      'flag_validation',
    ]);
  });

  it('is in phase 1 when all phase-1 flags are on, and says which phase-2 flags are missing', () => {
    const position = phasePosition(
      SEED_PHASES,
      on('adaptive_timing', 'timing_calibration', 'retry_logic', 'flag_validation'),
      defaults,
    );
    expect(position.current.name).toBe('Foundation');
    expect(position.toEnable).toEqual(['intelligent_ordering', 'urgent_first']);
  });

  it('reports flags of later phases that are on ahead of the plan', () => {
    const position = phasePosition(SEED_PHASES, on('parallel_delivery'), defaults);
    expect(position.current.number).toBe(0);
    expect(position.ahead).toEqual(['parallel_delivery']);
  });

  it('only refers to flags the catalog knows', () => {
    for (const phase of SEED_PHASES)
      for (const key of phase.flags) expect(catalog.get(key), key).toBeDefined();
    for (const runbook of SEED_RUNBOOKS) {
      for (const step of runbook.steps)
        if (step.kind === 'flag') expect(catalog.get(step.flag), step.flag).toBeDefined();
    }
  });
});

describe('runbooks', () => {
  it('are found by name or by the alert they answer', () => {
    expect(findRunbook(SEED_RUNBOOKS, 'high_latency')?.name).toBe('high-latency');
    expect(findRunbook(SEED_RUNBOOKS, 'MessagingSystemDown')?.name).toBe('system-down');
    expect(findRunbook(SEED_RUNBOOKS, 'nope')).toBeUndefined();
  });

  it('describe each step in words', () => {
    expect(describeStep({ kind: 'flag', title: 'Off', flag: 'adaptive_timing', enabled: false })).toBe(
      'Off: turn `adaptive_timing` off',
    );
    expect(describeStep({ kind: 'rollback', title: 'Back', deployment: 'messaging-core' })).toBe(
      'Back: roll back Deployment `messaging-core`',
    );
  });
});
