import type { Alert, Severity } from './types.js';

/** The seed's incident levels, in its words. */
export const SEVERITY_DESCRIPTIONS: Readonly<Record<Severity, string>> = {
  sev1: 'System down, immediate action required',
  sev2: 'Major feature broken, urgent fix needed',
  sev3: 'Minor issue, fix in next deployment',
};

/** Value of the `severity` label → level. Values not listed (and a missing label) are sev3. */
export const DEFAULT_SEVERITY_MAPPING: Readonly<Record<string, Severity>> = {
  critical: 'sev1',
  warning: 'sev2',
  info: 'sev3',
  none: 'sev3',
};

export const SEVERITY_LABEL = 'severity';

/** sev1 is the highest; sorting by rank puts it first. */
const RANK: Readonly<Record<Severity, number>> = { sev1: 0, sev2: 1, sev3: 2 };

/** Negative when `a` is more severe than `b`: `list.sort(compareSeverity)` puts sev1 first. */
export function compareSeverity(a: Severity, b: Severity): number {
  return RANK[a] - RANK[b];
}

/** The highest of the given levels; sev3 for none. */
export function highestSeverity(levels: Iterable<Severity>): Severity {
  let highest: Severity = 'sev3';
  for (const level of levels) if (RANK[level] < RANK[highest]) highest = level;
  return highest;
}

/**
 * The level of one alert from its `severity` label. The lookup is exact first, then lower-cased, and
 * only the mapping's own keys count (a label value like `constructor` is just unknown: sev3).
 */
export function severityOf(
  labels: Readonly<Record<string, string>>,
  mapping: Readonly<Record<string, Severity>> = DEFAULT_SEVERITY_MAPPING,
): Severity {
  const value = Object.hasOwn(labels, SEVERITY_LABEL) ? labels[SEVERITY_LABEL] : undefined;
  if (value === undefined) return 'sev3';
  if (Object.hasOwn(mapping, value)) return mapping[value] ?? 'sev3';
  const lower = value.trim().toLowerCase();
  if (Object.hasOwn(mapping, lower)) return mapping[lower] ?? 'sev3';
  return 'sev3';
}

/**
 * A group's level: the highest among its firing alerts, or among all its alerts when none is firing
 * (so a resolved group still shows what it was). sev3 for an empty group.
 */
export function groupSeverity(
  alerts: Iterable<Alert>,
  mapping: Readonly<Record<string, Severity>> = DEFAULT_SEVERITY_MAPPING,
): Severity {
  const all = [...alerts];
  const firing = all.filter((alert) => alert.status === 'firing');
  return highestSeverity(
    (firing.length > 0 ? firing : all).map((alert) => severityOf(alert.labels, mapping)),
  );
}

/** How the on-call engineer hears of a newly opened group: paged (sev1), mentioned (sev2), or neither. */
export type OncallNotice = 'page' | 'mention' | 'none';

export function oncallNotice(severity: Severity): OncallNotice {
  return severity === 'sev1' ? 'page' : severity === 'sev2' ? 'mention' : 'none';
}
