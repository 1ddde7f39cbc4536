/**
 * Octet stuffing for transmission (RFC 1662 §4.2): each octet flagged in the escape table
 * goes out as `7d, octet ^ 0x20`.
 */

import { ESCAPE, ESCAPE_XOR } from './constants.js';

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
