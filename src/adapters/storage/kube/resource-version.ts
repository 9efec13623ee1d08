/**
 * Whether resourceVersion `a` is older than `b`. Clients should treat them as opaque, but both etcd
 * and the emulator hand out increasing integers, and a cache fed by its own writes and a watch must
 * not let a late event take it back. Anything not an integer is never called older.
 */
export function olderVersion(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}
