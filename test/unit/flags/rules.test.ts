import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagCatalog, SEED_FLAGS } from '../../../src/core/flags/catalog.js';
import { resolveFlagName } from '../../../src/core/flags/names.js';
import {
  applyChanges,
  planDisableAll,
  planFlagChange,
  ruleViolations,
} from '../../../src/core/flags/rules.js';

const catalog = new FlagCatalog();
const keys = SEED_FLAGS.map((flag) => flag.key);

describe('the seed catalog', () => {
  it('has the 22 flags of MessagingFeatureFlags in seven groups with their defaults', () => {
    expect(SEED_FLAGS).toHaveLength(22);
    expect(new Set(SEED_FLAGS.map((flag) => flag.group)).size).toBe(7);
    const onByDefault = SEED_FLAGS.filter((flag) => flag.defaultEnabled).map((flag) => flag.envVar);
    expect(onByDefault).toEqual([
      'MESSAGING_TIMING_FALLBACK',
      'MESSAGING_CONCURRENCY_CONTROL',
      'MESSAGING_METRICS_COLLECTION',
      'MESSAGING_LOGGING_ENHANCED',
      'MESSAGING_DASHBOARD',
      'MESSAGING_ALERTING',
      'MESSAGING_PRE_FLIGHT_CHECKS',
      'MESSAGING_HEALTH_CHECKS',
      'MESSAGING_CIRCUIT_BREAKER',
    ]);
    expect(catalog.require('adaptive_timing').attribute).toBe('ADAPTIVE_TIMING_ENABLED');
    expect(SEED_FLAGS.filter((flag) => flag.safety).map((flag) => flag.key)).toEqual([
      'pre_flight_checks',
      'health_checks',
      'circuit_breaker',
    ]);
  });

  it('resolves every name form, case-insensitively', () => {
    for (const flag of SEED_FLAGS) {
      for (const form of [
        flag.key,
        flag.key.replace(/_/g, '-'),
        flag.envVar,
        flag.attribute,
        flag.envVar.toLowerCase(),
        flag.key.toUpperCase(),
      ]) {
        const resolved = resolveFlagName(catalog, form);
        expect(resolved.ok && resolved.flag.key, form).toBe(flag.key);
      }
    }
  });

  it('suggests the nearest flag for a typo, and nothing for gibberish', () => {
    const typo = resolveFlagName(catalog, 'exponental-backof');
    expect(typo.ok).toBe(false);
    expect(!typo.ok && typo.suggestion?.key).toBe('exponential_backoff');
    const noise = resolveFlagName(catalog, 'zzzzzzzzzzzzzzzzzzzzzzzzzzzz');
    expect(!noise.ok && noise.suggestion).toBeUndefined();
  });
});

describe('flag rules', () => {
  const defaults = catalog.defaults();

  it('refuses enabling a flag whose requirement is off, saying how to fix it', () => {
    for (const [key, needs] of [
      ['exponential_backoff', 'retry_logic'],
      ['error_classification', 'retry_logic'],
      ['timing_calibration', 'adaptive_timing'],
      ['urgent_first', 'intelligent_ordering'],
      ['custom_ordering', 'intelligent_ordering'],
    ] as const) {
      const plan = planFlagChange(catalog, defaults, key, true);
      expect(plan.ok).toBe(false);
      expect(!plan.ok && plan.error).toContain(`needs ${needs}`);
      expect(!plan.ok && plan.hint).toBe(`/flags enable ${needs}`);
    }
  });

  it('keeps urgent_first and custom_ordering mutually exclusive', () => {
    const values = { ...defaults, intelligent_ordering: true, urgent_first: true };
    const plan = planFlagChange(catalog, values, 'custom_ordering', true);
    expect(!plan.ok && plan.error).toContain('mutually exclusive');
    expect(!plan.ok && plan.hint).toBe('/flags disable urgent_first');
  });

  it('turns off dependents with the flag they need, and asks before a safety flag', () => {
    const values = { ...defaults, retry_logic: true, exponential_backoff: true, error_classification: true };
    const plan = planFlagChange(catalog, values, 'retry_logic', false);
    expect(plan.ok && plan.changes.map((change) => change.key)).toEqual([
      'retry_logic',
      'exponential_backoff',
      'error_classification',
    ]);
    expect(plan.ok && plan.needsConfirmation).toBe(false);
    const safety = planFlagChange(catalog, defaults, 'health_checks', false);
    expect(safety.ok && safety.needsConfirmation).toBe(true);
  });

  it('disable-all turns off exactly the default-off flags that are on', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.boolean()), (overrides) => {
        const values = { ...defaults, ...overrides };
        const changes = planDisableAll(catalog, values);
        const after = applyChanges(values, changes);
        for (const flag of SEED_FLAGS) {
          if (flag.defaultEnabled) expect(after[flag.key]).toBe(values[flag.key]);
          else expect(after[flag.key]).toBe(false);
        }
        expect(changes.every((change) => change.from && !change.to)).toBe(true);
      }),
    );
  });

  it('any sequence of accepted changes keeps every rule satisfied', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...keys), fc.boolean()), { maxLength: 60 }), (steps) => {
        let values = defaults;
        for (const [key, enabled] of steps) {
          const plan = planFlagChange(catalog, values, key, enabled);
          if (plan.ok) values = applyChanges(values, plan.changes);
          expect(ruleViolations(catalog, values)).toEqual([]);
        }
      }),
    );
  });

  it('reports rules broken by values set elsewhere', () => {
    expect(ruleViolations(catalog, { ...defaults, exponential_backoff: true })).toEqual([
      'exponential_backoff is on but needs retry_logic, which is off',
    ]);
  });
});
