/**
 * Slicing-by-8 tables for a reflected CRC (RFC 1662 §C.2/§C.3 share the method):
 * eight 256-entry tables laid end to end, T[k][b] being the CRC of octet b followed
 * by k zero octets, so eight octets cost eight lookups.
 */
export function buildSlicingTables<T extends Uint16Array | Int32Array>(poly: number, t: T): T {
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const p = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (p >>> 8) ^ t[p & 0xff];
    }
  }
  return t;
}
