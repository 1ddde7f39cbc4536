/** Control packet codes (RFC 1661 §5) and their pppd names. */

/** Codes shared by LCP and the NCPs (RFC 1661 §5.1-5.7) and LCP-only codes (§5.8-5.11). */
export const Code = {
  /** §5.1 Configure-Request. */
  ConfReq: 1,
  /** §5.2 Configure-Ack. */
  ConfAck: 2,
  /** §5.3 Configure-Nak. */
  ConfNak: 3,
  /** §5.4 Configure-Reject. */
  ConfRej: 4,
  /** §5.5 Terminate-Request. */
  TermReq: 5,
  /** §5.5 Terminate-Ack. */
  TermAck: 6,
  /** §5.6 Code-Reject. */
  CodeRej: 7,
  /** §5.7 Protocol-Reject (LCP only). */
  ProtRej: 8,
  /** §5.8 Echo-Request (LCP only). */
  EchoReq: 9,
  /** §5.8 Echo-Reply (LCP only). */
  EchoRep: 10,
  /** §5.9 Discard-Request (LCP only). */
  DiscReq: 11,
  /** RFC 1570 §2.1 Identification (LCP only). */
  Ident: 12,
  /** RFC 1570 §2.2 Time-Remaining (LCP only). */
  TimeRem: 13,
} as const;

const NAMES = [
  '',
  'ConfReq',
  'ConfAck',
  'ConfNak',
  'ConfRej',
  'TermReq',
  'TermAck',
  'CodeRej',
  'ProtRej',
  'EchoReq',
  'EchoRep',
  'DiscReq',
  'Ident',
  'TimeRem',
];

/**
 * pppd name of a code. `maxCode` is the highest code the protocol knows
 * (7 for NCPs, 13 for LCP); beyond it pppd prints `code=0x…`.
 */
export function codeName(code: number, maxCode: number): string | null {
  if (code >= 1 && code <= maxCode && code < NAMES.length) return NAMES[code];
  return null;
}
