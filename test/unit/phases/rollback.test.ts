import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagCatalog, SEED_FLAGS } from '../../../src/core/flags/catalog.js';
import { applyChanges, ruleViolations } from '../../../src/core/flags/rules.js';
import { phasePosition, planPhaseRollback, SEED_PHASES } from '../../../src/core/phases/plan.js';

const catalog = new FlagCatalog();
const defaults = catalog.defaults();

describe('phase rollback', () => {
  it('has nothing before phase 0', () => {
    expect(planPhaseRollback(SEED_PHASES, catalog, defaults)).toBeUndefined();
  });

  it('from phase 3 turns off parallel delivery and pooling, keeping concurrency control', () => {
    const all = Object.fromEntries(SEED_FLAGS.map((flag) => [flag.key, flag.key !== 'custom_ordering']));
    const plan = planPhaseRollback(SEED_PHASES, catalog, all)!;
    expect(plan.from.number).toBe(3);
    expect(plan.changes.map((change) => change.key)).toEqual(['parallel_delivery', 'resource_pooling']);
  });

  it('always lands exactly one phase lower, within the rules, with baseline flags unchanged', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...SEED_FLAGS.map((flag) => flag.key)), fc.boolean()),
        (overrides) => {
          const values = { ...defaults, ...overrides };
          if (ruleViolations(catalog, values).length > 0) return true;
          const plan = planPhaseRollback(SEED_PHASES, catalog, values);
          const position = phasePosition(SEED_PHASES, values, defaults);
          if (!plan) {
            expect(position.current.number).toBe(0);
            return true;
          }
          const after = applyChanges(values, plan.changes);
          expect(phasePosition(SEED_PHASES, after, defaults).current.number).toBe(
            position.current.number - 1,
          );
          expect(ruleViolations(catalog, after)).toEqual([]);
          for (const flag of SEED_FLAGS.filter((f) => f.defaultEnabled))
            expect(after[flag.key]).toBe(values[flag.key]);
          return true;
        },
      ),
    );
  });
});
