/**
 * Word-at-a-time octet stuffing with the FCS-16 computed in the same pass (RFC 1662 §4.2,
 * §C.2). The information field is read, and the output written, 32 bits at a time through
 * DataViews (unaligned access costs about the same as aligned). Per 8-octet block:
 * - no special octet (the usual case with ACCM 0): FCS and two word stores;
 * - eight special octets (zeros with ACCM 0xffffffff, runs of 0x7e): sixteen output
 *   octets built with ALU operations, four word stores;
 * - otherwise octet by octet without branches (escapes at random places would make
 *   branches mispredict).
 * No allocation, no per-octet FCS except for the last < 8 octets.
 */
import { ESCAPE, ESCAPE_XOR } from './constants.js';
import { FCS16_TABLES, fcs16PairTables } from './fcs16.js';

/** Running FCS in and out of {@link stuffWords} (avoids returning two numbers). */
export interface FcsCarry {
  fcs: number;
}

/**
 * Escapes `src[0, n)` into `out` at octet offset `o`, runs the FCS over the raw octets
 * starting from `st.fcs` and leaves the result there; returns the new `o`.
 * `view` reads `src` (octet i at `view` offset `base + i`); `ov` is a DataView over the
 * whole of `out`, which needs 2n + 8 octets of room after `o`. `ctl` says whether `table` marks
 * control characters (ACCM non-zero); `table` must mark nothing outside 0x00-0x1f, 0x7d
 * and 0x7e.
 */
export function stuffWords(
  out: Uint8Array,
  ov: DataView,
  o: number,
  src: Uint8Array,
  view: DataView,
  base: number,
  n: number,
  table: Uint8Array,
  ctl: boolean,
  pairs: Int32Array | null,
  st: FcsCarry,
): number {
  const t = FCS16_TABLES;
  const { p23, p45, p67 } = fcs16PairTables();
  let c = st.fcs;
  let i = 0;
  const last = n - 8;
  for (; i <= last; i += 8) {
    const x0 = view.getInt32(base + i, true);
    const x1 = view.getInt32(base + i + 4, true);
    c ^= x0 & 0xffff;
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + (c >>> 8)] ^
      p23[x0 >>> 16] ^
      p45[x1 & 0xffff] ^
      p67[x1 >>> 16];
    const a0 = x0 ^ 0x7e7e7e7e;
    const b0 = x0 ^ 0x7d7d7d7d;
    const a1 = x1 ^ 0x7e7e7e7e;
    const b1 = x1 ^ 0x7d7d7d7d;
    let h =
      ((a0 - 0x01010101) & ~a0) |
      ((b0 - 0x01010101) & ~b0) |
      ((a1 - 0x01010101) & ~a1) |
      ((b1 - 0x01010101) & ~b1);
    if (ctl) h |= ((x0 - 0x20202020) & ~x0) | ((x1 - 0x20202020) & ~x1);
    if ((h & 0x80808080) === 0) {
      ov.setInt32(o, x0, true);
      ov.setInt32(o + 4, x1, true);
      o += 8;
      continue;
    }
    const e0 = table[x0 & 0xff];
    const e1 = table[(x0 >>> 8) & 0xff];
    const e2 = table[(x0 >>> 16) & 0xff];
    const e3 = table[x0 >>> 24];
    const e4 = table[x1 & 0xff];
    const e5 = table[(x1 >>> 8) & 0xff];
    const e6 = table[(x1 >>> 16) & 0xff];
    const e7 = table[x1 >>> 24];
    if ((e0 & e1 & e2 & e3 & e4 & e5 & e6 & e7) !== 0) {
      // Eight specials (zeros with ACCM 0xffffffff, runs of 0x7e): [7d y0 7d y1] … per word.
      const y0 = x0 ^ 0x20202020;
      const y1 = x1 ^ 0x20202020;
      ov.setInt32(o, 0x007d007d | ((y0 & 0xff) << 8) | ((y0 & 0xff00) << 16), true);
      ov.setInt32(o + 4, 0x007d007d | ((y0 >>> 8) & 0xff00) | (y0 & 0xff000000), true);
      ov.setInt32(o + 8, 0x007d007d | ((y1 & 0xff) << 8) | ((y1 & 0xff00) << 16), true);
      ov.setInt32(o + 12, 0x007d007d | ((y1 >>> 8) & 0xff00) | (y1 & 0xff000000), true);
      o += 16;
      continue;
    }
    if (pairs !== null) {
      // Mixed: two octets per lookup and word store.
      ov.setInt32(o, pairs[x0 & 0xffff], true);
      o += 2 + e0 + e1;
      ov.setInt32(o, pairs[x0 >>> 16], true);
      o += 2 + e2 + e3;
      ov.setInt32(o, pairs[x1 & 0xffff], true);
      o += 2 + e4 + e5;
      ov.setInt32(o, pairs[x1 >>> 16], true);
      o += 2 + e6 + e7;
      continue;
    }
    // Mixed: branch-free per octet. Write `7d` or the octet, then the octet ^ 0x20 after
    // it, and advance by 1 + escape: an unused second octet is overwritten by the next.
    o = put(out, o, x0 & 0xff, e0);
    o = put(out, o, (x0 >>> 8) & 0xff, e1);
    o = put(out, o, (x0 >>> 16) & 0xff, e2);
    o = put(out, o, x0 >>> 24, e3);
    o = put(out, o, x1 & 0xff, e4);
    o = put(out, o, (x1 >>> 8) & 0xff, e5);
    o = put(out, o, (x1 >>> 16) & 0xff, e6);
    o = put(out, o, x1 >>> 24, e7);
  }
  for (; i < n; i++) {
    const b = src[i];
    c = (c >>> 8) ^ t[(c ^ b) & 0xff];
    if (table[b] === 0) {
      out[o++] = b;
    } else {
      out[o++] = ESCAPE;
      out[o++] = b ^ ESCAPE_XOR;
    }
  }
  st.fcs = c;
  return o;
}

/** One octet, escaped when `e` is 1, without a branch; writes one octet past the result. */
function put(out: Uint8Array, o: number, b: number, e: number): number {
  out[o] = b ^ (-e & (b ^ ESCAPE));
  out[o + 1] = b ^ ESCAPE_XOR;
  return o + 1 + e;
}
