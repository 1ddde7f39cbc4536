/**
 * One set of LCP option values. The policy keeps four of them (pppd's
 * want/allow/got/his): what we would like, what we permit the peer, what we
 * are currently requesting, and what the peer requested (and we acked).
 */

import { DEFAULT_MRU } from '../ppp/mru.js';

/** Authentication protocol in an option set: 0 (none), PAP or CHAP (MD5). */
export type AuthKind = 0 | 0xc023 | 0xc223;

/** Values of the LCP options this engine negotiates. */
export class LcpOptionSet {
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

  /** Copies every field from `o`. */
  copyFrom(o: LcpOptionSet): void {
    this.negMru = o.negMru;
    this.mru = o.mru;
    this.negAccm = o.negAccm;
    this.accm = o.accm;
    this.auth = o.auth;
    this.pap = o.pap;
    this.chap = o.chap;
    this.negMagic = o.negMagic;
    this.magic = o.magic;
    this.pfc = o.pfc;
    this.acfc = o.acfc;
    this.gso = o.gso;
    this.gsoMaxPacket = o.gsoMaxPacket;
  }

  /** Back to "nothing negotiated". */
  clear(): void {
    this.negMru = false;
    this.mru = DEFAULT_MRU;
    this.negAccm = false;
    this.accm = 0xffffffff;
    this.auth = 0;
    this.pap = false;
    this.chap = false;
    this.negMagic = false;
    this.magic = 0;
    this.pfc = false;
    this.acfc = false;
    this.gso = false;
    this.gsoMaxPacket = 0;
  }
}
