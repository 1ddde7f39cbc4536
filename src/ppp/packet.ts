/**
 * Control packet codec shared by LCP and the NCPs (RFC 1661 §5):
 *
 *   0      1      2      3
 *   Code | Id   | Length (2) | Data …
 *
 * Length covers the header. Octets beyond Length are padding and ignored;
 * a packet shorter than Length, or a Length below 4, is invalid (§5).
 */

/** Header size: code, identifier, length. */
export const CONTROL_HEADER_LEN = 4;

/** One decoded control packet. `data` is a view into the received bytes. */
export interface ControlPacket {
  code: number;
  id: number;
  data: Uint8Array;
}

/** Why a control packet could not be decoded. */
export type ControlParseError = 'short-header' | 'bad-length' | 'truncated';

/** Result of {@link parseControlPacket}: never throws. */
export type ControlParseResult =
  | { ok: true; packet: ControlPacket }
  | { ok: false; error: ControlParseError };

/** Decodes a control packet from a protocol's information field. */
export function parseControlPacket(info: Uint8Array): ControlParseResult {
  if (info.length < CONTROL_HEADER_LEN) return { ok: false, error: 'short-header' };
  const length = (info[2] << 8) | info[3];
  if (length < CONTROL_HEADER_LEN) return { ok: false, error: 'bad-length' };
  if (length > info.length) return { ok: false, error: 'truncated' };
  return {
    ok: true,
    packet: { code: info[0], id: info[1], data: info.subarray(CONTROL_HEADER_LEN, length) },
  };
}

/** Encodes a control packet; `data` is copied. Local misuse (>65535) is clamped by the caller. */
export function emitControlPacket(code: number, id: number, data: Uint8Array): Uint8Array {
  const length = CONTROL_HEADER_LEN + data.length;
  const out = new Uint8Array(length);
  out[0] = code & 0xff;
  out[1] = id & 0xff;
  out[2] = (length >>> 8) & 0xff;
  out[3] = length & 0xff;
  out.set(data, CONTROL_HEADER_LEN);
  return out;
}
