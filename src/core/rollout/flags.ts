/**
 * The flag ConfigMap's data as the bot reads and writes it: keys are the flags' env var names,
 * values `true`/`false`. The bot owns only those keys; everything else in the map is left alone.
 */

export interface FlagKey {
  key: string;
  envVar: string;
}

export interface ConfigMapReading {
  /** Values of the owned keys that are present and well-formed. */
  values: Record<string, boolean>;
  /** Owned keys absent from the map. */
  missing: string[];
  /** Owned keys with a value other than true/false (as written). */
  invalid: Array<{ key: string; envVar: string; value: string }>;
}

export function parseFlagValue(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function readFlagData(flags: readonly FlagKey[], data: Record<string, string>): ConfigMapReading {
  const reading: ConfigMapReading = { values: {}, missing: [], invalid: [] };
  for (const { key, envVar } of flags) {
    const text = data[envVar];
    if (text === undefined) {
      reading.missing.push(key);
      continue;
    }
    const value = parseFlagValue(text);
    if (value === undefined) reading.invalid.push({ key, envVar, value: text });
    else reading.values[key] = value;
  }
  return reading;
}

/** The data with the given flags written (as `true`/`false`) and every other key kept. */
export function writeFlagData(
  flags: readonly FlagKey[],
  data: Record<string, string>,
  values: Record<string, boolean>,
): Record<string, string> {
  const next = { ...data };
  for (const { key, envVar } of flags) {
    const value = values[key];
    if (value !== undefined) next[envVar] = String(value);
  }
  return next;
}

export interface FlagDrift {
  key: string;
  from: boolean;
  to: boolean;
}

/** Flags whose value in the cluster differs from the bot's: `from` the bot's, `to` the cluster's. */
export function flagDrift(
  botValues: Record<string, boolean>,
  clusterValues: Record<string, boolean>,
): FlagDrift[] {
  return Object.entries(clusterValues)
    .filter(([key, value]) => botValues[key] !== undefined && botValues[key] !== value)
    .map(([key, to]) => ({ key, from: !to, to }));
}
