/**
 * Byte-level mutations of real inputs: bit flips, truncation, splicing,
 * length-field edits, HDLC escape/flag injection, interesting values,
 * block duplication and deletion. Each call applies 1-4 mutations.
 */
import type { Rng } from './rng.js';

const INTERESTING = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7d, 0x7e, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x5e, 0x5d, 0xc0,
  0x21,
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** One mutation of `src` (never modified); `other` is a second corpus entry for splicing. */
export function mutateOnce(
  rng: Rng,
  src: Uint8Array,
  other: Uint8Array,
  maxLen: number,
): Uint8Array {
  const b: Uint8Array = Uint8Array.from(src);
  const n = b.length;
  switch (rng.int(12)) {
    case 0: // bit flips
      for (let k = rng.range(1, 4); k > 0 && n > 0; k--) b[rng.int(n)] ^= 1 << rng.int(8);
      return b;
    case 1: // random byte
      if (n > 0) b[rng.int(n)] = rng.u32() & 0xff;
      return b;
    case 2: // interesting byte
      if (n > 0) b[rng.int(n)] = rng.pick(INTERESTING);
      return b;
    case 3: // truncate
      return b.subarray(0, rng.int(n + 1));
    case 4: // drop a prefix
      return b.subarray(rng.int(n + 1));
    case 5: {
      // splice: prefix of one, suffix of the other
      const cut = rng.int(n + 1);
      const cut2 = rng.int(other.length + 1);
      return concat(b.subarray(0, cut), other.subarray(cut2)).subarray(0, maxLen);
    }
    case 6: {
      // length-field edit: a 16-bit big-endian field (control packet length) or an 8-bit TLV length
      if (n >= 4 && rng.chance(0.5)) {
        const off = rng.chance(0.7) ? 2 : rng.int(n - 1);
        const cur = (b[off] << 8) | b[off + 1];
        const v =
          rng.pick([0, 1, 3, 4, 5, cur - 1, cur + 1, n, n + 1, n - 1, 0xffff, rng.int(0x10000)]) &
          0xffff;
        b[off] = v >>> 8;
        b[off + 1] = v & 0xff;
      } else if (n >= 2) {
        const off = rng.int(n);
        b[off] = rng.pick([0, 1, 2, 3, 4, 6, 0xff, b[off] + 1, b[off] - 1, rng.int(256)]) & 0xff;
      }
      return b;
    }
    case 7: {
      // escape / flag injection
      const at = rng.int(n + 1);
      const ins = rng.pick([
        [0x7d],
        [0x7e],
        [0x7d, 0x7e],
        [0x7d, 0x5e],
        [0x7d, 0x5d],
        [0x7e, 0x7e],
        [0x7d, 0x7d],
        [0xff, 0x03],
      ]);
      const out = new Uint8Array(n + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return out.subarray(0, maxLen);
    }
    case 8: {
      // insert random bytes
      const at = rng.int(n + 1);
      const ins = rng.bytes(rng.range(1, 16));
      return concat(concat(b.subarray(0, at), ins), b.subarray(at)).subarray(0, maxLen);
    }
    case 9: {
      // duplicate a block
      if (n === 0) return b;
      const s = rng.int(n);
      const e = Math.min(n, s + rng.range(1, 64));
      return concat(concat(b.subarray(0, e), b.subarray(s, e)), b.subarray(e)).subarray(0, maxLen);
    }
    case 10: {
      // delete a block
      if (n === 0) return b;
      const s = rng.int(n);
      const e = Math.min(n, s + rng.range(1, 16));
      return concat(b.subarray(0, s), b.subarray(e));
    }
    default: {
      // overwrite a run with one value
      if (n === 0) return b;
      const s = rng.int(n);
      const e = Math.min(n, s + rng.range(1, 8));
      b.fill(rng.pick(INTERESTING), s, e);
      return b;
    }
  }
}

/** 1-4 mutations in a row. */
export function mutate(rng: Rng, src: Uint8Array, other: Uint8Array, maxLen = 4096): Uint8Array {
  let b = src;
  for (let k = rng.range(1, 4); k > 0; k--) b = mutateOnce(rng, b, other, maxLen);
  return b;
}
