/**
 * The FCS word loop over the deframer's own buffer reads an Int32Array, which follows the
 * host's byte order; it assumes little-endian and is switched off on big-endian hosts
 * (the DataView-based stuffing and deframing loops are byte-order independent).
 */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An Int32Array over the whole of `bytes` (at byte offset 0), or null on big-endian hosts. */
export function wordView(bytes: Uint8Array): Int32Array | null {
  if (!LITTLE_ENDIAN || bytes.byteOffset !== 0) return null;
  return new Int32Array(bytes.buffer, 0, bytes.length >>> 2);
}
