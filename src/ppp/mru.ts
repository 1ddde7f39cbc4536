/**
 * The Maximum-Receive-Unit limits, defined once (RFC 1661 §6.1; pppd's names):
 * what a link uses when the option is not negotiated, and the range of our own MRU.
 */

/** §6.1: the MRU when the option is not negotiated (pppd PPP_MRU). */
export const DEFAULT_MRU = 1500;

/** Smallest MRU we use or accept from the peer (pppd MINMRU). */
export const MIN_MRU = 128;

/**
 * Largest MRU we ask for: the option's 16-bit field (pppd stops at MAXMRU 16384; the
 * engine takes any size the field holds, e.g. for GSO-sized frames between ts-vpn ends).
 */
export const MAX_MRU = 65535;
