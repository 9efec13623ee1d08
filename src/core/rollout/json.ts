/** Structural equality of JSON values (key order ignored), as `apiequality.Semantic.DeepEqual` on decoded JSON. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const left = definedEntries(a as Record<string, unknown>);
  const right = definedEntries(b as Record<string, unknown>);
  if (left.length !== right.length) return false;
  const other = Object.fromEntries(right);
  return left.every(([key, value]) => key in other && jsonEqual(value, other[key]));
}

function definedEntries(object: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(object).filter(([, value]) => value !== undefined);
}

/** A deep copy of a JSON value. */
export function jsonClone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
