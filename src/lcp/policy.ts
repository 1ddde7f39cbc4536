/**
 * LCP negotiation policy (RFC 1661 §6) plugged into the generic automaton:
 * MRU, ACCM, Authentication-Protocol (PAP, CHAP-MD5), Magic-Number with
 * loopback detection (§6.4), PFC and ACFC, and (opt-in) ts-vpn's own RFC 2153
 * Vendor-Specific "GSO frames" option. Everything else is rejected.
 * Also answers Echo-Requests (§5.8) and classifies the LCP-only codes.
 */

import { bytesEqual, readU16 } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import { DEFAULT_MRU, MIN_MRU } from '../ppp/mru.js';
import { isOption, type ParsedOption, type RawOption, rawOption } from '../ppp/options.js';
import type { ControlPacket } from '../ppp/packet.js';
import {
  ACK,
  type ExtraKindOrNull,
  FatalLatch,
  type FsmPolicy,
  type LcpHooks,
  nak,
  type OptionVerdict,
  type PolicyReply,
  REJECT,
  rejectEach,
} from '../ppp/policy.js';
import { Protocol } from '../ppp/protocols.js';
import { type AuthKind, LcpOptionSet } from './option-set.js';
import {
  type AuthProtocolValue,
  accmCodec,
  acfcCodec,
  authCodec,
  CHAP_MD5,
  gsoOption,
  gsoVendorValue,
  isGsoVendor,
  LcpOpt,
  magicCodec,
  mruCodec,
  pfcCodec,
  vendorCodec,
} from './options.js';
import { LCP_PRINTER } from './printer.js';

/**
 * Smallest MRU we accept from the peer. RFC 1661 §6.1 sets no minimum; like
 * pppd (MINMRU) we Nak anything below 128 with 128, which still carries a
 * minimal IPv4 packet (68) with room for headers.
 */
export const MIN_PEER_MRU = MIN_MRU;

/** LCP policy settings. */
export interface LcpConfig {
  /** Our MRU; requested only when not the default 1500 (as pppd). */
  mru: number;
  /** Our receive ACCM; requested unless 0xffffffff (default 0). */
  accm: number;
  /** Request and allow Protocol-Field-Compression. */
  pfc: boolean;
  /** Request and allow Address-and-Control-Field-Compression. */
  acfc: boolean;
  /** Request a Magic-Number. */
  magic: boolean;
  /** Authentication we require from the peer (we are the authenticator). */
  requireAuth: 'pap' | 'chap' | null;
  /** We can authenticate ourselves with PAP. */
  canPap: boolean;
  /** We can authenticate ourselves with CHAP-MD5. */
  canChap: boolean;
  /** Magic-Number Naks in a row before declaring a looped-back link (pppd: 10). */
  loopbackFail: number;
  /**
   * Request, and accept from the peer, the Vendor-Specific "ts-vpn GSO frames" option
   * (RFC 2153; OUI 02:54:56, kind 1). Off: a peer's one is Configure-Rejected like any
   * unknown option.
   */
  gso: boolean;
  /** The value we announce: largest IP packet we accept in one GSO frame. */
  gsoMaxPacket: number;
  /** Random source for magic numbers. */
  random32: () => number;
}

/** Default LCP settings (pppd's). */
export const DEFAULT_LCP_CONFIG: Omit<LcpConfig, 'random32'> = {
  mru: DEFAULT_MRU,
  accm: 0,
  pfc: true,
  acfc: true,
  magic: true,
  requireAuth: null,
  canPap: false,
  canChap: false,
  loopbackFail: 10,
  gso: false,
  gsoMaxPacket: 65535,
};

/** The LCP {@link FsmPolicy}, and LCP's extra codes ({@link LcpHooks}). */
export class LcpPolicy extends FatalLatch implements FsmPolicy, LcpHooks {
  readonly protocol = Protocol.LCP;
  readonly printer = LCP_PRINTER;
  readonly config: LcpConfig;
  /** What we would like to request. */
  readonly want = new LcpOptionSet();
  /** What we accept from the peer. */
  readonly allow = new LcpOptionSet();
  /** What we are requesting now (after Naks/Rejects); valid as "ours" once Opened. */
  readonly got = new LcpOptionSet();
  /** What the peer requested in its last Configure-Request. */
  readonly his = new LcpOptionSet();
  /** Magic-Number Naks received in a row (§6.4 loop detection). */
  private loops = 0;
  /** What the last fatal condition was (read by the engine for its finish cause). */
  fatalKind: 'loopback' | 'auth' | null = null;
  /** Called for each Echo-Reply received in Opened (set by the engine). */
  onEchoReply: ((pkt: ControlPacket, nowMs: number) => void) | null = null;
  /** Called when the peer Protocol-Rejects a protocol other than LCP (set by the engine). */
  onPeerProtocolReject: ((protocol: number, pkt: ControlPacket) => void) | null = null;
  /** Called when the peer Code-Rejects an LCP-only code (e.g. stop echoes). */
  onPeerCodeReject: ((code: number) => void) | null = null;

  constructor(config: Partial<LcpConfig> & { random32: () => number }) {
    super();
    this.config = { ...DEFAULT_LCP_CONFIG, ...config };
    const c = this.config;
    const w = this.want;
    w.negMru = c.mru !== DEFAULT_MRU;
    w.mru = c.mru;
    w.negAccm = c.accm !== 0xffffffff;
    w.accm = c.accm >>> 0;
    w.auth = c.requireAuth === 'pap' ? Protocol.PAP : c.requireAuth === 'chap' ? Protocol.CHAP : 0;
    w.negMagic = c.magic;
    w.pfc = c.pfc;
    w.acfc = c.acfc;
    w.gso = c.gso;
    w.gsoMaxPacket = c.gso ? c.gsoMaxPacket : 0;
    const a = this.allow;
    a.negMru = true;
    a.negAccm = true;
    a.pap = c.canPap;
    a.chap = c.canChap;
    a.negMagic = true;
    a.pfc = c.pfc;
    a.acfc = c.acfc;
    a.gso = c.gso;
    // The magic number is drawn when the first negotiation starts (resetNegotiation).
    this.got.copyFrom(w);
  }

  /** A fresh non-zero magic number. */
  private newMagic(): number {
    let m = this.config.random32() >>> 0;
    if (m === 0) m = this.config.random32() >>> 0;
    return m === 0 ? 0x5f2e6c1a : m;
  }

  /** Our magic number as negotiated (0 if the option is not in use). */
  get ourMagic(): number {
    return this.got.negMagic ? this.got.magic : 0;
  }

  // ---- our request -------------------------------------------------------------------------

  resetNegotiation(): void {
    this.got.copyFrom(this.want);
    this.got.magic = this.newMagic();
    this.loops = 0;
    this.fatal = null;
    this.fatalKind = null;
  }

  ownOptions(): RawOption[] {
    const g = this.got;
    const out: RawOption[] = [];
    // Order as pppd: mru, asyncmap, auth, magic, pcomp, accomp.
    if (g.negMru) out.push(rawOption(mruCodec, g.mru));
    if (g.negAccm) out.push(rawOption(accmCodec, g.accm));
    if (g.auth === Protocol.PAP)
      out.push(rawOption(authCodec, { protocol: Protocol.PAP, algorithm: -1 }));
    if (g.auth === Protocol.CHAP)
      out.push(rawOption(authCodec, { protocol: Protocol.CHAP, algorithm: CHAP_MD5 }));
    if (g.negMagic) out.push(rawOption(magicCodec, g.magic));
    if (g.pfc) out.push({ type: LcpOpt.PFC, data: new Uint8Array(0) });
    if (g.acfc) out.push({ type: LcpOpt.ACFC, data: new Uint8Array(0) });
    // Last, so a peer that rejects it sees the options it knows in pppd's order.
    if (g.gso) out.push(rawOption(vendorCodec, gsoOption(g.gsoMaxPacket)));
    return out;
  }

  onAck(): void {
    this.loops = 0;
  }

  onNak(options: ParsedOption[]): boolean {
    const g = this.got;
    let looped = false;
    for (const o of options) {
      if (isOption(o, mruCodec)) {
        // pppd: take a smaller MRU, or anything up to the default.
        const v = o.value;
        if (v <= this.want.mru || v <= DEFAULT_MRU) {
          g.negMru = v !== DEFAULT_MRU || g.negMru;
          g.mru = v;
        }
      } else if (isOption(o, accmCodec)) {
        g.negAccm = true;
        g.accm = (g.accm | o.value) >>> 0;
      } else if (isOption(o, authCodec)) {
        // A suggestion for something we did not ask is ignored; otherwise we insist on
        // the one method we were configured to require.
        if (g.auth !== 0) this.setFatal('auth', 'peer refused to authenticate');
      } else if (isOption(o, magicCodec)) {
        if (g.negMagic) {
          // §6.4: a Nak of our magic number hints at a looped-back link.
          g.magic = this.newMagic();
          looped = true;
        }
      } else if (isOption(o, pfcCodec)) {
        // Boolean options cannot be Nak'd (§5.3); treat as a Reject.
        g.pfc = false;
      } else if (isOption(o, acfcCodec)) {
        g.acfc = false;
      } else if (isOption(o, vendorCodec)) {
        // A Nak of our GSO option (another value, or a garbled one): stop asking, as for
        // a Reject; the capability needs both ends to agree as configured. Other
        // vendor options the peer suggests are ignored like any unrequested option.
        if (isGsoVendor(o.value)) g.gso = false;
      }
      // Anything else: the peer asks us to include an option we do not request; ignore.
    }
    if (looped) {
      this.loops++;
      if (this.loops >= this.config.loopbackFail) this.setFatal('loopback', 'loopback');
    } else {
      this.loops = 0;
    }
    return true;
  }

  private setFatal(kind: 'loopback' | 'auth', reason: string): void {
    this.fatal = reason;
    this.fatalKind = kind;
  }

  onReject(options: ParsedOption[]): boolean {
    const g = this.got;
    return rejectEach(options, {
      [LcpOpt.MRU]: () => {
        g.negMru = false;
        g.mru = DEFAULT_MRU;
      },
      [LcpOpt.ACCM]: () => {
        g.negAccm = false;
        g.accm = 0xffffffff;
      },
      [LcpOpt.AuthProtocol]: () => {
        g.auth = 0;
        if (this.want.auth !== 0) this.setFatal('auth', 'peer refused to authenticate');
      },
      [LcpOpt.MagicNumber]: () => {
        g.negMagic = false;
      },
      [LcpOpt.PFC]: () => {
        g.pfc = false;
      },
      [LcpOpt.ACFC]: () => {
        g.acfc = false;
      },
      // The Fsm checked it is one we sent, unchanged: only our GSO option can be.
      [LcpOpt.Vendor]: () => {
        g.gso = false;
      },
    });
  }

  failureHint(): string | null {
    return null;
  }

  // ---- the peer's request ------------------------------------------------------------------

  beginPeerRequest(): void {
    this.his.clear();
  }

  onPeerOption(o: ParsedOption): OptionVerdict {
    const h = this.his;
    const a = this.allow;
    if (isOption(o, mruCodec)) {
      if (o.value < MIN_PEER_MRU) return nak(mruCodec.emit(MIN_PEER_MRU));
      h.negMru = true;
      h.mru = o.value;
      return ACK;
    }
    if (isOption(o, accmCodec)) {
      h.negAccm = true;
      h.accm = o.value;
      return ACK;
    }
    if (isOption(o, authCodec)) return this.judgeAuth(o.value, o.data);
    if (isOption(o, magicCodec)) {
      const v = o.value;
      // §6.4: zero is illegal; equal to ours means a possible loop. Nak with a new value.
      if (v === 0 || (this.got.negMagic && v === this.got.magic)) {
        let s = this.newMagic();
        if (s === this.got.magic) s = (s ^ 0x5a5a5a5a) >>> 0 || 1;
        return nak(magicCodec.emit(s));
      }
      h.negMagic = true;
      h.magic = v;
      return ACK;
    }
    if (isOption(o, pfcCodec)) {
      if (!a.pfc) return REJECT;
      h.pfc = true;
      return ACK;
    }
    if (isOption(o, acfcCodec)) {
      if (!a.acfc) return REJECT;
      h.acfc = true;
      return ACK;
    }
    if (isOption(o, vendorCodec)) {
      // RFC 2153 §2.1: an OUI/Kind we do not know, or do not use, is Configure-Rejected.
      const max = gsoVendorValue(o.value);
      // The kernel decides how large a super-packet is (up to 64 KiB): a peer that
      // takes less than we do would see bulk TCP silently dropped. Symmetric terms only.
      if (max < 0 || !a.gso || max < this.config.gsoMaxPacket) return REJECT;
      h.gso = true;
      h.gsoMaxPacket = max;
      return ACK;
    }
    // Quality-Protocol, Callback, MRRU and anything unknown.
    return REJECT;
  }

  /**
   * §6.2: accept PAP or CHAP-MD5 if we can do it (the option carrying nothing more);
   * otherwise suggest what we can.
   */
  private judgeAuth(v: AuthProtocolValue, data: Uint8Array): OptionVerdict {
    const a = this.allow;
    const ok = (kind: AuthKind): OptionVerdict => {
      this.his.auth = kind;
      return ACK;
    };
    const exact = bytesEqual(authCodec.emit(v), data);
    if (exact && v.protocol === Protocol.PAP && v.algorithm < 0 && a.pap) return ok(Protocol.PAP);
    if (exact && v.protocol === Protocol.CHAP && v.algorithm === CHAP_MD5 && a.chap)
      return ok(Protocol.CHAP);
    if (a.chap) return nak(authCodec.emit({ protocol: Protocol.CHAP, algorithm: CHAP_MD5 }));
    if (a.pap) return nak(authCodec.emit({ protocol: Protocol.PAP, algorithm: -1 }));
    return REJECT;
  }

  // ---- LcpHooks: LCP-only codes and the Magic-Number exemption ----------------------------

  /** pppd: a Magic-Number Nak is never escalated to a Reject (loopback stays detectable). */
  nakExempt(type: number): boolean {
    return type === LcpOpt.MagicNumber;
  }

  extraCode(code: number): ExtraKindOrNull {
    switch (code) {
      case Code.ProtRej:
        return 'protrej';
      case Code.EchoReq:
      case Code.EchoRep:
      case Code.DiscReq:
        return 'rxr';
      case Code.Ident:
      case Code.TimeRem:
        return 'ignore';
      default:
        return null;
    }
  }

  /** `ser` in Opened: answer Echo-Requests with our magic and the data unchanged (§5.8). */
  onRxr(pkt: ControlPacket, nowMs: number): PolicyReply | null {
    if (pkt.code === Code.EchoReq) {
      if (pkt.data.length < 4) return null;
      const data = new Uint8Array(pkt.data.length);
      data.set(pkt.data);
      const m = this.ourMagic;
      data[0] = m >>> 24;
      data[1] = (m >>> 16) & 0xff;
      data[2] = (m >>> 8) & 0xff;
      data[3] = m & 0xff;
      return { code: Code.EchoRep, id: pkt.id, data };
    }
    if (pkt.code === Code.EchoRep) this.onEchoReply?.(pkt, nowMs);
    return null; // Discard-Request: silently discarded (§5.9)
  }

  onProtocolReject(pkt: ControlPacket): boolean {
    if (pkt.data.length < 2) return false;
    const proto = readU16(pkt.data, 0);
    if (proto === Protocol.LCP) return true;
    this.onPeerProtocolReject?.(proto, pkt);
    return false;
  }

  onCodeReject(code: number): void {
    this.onPeerCodeReject?.(code);
  }
}
