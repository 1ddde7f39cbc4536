/**
 * Deterministic xorshift32 random source for tests: the engine takes its randomness
 * (magic numbers, ids, challenges) injected, so a seed makes a run reproducible.
 * A zero seed (which xorshift cannot use) becomes `zeroSeed`.
 */
export function seededRandom(seed: number, zeroSeed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || zeroSeed;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
