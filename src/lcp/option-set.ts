/**
 * One set of LCP option values. The policy keeps four of them (pppd's
 * want/allow/got/his): what we would like, what we permit the peer, what we
 * are currently requesting, and what the peer requested (and we acked).
 */

import { DEFAULT_MRU } from '../ppp/mru.js';
import { OptionValues } from '../ppp/policy.js';

/** Authentication protocol in an option set: 0 (none), PAP or CHAP (MD5). */
export type AuthKind = 0 | 0xc023 | 0xc223;

/** Values of the LCP options this engine negotiates. */
export class LcpOptionSet extends OptionValues {
  /** The MRU in force: the negotiated one, else the default (RFC 1661 §6.1). */
  get effectiveMru(): number {
    return this.negMru ? this.mru : DEFAULT_MRU;
  }

  /** MRU option present. */
  negMru = false;
  /** §6.1 MRU; the default when not negotiated. */
  mru = DEFAULT_MRU;
  /** ACCM option present. */
  negAccm = false;
  /** RFC 1662 §7.1 ACCM; 0xffffffff when not negotiated. */
  accm = 0xffffffff;
  /** §6.2 Authentication-Protocol (0 = none). */
  auth: AuthKind = 0;
  /** For `allow`: PAP acceptable as authenticatee. */
  pap = false;
  /** For `allow`: CHAP-MD5 acceptable as authenticatee. */
  chap = false;
  /** Magic-Number option present. */
  negMagic = false;
  /** §6.4 Magic-Number. */
  magic = 0;
  /** §6.5 Protocol-Field-Compression. */
  pfc = false;
  /** §6.6 Address-and-Control-Field-Compression. */
  acfc = false;
  /** RFC 2153 Vendor-Specific "ts-vpn GSO frames" present (for `allow`: acceptable). */
  gso = false;
  /** Its value: largest IP packet accepted inside one GSO frame (0 when absent). */
  gsoMaxPacket = 0;
}
