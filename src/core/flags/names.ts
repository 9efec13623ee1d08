import { distance } from 'fastest-levenshtein';
import type { FlagCatalog, FlagDefinition } from './catalog.js';

export type NameResolution = { ok: true; flag: FlagDefinition } | { ok: false; suggestion?: FlagDefinition };

/** Every accepted spelling of a flag, normalised to lower case with underscores. */
function spellings(flag: FlagDefinition): string[] {
  return [flag.key, flag.envVar.toLowerCase(), flag.attribute.toLowerCase()];
}

function normalise(input: string): string {
  return input.trim().toLowerCase().replace(/-/g, '_');
}

/** Resolves `adaptive-timing`, `MESSAGING_ADAPTIVE_TIMING`, `ADAPTIVE_TIMING_ENABLED`, … to a flag. */
export function resolveFlagName(catalog: FlagCatalog, input: string): NameResolution {
  const wanted = normalise(input);
  for (const flag of catalog.flags) {
    if (spellings(flag).includes(wanted)) return { ok: true, flag };
  }
  return { ok: false, suggestion: nearestFlag(catalog, wanted) };
}

function nearestFlag(catalog: FlagCatalog, wanted: string): FlagDefinition | undefined {
  const bare = wanted.replace(/^messaging_/, '').replace(/_enabled$/, '');
  let best: { flag: FlagDefinition; score: number } | undefined;
  for (const flag of catalog.flags) {
    const score = distance(bare, flag.key);
    if (!best || score < best.score) best = { flag, score };
  }
  // A suggestion further away than half the name is noise, not help.
  if (!best || best.score > Math.max(3, Math.ceil(best.flag.key.length / 2))) return undefined;
  return best.flag;
}
