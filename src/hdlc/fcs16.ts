/**
 * 16-bit Frame Check Sequence, RFC 1662 §C.2 (CRC-16/X-25: reflected polynomial 0x8408,
 * initial value 0xffff). Table-driven, slicing-by-8: eight 256-entry tables, T[k][b] being
 * the CRC of octet b followed by k zero octets, so eight octets cost eight lookups.
 */
import { buildSlicingTables } from './crc-tables.js';

/** Initial FCS value (RFC 1662 §C.2 `PPPINITFCS16`). */
export const FCS16_INIT = 0xffff;
/** Residue of a good frame, FCS octets included (RFC 1662 §C.2 `PPPGOODFCS16`). */
export const FCS16_GOOD = 0xf0b8;

/** Eight tables of 256 entries laid end to end: table k starts at k * 256. */
export const FCS16_TABLES: Uint16Array = buildSlicingTables(0x8408, new Uint16Array(256 * 8));

/** The three octet-pair tables of the word loops (see {@link fcs16PairTables}). */
export interface Fcs16PairTables {
  p23: Uint16Array;
  p45: Uint16Array;
  p67: Uint16Array;
}

let pairTables: Fcs16PairTables | null = null;

/**
 * Three 65536-entry tables for octet pairs 2-3, 4-5 and 6-7 of an 8-octet block (each entry
 * is the XOR of two slicing-by-8 entries). The word loops look up a 16-bit half-word at
 * once: five lookups per 8 octets instead of eight. Built on the first call (384 KiB and
 * ~6 ms of start-up that a process framing in wasm never needs), then shared.
 */
export function fcs16PairTables(): Fcs16PairTables {
  pairTables ??= { p23: pairTable(5, 4), p45: pairTable(3, 2), p67: pairTable(1, 0) };
  return pairTables;
}

function pairTable(lo: number, hi: number): Uint16Array {
  const t = FCS16_TABLES;
  const p = new Uint16Array(65536);
  for (let v = 0; v < 65536; v++) p[v] = t[lo * 256 + (v & 0xff)] ^ t[hi * 256 + (v >>> 8)];
  return p;
}

/**
 * Runs the FCS over `data[start, end)` starting from `fcs` and returns the running value,
 * not complemented: transmitters send `~fcs` LSB first; a receiver checks that the value
 * over the whole frame, FCS included, is {@link FCS16_GOOD}.
 */
export function fcs16(
  data: Uint8Array,
  start = 0,
  end: number = data.length,
  fcs = FCS16_INIT,
): number {
  const t = FCS16_TABLES;
  let c = fcs & 0xffff;
  let i = Math.max(start, 0);
  const e = Math.min(end, data.length);
  const e8 = e - 7;
  for (; i < e8; i += 8) {
    c ^= data[i] | (data[i + 1] << 8);
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + (c >>> 8)] ^
      t[1280 + data[i + 2]] ^
      t[1024 + data[i + 3]] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < e; i++) c = (c >>> 8) ^ t[(c ^ data[i]) & 0xff];
  return c;
}

/**
 * {@link fcs16} reading aligned 32-bit words through `words`, an Int32Array over the same
 * ArrayBuffer as `data` (both at byte offset 0, little-endian host). Internal fast path for
 * the framer's and deframer's own buffers.
 */
export function fcs16Words(
  data: Uint8Array,
  words: Int32Array,
  start: number,
  end: number,
  fcs: number,
): number {
  const t = FCS16_TABLES;
  const { p23, p45, p67 } = fcs16PairTables();
  let c = fcs;
  let i = start;
  while (i < end && (i & 3) !== 0) {
    c = (c >>> 8) ^ t[(c ^ data[i]) & 0xff];
    i++;
  }
  if ((i & 3) === 0) {
    let k = i >>> 2;
    const kEnd = k + (((end - i) >>> 3) << 1);
    for (; k < kEnd; k += 2) {
      const x0 = words[k];
      const x1 = words[k + 1];
      c ^= x0 & 0xffff;
      c =
        t[1792 + (c & 0xff)] ^
        t[1536 + (c >>> 8)] ^
        p23[x0 >>> 16] ^
        p45[x1 & 0xffff] ^
        p67[x1 >>> 16];
    }
    i = k << 2;
  }
  for (; i < end; i++) c = (c >>> 8) ^ t[(c ^ data[i]) & 0xff];
  return c;
}
