import type { FlagCatalog, FlagDefinition, FlagValues } from './catalog.js';

export interface FlagChange {
  key: string;
  from: boolean;
  to: boolean;
}

export type ChangePlan =
  | { ok: true; changes: FlagChange[]; needsConfirmation: boolean; confirmationReason?: string }
  | { ok: false; error: string; hint: string };

/**
 * Plans turning one flag on or off. Enabling refuses when a requirement is off or a conflicting
 * flag is on (the operator decides, the bot does not guess); disabling also turns off whatever
 * depends on the flag, so the result always satisfies the rules.
 */
export function planFlagChange(
  catalog: FlagCatalog,
  values: FlagValues,
  key: string,
  enabled: boolean,
): ChangePlan {
  const flag = catalog.require(key);
  if (values[key] === enabled) return { ok: true, changes: [], needsConfirmation: false };
  return enabled ? planEnable(values, flag) : planDisable(catalog, values, flag);
}

function planEnable(values: FlagValues, flag: FlagDefinition): ChangePlan {
  const missing = flag.requires.filter((key) => !values[key]);
  if (missing.length > 0) {
    return {
      ok: false,
      error: `${flag.key} needs ${listOf(missing)} to be on first.`,
      hint: missing.map((key) => `/flags enable ${key}`).join(', then '),
    };
  }
  const conflicting = flag.conflictsWith.filter((key) => values[key]);
  if (conflicting.length > 0) {
    return {
      ok: false,
      error: `${flag.key} and ${listOf(conflicting)} are mutually exclusive, and ${listOf(conflicting)} is on.`,
      hint: conflicting.map((key) => `/flags disable ${key}`).join(', then '),
    };
  }
  return { ok: true, changes: [{ key: flag.key, from: false, to: true }], needsConfirmation: false };
}

function planDisable(catalog: FlagCatalog, values: FlagValues, flag: FlagDefinition): ChangePlan {
  const off = new Set<string>();
  const visit = (key: string) => {
    if (off.has(key) || !values[key]) return;
    off.add(key);
    for (const dependent of catalog.dependentsOf(key)) visit(dependent.key);
  };
  visit(flag.key);
  const changes = catalog.flags
    .filter((candidate) => off.has(candidate.key))
    .map((candidate) => ({ key: candidate.key, from: true, to: false }));
  const safetyFlags = changes.map((change) => catalog.require(change.key)).filter((f) => f.safety);
  return {
    ok: true,
    changes,
    needsConfirmation: safetyFlags.length > 0,
    confirmationReason:
      safetyFlags.length > 0
        ? `${listOf(safetyFlags.map((f) => f.key))} ${safetyFlags.length === 1 ? 'is a safety flag' : 'are safety flags'}: turning it off removes a protection you may need during an incident.`
        : undefined,
  };
}

/**
 * The kill switch: every new feature (each flag whose default is off) that is on goes off.
 * Baseline protections, on by default, stay as they are: they are what you need in an incident.
 */
export function planDisableAll(catalog: FlagCatalog, values: FlagValues): FlagChange[] {
  return catalog.flags
    .filter((flag) => !flag.defaultEnabled && values[flag.key])
    .map((flag) => ({ key: flag.key, from: true, to: false }));
}

/** Rules broken by a set of values (e.g. a ConfigMap edited by hand). */
export function ruleViolations(catalog: FlagCatalog, values: FlagValues): string[] {
  const problems: string[] = [];
  for (const flag of catalog.flags) {
    if (!values[flag.key]) continue;
    for (const required of flag.requires) {
      if (!values[required]) problems.push(`${flag.key} is on but needs ${required}, which is off`);
    }
    for (const other of flag.conflictsWith) {
      if (values[other] && flag.key < other) problems.push(`${flag.key} and ${other} are both on`);
    }
  }
  return problems;
}

export function applyChanges(values: FlagValues, changes: readonly FlagChange[]): FlagValues {
  const next = { ...values };
  for (const change of changes) next[change.key] = change.to;
  return next;
}

function listOf(keys: readonly string[]): string {
  if (keys.length <= 1) return keys.join('');
  return `${keys.slice(0, -1).join(', ')} and ${keys[keys.length - 1]}`;
}
