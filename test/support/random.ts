/**
 * Seeded randomness for tests: the seed comes from `TEST_SEED` when set (to replay a failure), else
 * from the clock, and is printed so any run can be repeated exactly.
 */
export function seededRandom(label: string): { seed: number; next: () => number } {
  const fromEnv = Number(process.env.TEST_SEED);
  const seed = Number.isInteger(fromEnv) && process.env.TEST_SEED ? fromEnv : Date.now() % 2 ** 31;
  // Test output, not bot output: the seed is what a developer needs to replay this run.
  process.stdout.write(`[seed] ${label}: TEST_SEED=${seed}\n`);
  return { seed, next: mulberry32(seed) };
}

/** mulberry32: a small, fast 32-bit generator with a full period; plenty for test inputs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
