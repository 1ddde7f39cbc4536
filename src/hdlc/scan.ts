/**
 * Finds the next octet that needs attention (escape on transmit, flag/escape/mapped
 * control character on receive) so that runs of ordinary octets can be handled in bulk.
 * Word-at-a-time ("SWAR") tests look at four octets per step; a hit is confirmed octet
 * by octet against the exact table, so the word tests may over-report but never miss.
 */
import { ScanMode } from './accm.js';

/**
 * Index of the first `i` in `[from, end)` with `table[bytes[i]] !== 0`, or `end`.
 * `words` is an Int32Array over `bytes` (same buffer, offset 0); unused in
 * {@link ScanMode.Table} mode.
 */
export function findSpecial(
  bytes: Uint8Array,
  words: Int32Array | null,
  from: number,
  end: number,
  table: Uint8Array,
  mode: ScanMode,
): number {
  let i = from;
  if (mode === ScanMode.Table || words === null) {
    while (i < end && table[bytes[i]] === 0) i++;
    return i;
  }
  for (;;) {
    while ((i & 3) !== 0) {
      if (i >= end) return end;
      if (table[bytes[i]] !== 0) return i;
      i++;
    }
    let k = i >>> 2;
    const kEnd = end >>> 2;
    if (mode === ScanMode.Flags) {
      for (; k < kEnd; k++) {
        const x = words[k];
        const a = x ^ 0x7e7e7e7e;
        const b = x ^ 0x7d7d7d7d;
        if ((((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
      }
    } else {
      for (; k < kEnd; k++) {
        const x = words[k];
        const a = x ^ 0x7e7e7e7e;
        const b = x ^ 0x7d7d7d7d;
        if (
          (((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b) | ((x - 0x20202020) & ~x)) &
          0x80808080
        ) {
          break;
        }
      }
    }
    i = k << 2;
    // Confirm the word that hit (or look at the tail after the last whole word).
    const stop = Math.min(i + 4, end);
    for (; i < stop; i++) if (table[bytes[i]] !== 0) return i;
    if (i >= end) return end;
  }
}
