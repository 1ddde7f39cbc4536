/**
 * Octet stuffing for transmission (RFC 1662 §4.2): each octet flagged in the escape table
 * goes out as `7d, octet ^ 0x20`.
 */

import type { ScanMode } from './accm.js';
import { ESCAPE, ESCAPE_XOR } from './constants.js';
import { findSpecial } from './scan.js';

/** Runs shorter than this are moved with a byte loop rather than `copyWithin`. */
const BULK_MIN = 24;
/** After this many ordinary octets in a row, look for the next special octet in bulk. */
const QUIET = 16;

/** Escapes `src[from, end)` into `dst` at `o`, one octet at a time; returns the new `o`. */
export function escapeInto(
  dst: Uint8Array,
  o: number,
  src: Uint8Array,
  from: number,
  end: number,
  table: Uint8Array,
): number {
  for (let i = from; i < end; i++) {
    const b = src[i];
    if (table[b] === 0) {
      dst[o++] = b;
    } else {
      dst[o++] = ESCAPE;
      dst[o++] = b ^ ESCAPE_XOR;
    }
  }
  return o;
}

/**
 * Escapes `buf[r, end)` in place towards the front of the same buffer, writing from `o`.
 * The caller staged the raw octets at the far end of a region big enough for the worst
 * case, so the write position never overtakes the read position (`o + escapes <= r`).
 * Long runs of ordinary octets are found word-at-a-time and moved with `copyWithin`;
 * where specials are dense the loop works octet by octet. Returns the new `o`.
 */
export function escapeInPlace(
  buf: Uint8Array,
  words: Int32Array | null,
  o: number,
  r: number,
  end: number,
  table: Uint8Array,
  mode: ScanMode,
): number {
  let quiet = QUIET;
  while (r < end) {
    if (quiet >= QUIET) {
      const j = findSpecial(buf, words, r, end, table, mode);
      const run = j - r;
      if (run >= BULK_MIN) {
        buf.copyWithin(o, r, j);
        o += run;
      } else {
        for (; r < j; r++) buf[o++] = buf[r];
      }
      if (j >= end) return o;
      r = j;
      quiet = 0;
    }
    const b = buf[r++];
    if (table[b] === 0) {
      buf[o++] = b;
      quiet++;
    } else {
      buf[o++] = ESCAPE;
      buf[o++] = b ^ ESCAPE_XOR;
      quiet = 0;
    }
  }
  return o;
}
