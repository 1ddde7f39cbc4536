/** Octet values of RFC 1662 HDLC-like framing. */

/** Flag Sequence that opens and closes every frame (RFC 1662 §3.1). */
export const FLAG = 0x7e;
/** Control Escape: the next octet is XORed with {@link ESCAPE_XOR} (RFC 1662 §4.2). */
export const ESCAPE = 0x7d;
/** Value XORed into an escaped octet (RFC 1662 §4.2). */
export const ESCAPE_XOR = 0x20;
/** All-Stations address (RFC 1662 §3.1). */
export const ALL_STATIONS = 0xff;
/** Unnumbered Information control field (RFC 1662 §3.1). */
export const UI = 0x03;
/** The ACCM every link starts with: escape all 32 control characters (RFC 1662 §7.1). */
export const DEFAULT_ACCM = 0xffffffff;
/** Default largest information field, the default MRU (RFC 1661 §6.1). */
export const DEFAULT_MRU = 1500;
/** Default bound on un-taken framer output. */
export const DEFAULT_MAX_PENDING = 1024 * 1024;
