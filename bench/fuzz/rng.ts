/** A small, fast, seeded PRNG (xorshift32) for the fuzzers: deterministic per seed. */
export class Rng {
  private x: number;

  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }

  /** Next 32-bit unsigned value. */
  u32(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = this.u32();
      b[i] = v;
      b[i + 1] = v >>> 8;
      b[i + 2] = v >>> 16;
      b[i + 3] = v >>> 24;
    }
    for (; i < n; i++) b[i] = this.u32();
    return b;
  }

  /** A length biased towards small values, at most `max`. */
  len(max: number): number {
    const r = this.int(4);
    if (r === 0) return this.int(Math.min(8, max + 1));
    if (r === 1) return this.int(Math.min(64, max + 1));
    return this.int(max + 1);
  }
}

/** A plain `() => u32` source for engine options. */
export function random32From(rng: Rng): () => number {
  return () => rng.u32();
}
