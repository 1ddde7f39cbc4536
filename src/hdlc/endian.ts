/**
 * Word-at-a-time fast paths read Int32Array views and assume little-endian byte order;
 * on a big-endian host they are switched off and the byte loops are used instead.
 */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An Int32Array over the whole of `bytes` (which must start at byte offset 0), or null on big-endian hosts. */
export function wordView(bytes: Uint8Array): Int32Array | null {
  if (!LITTLE_ENDIAN || bytes.byteOffset !== 0) return null;
  return new Int32Array(bytes.buffer, 0, bytes.length >>> 2);
}
