import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareSeverity,
  DEFAULT_SEVERITY_MAPPING,
  groupSeverity,
  highestSeverity,
  oncallNotice,
  SEVERITY_DESCRIPTIONS,
  severityOf,
} from '../../../src/core/alerts/severity.js';
import type { Severity } from '../../../src/core/alerts/types.js';
import { firing, resolved, T0 } from './builders.js';

describe('severityOf', () => {
  it('maps the default severity labels', () => {
    expect(severityOf({ severity: 'critical' })).toBe('sev1');
    expect(severityOf({ severity: 'warning' })).toBe('sev2');
    expect(severityOf({ severity: 'info' })).toBe('sev3');
    expect(severityOf({ severity: 'none' })).toBe('sev3');
    expect(severityOf({ alertname: 'X' })).toBe('sev3');
  });

  it('treats unknown values as sev3, including names of Object.prototype members', () => {
    expect(severityOf({ severity: 'page' })).toBe('sev3');
    expect(severityOf({ severity: 'constructor' })).toBe('sev3');
    expect(severityOf({ severity: '__proto__' })).toBe('sev3');
    expect(severityOf({ severity: 'toString' })).toBe('sev3');
  });

  it('falls back to the lower-cased value', () => {
    expect(severityOf({ severity: 'CRITICAL' })).toBe('sev1');
    expect(severityOf({ severity: ' Warning ' })).toBe('sev2');
  });

  it('uses a configured mapping', () => {
    const mapping: Record<string, Severity> = { page: 'sev1', ticket: 'sev2' };
    expect(severityOf({ severity: 'page' }, mapping)).toBe('sev1');
    expect(severityOf({ severity: 'ticket' }, mapping)).toBe('sev2');
    expect(severityOf({ severity: 'critical' }, mapping)).toBe('sev3');
  });

  it("keeps the seed's words for each level", () => {
    expect(SEVERITY_DESCRIPTIONS).toEqual({
      sev1: 'System down, immediate action required',
      sev2: 'Major feature broken, urgent fix needed',
      sev3: 'Minor issue, fix in next deployment',
    });
    expect(DEFAULT_SEVERITY_MAPPING).toEqual({
      critical: 'sev1',
      warning: 'sev2',
      info: 'sev3',
      none: 'sev3',
    });
  });
});

describe('group severity', () => {
  it('is the highest among firing alerts', () => {
    const alerts = [
      firing('a', T0, { severity: 'warning' }),
      firing('b', T0, { severity: 'info' }),
      resolved(firing('c', T0, { severity: 'critical' }), T0 + 1),
    ];
    expect(groupSeverity(alerts)).toBe('sev2');
  });

  it('is the highest of all alerts when none is firing, sev3 when empty', () => {
    const alerts = [
      resolved(firing('a', T0, { severity: 'warning' }), T0 + 1),
      resolved(firing('c', T0, { severity: 'critical' }), T0 + 1),
    ];
    expect(groupSeverity(alerts)).toBe('sev1');
    expect(groupSeverity([])).toBe('sev3');
  });

  it('orders sev1 before sev2 before sev3', () => {
    const levels: Severity[] = ['sev3', 'sev1', 'sev2', 'sev1'];
    expect([...levels].sort(compareSeverity)).toEqual(['sev1', 'sev1', 'sev2', 'sev3']);
    expect(highestSeverity(['sev3', 'sev2'])).toBe('sev2');
    expect(highestSeverity([])).toBe('sev3');
  });

  it('pages for sev1, mentions for sev2, neither for sev3', () => {
    expect([oncallNotice('sev1'), oncallNotice('sev2'), oncallNotice('sev3')]).toEqual([
      'page',
      'mention',
      'none',
    ]);
  });

  it('property: the group level is one of its firing alerts’ levels, and none of them is higher', () => {
    const level = fc.constantFrom('critical', 'warning', 'info', 'none', 'bogus', undefined);
    fc.assert(
      fc.property(fc.array(fc.tuple(level, fc.boolean()), { minLength: 1, maxLength: 12 }), (specs) => {
        const alerts = specs.map(([severity, isFiring], index) => {
          const alert = firing(`f${index}`, T0, severity === undefined ? {} : { severity });
          if (severity === undefined) delete alert.labels.severity;
          return isFiring ? alert : resolved(alert, T0 + 1);
        });
        const group = groupSeverity(alerts);
        const firingLevels = alerts.filter((a) => a.status === 'firing').map((a) => severityOf(a.labels));
        const pool = firingLevels.length > 0 ? firingLevels : alerts.map((a) => severityOf(a.labels));
        expect(pool).toContain(group);
        for (const other of pool) expect(compareSeverity(group, other)).toBeLessThanOrEqual(0);
      }),
    );
  });
});
