/**
 * 32-bit Frame Check Sequence, RFC 1662 §C.3 (CRC-32: reflected polynomial 0xedb88320,
 * initial value 0xffffffff), table-driven with slicing-by-8 like {@link fcs16}.
 */
import { buildSlicingTables } from './crc-tables.js';

/** Initial FCS value (RFC 1662 §C.3 `PPPINITFCS32`). */
export const FCS32_INIT = 0xffffffff;
/** Residue of a good frame, FCS octets included (RFC 1662 §C.3 `PPPGOODFCS32`). */
export const FCS32_GOOD = 0xdebb20e3;

/** Eight tables of 256 entries laid end to end: table k starts at k * 256. */
export const FCS32_TABLES: Int32Array = buildSlicingTables(0xedb88320, new Int32Array(256 * 8));

/**
 * Runs the FCS over `data[start, end)` starting from `fcs` and returns the running value as
 * an unsigned 32-bit number, not complemented: transmitters send `~fcs` LSB first; a
 * receiver checks that the value over the whole frame is {@link FCS32_GOOD}.
 */
export function fcs32(
  data: Uint8Array,
  start = 0,
  end: number = data.length,
  fcs = FCS32_INIT,
): number {
  const t = FCS32_TABLES;
  let c = fcs | 0;
  let i = Math.max(start, 0);
  const e = Math.min(end, data.length);
  const e8 = e - 7;
  for (; i < e8; i += 8) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + ((c >>> 8) & 0xff)] ^
      t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < e; i++) c = (c >>> 8) ^ t[(c ^ data[i]) & 0xff];
  return c >>> 0;
}
