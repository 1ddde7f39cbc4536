/**
 * LCP negotiation policy (RFC 1661 §6) plugged into the generic automaton:
 * MRU, ACCM, Authentication-Protocol (PAP, CHAP-MD5), Magic-Number with
 * loopback detection (§6.4), PFC and ACFC, and (opt-in) ts-vpn's own RFC 2153
 * Vendor-Specific "GSO frames" option. Everything else is rejected.
 * Also answers Echo-Requests (§5.8) and classifies the LCP-only codes.
 */

import { readU16, readU32, u32Bytes } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import { type RawOption, rawOption } from '../ppp/options.js';
import type { ControlPacket } from '../ppp/packet.js';
import {
  ACK,
  type ExtraKindOrNull,
  type FsmPolicy,
  nak,
  type OptionVerdict,
  type PolicyReply,
  REJECT,
} from '../ppp/policy.js';
import { Protocol } from '../ppp/protocols.js';
import { type AuthKind, LcpOptionSet } from './option-set.js';
import {
  accmCodec,
  authCodec,
  CHAP_MD5,
  gsoOption,
  gsoOptionValue,
  isGsoKind,
  LcpOpt,
  magicCodec,
  mruCodec,
  vendorCodec,
} from './options.js';
import { LCP_PRINTER } from './printer.js';

/**
 * Smallest MRU we accept from the peer. RFC 1661 §6.1 sets no minimum; like
 * pppd (MINMRU) we Nak anything below 128 with 128, which still carries a
 * minimal IPv4 packet (68) with room for headers.
 */
export const MIN_PEER_MRU = 128;

/** LCP policy settings. */
export interface LcpConfig {
  /** Our MRU; requested only when not 1500 (as pppd). */
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
  mru: 1500,
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

/** The LCP {@link FsmPolicy}. */
export class LcpPolicy implements FsmPolicy {
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
  private fatal: string | null = null;
  /** What the last fatal condition was (read by the engine for its finish cause). */
  fatalKind: 'loopback' | 'auth' | null = null;
  /** Called for each Echo-Reply received in Opened (set by the engine). */
  onEchoReply: ((pkt: ControlPacket, nowMs: number) => void) | null = null;
  /** Called when the peer Protocol-Rejects a protocol other than LCP (set by the engine). */
  onPeerProtocolReject: ((protocol: number, pkt: ControlPacket) => void) | null = null;
  /** Called when the peer Code-Rejects an LCP-only code (e.g. stop echoes). */
  onPeerCodeReject: ((code: number) => void) | null = null;

  constructor(config: Partial<LcpConfig> & { random32: () => number }) {
    this.config = { ...DEFAULT_LCP_CONFIG, ...config };
    const c = this.config;
    const w = this.want;
    w.negMru = c.mru !== 1500;
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

  onNak(options: RawOption[]): boolean {
    const g = this.got;
    let looped = false;
    for (const o of options) {
      switch (o.type) {
        case LcpOpt.MRU: {
          if (o.data.length !== 2) return false;
          const v = readU16(o.data, 0);
          // pppd: take a smaller MRU, or anything up to the default.
          if (v <= this.want.mru || v <= 1500) {
            g.negMru = v !== 1500 || g.negMru;
            g.mru = v;
          }
          break;
        }
        case LcpOpt.ACCM:
          if (o.data.length !== 4) return false;
          g.negAccm = true;
          g.accm = (g.accm | readU32(o.data, 0)) >>> 0;
          break;
        case LcpOpt.AuthProtocol: {
          if (g.auth === 0) break; // suggestion for something we did not ask: ignore
          if (o.data.length < 2) return false;
          // We insist on the one method we were configured to require.
          this.fatal = 'peer refused to authenticate';
          this.fatalKind = 'auth';
          break;
        }
        case LcpOpt.MagicNumber:
          if (o.data.length !== 4) return false;
          if (g.negMagic) {
            // §6.4: a Nak of our magic number hints at a looped-back link.
            g.magic = this.newMagic();
            looped = true;
          }
          break;
        case LcpOpt.PFC:
        case LcpOpt.ACFC:
          // Boolean options cannot be Nak'd (§5.3); treat as a Reject.
          if (o.type === LcpOpt.PFC) g.pfc = false;
          else g.acfc = false;
          break;
        case LcpOpt.Vendor:
          // A Nak of our GSO option (another value, or a garbled one): stop asking, as for
          // a Reject; the capability needs both ends to agree as configured. Other
          // vendor options the peer suggests are ignored like any unrequested option.
          if (isGsoKind(o.data)) g.gso = false;
          break;
        default:
          // Peer asks us to include an option we do not request: ignore.
          break;
      }
    }
    if (looped) {
      this.loops++;
      if (this.loops >= this.config.loopbackFail) {
        this.fatal = 'loopback';
        this.fatalKind = 'loopback';
      }
    } else {
      this.loops = 0;
    }
    return true;
  }

  onReject(options: RawOption[]): boolean {
    const g = this.got;
    for (const o of options) {
      switch (o.type) {
        case LcpOpt.MRU:
          g.negMru = false;
          g.mru = 1500;
          break;
        case LcpOpt.ACCM:
          g.negAccm = false;
          g.accm = 0xffffffff;
          break;
        case LcpOpt.AuthProtocol:
          g.auth = 0;
          if (this.want.auth !== 0) {
            this.fatal = 'peer refused to authenticate';
            this.fatalKind = 'auth';
          }
          break;
        case LcpOpt.MagicNumber:
          g.negMagic = false;
          break;
        case LcpOpt.PFC:
          g.pfc = false;
          break;
        case LcpOpt.ACFC:
          g.acfc = false;
          break;
        case LcpOpt.Vendor:
          // The Fsm checked it is one we sent, unchanged: only our GSO option can be.
          g.gso = false;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  /** pppd: a Magic-Number Nak is never escalated to a Reject (loopback stays detectable). */
  nakExempt(type: number): boolean {
    return type === LcpOpt.MagicNumber;
  }

  takeFatal(): string | null {
    const f = this.fatal;
    this.fatal = null;
    return f;
  }

  failureHint(): string | null {
    return null;
  }

  // ---- the peer's request ------------------------------------------------------------------

  beginPeerRequest(): void {
    this.his.clear();
  }

  onPeerOption(type: number, data: Uint8Array): OptionVerdict {
    const h = this.his;
    const a = this.allow;
    switch (type) {
      case LcpOpt.MRU: {
        if (data.length !== 2) return REJECT;
        const v = readU16(data, 0);
        if (v < MIN_PEER_MRU) return nak(mruCodec.emit(MIN_PEER_MRU));
        h.negMru = true;
        h.mru = v;
        return ACK;
      }
      case LcpOpt.ACCM:
        if (data.length !== 4) return REJECT;
        h.negAccm = true;
        h.accm = readU32(data, 0);
        return ACK;
      case LcpOpt.AuthProtocol:
        return this.judgeAuth(data);
      case LcpOpt.MagicNumber: {
        if (data.length !== 4) return REJECT;
        const v = readU32(data, 0);
        // §6.4: zero is illegal; equal to ours means a possible loop. Nak with a new value.
        if (v === 0 || (this.got.negMagic && v === this.got.magic)) {
          let s = this.newMagic();
          if (s === this.got.magic) s = (s ^ 0x5a5a5a5a) >>> 0 || 1;
          return nak(u32Bytes(s));
        }
        h.negMagic = true;
        h.magic = v;
        return ACK;
      }
      case LcpOpt.PFC:
        if (data.length !== 0 || !a.pfc) return REJECT;
        h.pfc = true;
        return ACK;
      case LcpOpt.ACFC:
        if (data.length !== 0 || !a.acfc) return REJECT;
        h.acfc = true;
        return ACK;
      case LcpOpt.Vendor: {
        // RFC 2153 §2.1: an OUI/Kind we do not know, or do not use, is Configure-Rejected.
        const max = gsoOptionValue(data);
        // The kernel decides how large a super-packet is (up to 64 KiB): a peer that
        // takes less than we do would see bulk TCP silently dropped. Symmetric terms only.
        if (max < 0 || !a.gso || max < this.config.gsoMaxPacket) return REJECT;
        h.gso = true;
        h.gsoMaxPacket = max;
        return ACK;
      }
      default:
        // Quality-Protocol, Callback, MRRU and anything unknown.
        return REJECT;
    }
  }

  /** §6.2: accept PAP or CHAP-MD5 if we can do it; otherwise suggest what we can. */
  private judgeAuth(data: Uint8Array): OptionVerdict {
    if (data.length < 2) return REJECT;
    const a = this.allow;
    const proto = readU16(data, 0);
    const ok = (kind: AuthKind): OptionVerdict => {
      this.his.auth = kind;
      return ACK;
    };
    if (proto === Protocol.PAP && data.length === 2 && a.pap) return ok(Protocol.PAP);
    if (proto === Protocol.CHAP && data.length === 3 && data[2] === CHAP_MD5 && a.chap)
      return ok(Protocol.CHAP);
    if (a.chap) return nak(authCodec.emit({ protocol: Protocol.CHAP, algorithm: CHAP_MD5 }));
    if (a.pap) return nak(authCodec.emit({ protocol: Protocol.PAP, algorithm: -1 }));
    return REJECT;
  }

  // ---- LCP-only codes ----------------------------------------------------------------------

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
