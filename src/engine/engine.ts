/**
 * PppEngine: one PPP link, sans-IO (docs/ARCHITECTURE.md `src/engine`).
 *
 * Owns the HDLC framer/deframer, the LCP automaton (+ echo keepalive), the
 * authentication phase and the IPCP/IPv6CP automata; demultiplexes received
 * frames by protocol (RFC 1661 §3.2 phases, §5.7 Protocol-Reject) and frames
 * outgoing control and IP packets. The owner feeds bytes and time in and
 * drains output, events and the next deadline. Between two ts-vpn ends it can
 * also carry GSO frames (gso.ts), once LCP agreed on them both ways.
 */

import { type AuthPacket, encodeAuthPacket, formatChap, formatPap } from '../auth/index.js';
import { HdlcDeframer, HdlcFramer } from '../hdlc/index.js';
import { EchoKeepalive } from '../lcp/echo.js';
import { LcpPolicy } from '../lcp/policy.js';
import { IpcpPolicy } from '../ncp/ipcp-policy.js';
import { formatLinkLocal, formatLinkLocalPppd } from '../ncp/ipv6.js';
import { Ipv6cpPolicy } from '../ncp/ipv6cp-policy.js';
import { readU32, u32Bytes, visibleString } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import { PppError } from '../ppp/errors.js';
import { Fsm, type FsmHost } from '../ppp/fsm.js';
import { FsmState } from '../ppp/fsm-table.js';
import { formatIpv4 } from '../ppp/ipv4.js';
import { DEFAULT_MRU } from '../ppp/mru.js';
import { type ControlPacket, emitControlPacket, parseControlPacket } from '../ppp/packet.js';
import { Protocol, protocolHex, protocolLongName } from '../ppp/protocols.js';
import { AuthPhase, type AuthSink } from './auth-phase.js';
import type { EngineEvent, FinishCause, LinkPhase } from './events.js';
import { GSO_MAX_PACKET, GsoCounters, gsoInnerVersion, VNET_HDR_LEN } from './gso.js';
import { type NcpKind, NetworkPhase } from './network-phase.js';
import { type EngineSettings, type ResolvedSettings, resolveSettings } from './settings.js';
import { type CountedProtocol, type EngineStats, ProtocolCounters } from './stats.js';

/** Bound on queued events (habit 8): the oldest beyond it are dropped and counted. */
const MAX_EVENTS = 1024;

/** Deframer limit: the largest information field we take, at least the default MRU (RFC 1661 §6.1). */
function rxLimit(mru: number): number {
  return Math.max(DEFAULT_MRU, mru) + 4;
}

/** Deframer limit while GSO frames are on: a virtio header and our largest GSO packet, or the MRU limit. */
function gsoRxLimit(mru: number): number {
  return Math.max(rxLimit(mru), VNET_HDR_LEN + GSO_MAX_PACKET + 4);
}

/** Receives a GSO frame (view valid only during the call); `version` is the inner IP version. */
export type GsoFrameHandler = (frame: Uint8Array, version: 4 | 6) => void;

/** One PPP link. */
export class PppEngine implements FsmHost, AuthSink {
  private readonly opts: ResolvedSettings;
  private readonly onIp: ((version: 4 | 6, packet: Uint8Array) => void) | null;
  private readonly onGso: GsoFrameHandler | null;
  private readonly framer: HdlcFramer;
  private readonly deframer: HdlcDeframer;
  private readonly lcpPolicy: LcpPolicy;
  private readonly lcp: Fsm;
  private readonly ipcpPolicy: IpcpPolicy | null;
  private readonly ipcp: Fsm | null;
  private readonly ipv6cpPolicy: Ipv6cpPolicy | null;
  private readonly ipv6cp: Fsm | null;
  private readonly echo: EchoKeepalive;
  private readonly auth: AuthPhase;
  private phaseValue: LinkPhase;
  private events: EngineEvent[];
  private eventsDropped: number;
  /** NCPs of this network phase: up, finished, the negotiation deadline. */
  private readonly net: NetworkPhase;
  /** Why the link is ending (first cause wins), reported with `finished`. */
  private finishCause: FinishCause | null;
  /** The reason text that went with {@link finishCause}. */
  private finishReason: string;
  private now: number;
  private readonly counters: Record<CountedProtocol, ProtocolCounters>;
  private protRejSent: number;
  private protRejRcvd: number;
  /** Peer's MRU once LCP is up (limits what we send). */
  private peerMru: number;
  /** GSO frames agreed both ways for the current LCP session. */
  private gsoOn: boolean;
  /** Largest IP packet the peer accepts in a GSO frame (its option value); 0 when off. */
  private peerGsoMax: number;
  /** Largest information field of a non-GSO frame (the deframer may be wider for GSO). */
  private plainRxLimit: number;
  private readonly gsoCounters: GsoCounters;

  /**
   * `onIpPacket` receives IPv4/IPv6 packets; `onGsoFrame` GSO frames (required with
   * `gso: true`). Both get views valid only during the call.
   */
  constructor(
    settings: EngineSettings,
    onIpPacket?: (version: 4 | 6, packet: Uint8Array) => void,
    onGsoFrame?: GsoFrameHandler,
  ) {
    const o = resolveSettings(settings);
    if (o.gso && typeof onGsoFrame !== 'function')
      throw new PppError('ERR_PPP_BAD_OPTION', 'gso: true needs an onGsoFrame handler');
    this.opts = o;
    this.onIp = onIpPacket ?? null;
    this.onGso = onGsoFrame ?? null;
    this.framer = new HdlcFramer({});
    // Receive ACCM 0 until LCP says otherwise: our transports are 8-bit clean, and
    // pppd may send frames with raw control characters as soon as *it* is Opened.
    this.deframer = new HdlcDeframer((p, i) => this.onFrame(p, i), {
      accm: 0,
      maxInfo: rxLimit(o.lcp.mru),
    });
    const l = o.lcp;
    const a = o.auth;
    this.lcpPolicy = new LcpPolicy({
      mru: l.mru,
      accm: l.accm,
      pfc: l.pfc,
      acfc: l.acfc,
      magic: l.magic,
      requireAuth: a.require,
      canPap: a.user !== null,
      canChap: a.user !== null,
      loopbackFail: l.loopbackFail,
      // A far end known to be stock pppd rejects the private option: do not ask.
      gso: o.gso && o.peerKind !== 'pppd',
      gsoMaxPacket: GSO_MAX_PACKET,
      random32: o.random32,
    });
    const fsmConfig = {
      restartMs: l.restartMs,
      maxConfigure: l.maxConfigure,
      maxTerminate: l.maxTerminate,
      maxFailure: l.maxFailure,
    };
    this.lcp = new Fsm(
      this.lcpPolicy,
      this,
      { ...fsmConfig, passive: l.passive, silent: l.silent },
      this.lcpPolicy,
    );
    if (o.ipcp !== null) {
      this.ipcpPolicy = new IpcpPolicy(o.ipcp);
      this.ipcp = new Fsm(this.ipcpPolicy, this, { ...fsmConfig, maxFailure: o.ipcp.maxFailure });
    } else {
      this.ipcpPolicy = null;
      this.ipcp = null;
    }
    if (o.ipv6cp !== null) {
      this.ipv6cpPolicy = new Ipv6cpPolicy({ ...o.ipv6cp, random32: o.random32 });
      this.ipv6cp = new Fsm(this.ipv6cpPolicy, this, fsmConfig);
    } else {
      this.ipv6cpPolicy = null;
      this.ipv6cp = null;
    }
    this.echo = new EchoKeepalive(l.echoIntervalMs, l.echoFailures);
    this.auth = new AuthPhase(this, a, o.random32);
    this.phaseValue = 'dead';
    this.events = [];
    this.eventsDropped = 0;
    const ncps: NcpKind[] = [];
    if (this.ipcp !== null) ncps.push('ipv4');
    if (this.ipv6cp !== null) ncps.push('ipv6');
    this.net = new NetworkPhase(o.requireNetwork, ncps, o.negotiationTimeoutMs);
    this.finishCause = null;
    this.finishReason = '';
    this.now = 0;
    this.counters = {
      lcp: new ProtocolCounters(),
      pap: new ProtocolCounters(),
      chap: new ProtocolCounters(),
      ipcp: new ProtocolCounters(),
      ipv6cp: new ProtocolCounters(),
      ipv4: new ProtocolCounters(),
      ipv6: new ProtocolCounters(),
      other: new ProtocolCounters(),
    };
    this.protRejSent = 0;
    this.protRejRcvd = 0;
    this.peerMru = DEFAULT_MRU;
    this.gsoOn = false;
    this.peerGsoMax = 0;
    this.plainRxLimit = rxLimit(l.mru);
    this.gsoCounters = new GsoCounters();
    this.lcpPolicy.onEchoReply = (pkt, now) => this.onEchoReply(pkt, now);
    this.lcpPolicy.onPeerProtocolReject = (proto) => this.onPeerProtocolReject(proto);
    this.lcpPolicy.onPeerCodeReject = (code) => {
      if (code === Code.EchoReq) this.echo.stop();
    };
  }

  // ---- public API --------------------------------------------------------------------------

  /** Current link phase. */
  get phase(): LinkPhase {
    return this.phaseValue;
  }

  /** Lower layer up + administrative Open: LCP starts negotiating (unless silent). */
  open(nowMs: number): void {
    this.now = nowMs;
    if (this.phaseValue !== 'dead')
      throw new PppError('ERR_PPP_BAD_STATE', `open() in phase ${this.phaseValue}`);
    // A previous session may have left LCP in Closed/Stopped: that transport is gone.
    const s = this.lcp.state;
    if (s !== FsmState.Initial && s !== FsmState.Starting) this.lcp.down(nowMs);
    this.deframer.reset();
    this.resetFraming();
    this.finishCause = null;
    this.finishReason = '';
    this.net.reset();
    this.net.disarm();
    this.net.arm(nowMs);
    this.setPhase('establish');
    this.lcp.open(nowMs);
    this.lcp.up(nowMs);
  }

  /** Administrative Close: LCP Terminate-Request with `reason` (pppd: "User request"). */
  close(nowMs: number, reason = 'User request'): void {
    this.now = nowMs;
    if (this.phaseValue === 'dead') return;
    this.terminate(nowMs, 'local-close', reason);
  }

  /** Ends the link: LCP Terminate-Request with `reason`; `finished` will carry `cause`. */
  private terminate(nowMs: number, cause: FinishCause, reason: string): void {
    if (this.finishCause === null) {
      this.finishCause = cause;
      this.finishReason = reason;
    }
    this.net.disarm();
    this.lcp.close(nowMs, reason);
    // From Stopped (silent, passive) or Closed the table goes to Closed without tlf:
    // nothing more will happen on this link, so report it finished now.
    if (this.lcp.state === FsmState.Closed && this.phase !== 'dead') {
      this.downNcps(nowMs);
      this.auth.stop();
      this.echo.stop();
      this.finish(reason);
    }
  }

  /** The link is dead: phase `dead` and the `finished` event. */
  private finish(reason: string): void {
    this.net.disarm();
    this.setPhase('dead');
    this.emit({ type: 'finished', reason, cause: this.finishCause ?? this.lcpFailureCause() });
  }

  /** Cause of an LCP that ended by itself (fatal negotiation result, no convergence). */
  private lcpFailureCause(): FinishCause {
    const k = this.lcpPolicy.fatalKind;
    return k === 'loopback' ? 'loopback' : k === 'auth' ? 'auth-failed' : 'lcp-failed';
  }

  /** The transport is gone. */
  lowerDown(nowMs: number): void {
    this.now = nowMs;
    if (this.phaseValue === 'dead' && this.lcp.state === FsmState.Initial) return;
    const wasDead = this.phaseValue === 'dead';
    this.lcp.down(nowMs);
    this.downNcps(nowMs);
    this.auth.stop();
    this.echo.stop();
    this.deframer.reset();
    this.resetFraming();
    this.log('Connection terminated.');
    if (!wasDead) {
      // Ending already (our Terminate-Request, or the peer's): report that cause.
      const reason = this.finishCause !== null ? this.finishReason : 'lower layer down';
      if (this.finishCause === null) this.finishCause = 'lower-layer-down';
      this.finish(reason);
    }
  }

  /** Raw bytes from the transport. Never throws on any input. */
  receive(bytes: Uint8Array, nowMs: number): void {
    this.now = nowMs;
    this.deframer.push(bytes);
  }

  /** Frames an IPv4 or IPv6 packet (version from the first nibble). False = dropped and counted. */
  sendIp(packet: Uint8Array, nowMs: number): boolean {
    this.now = nowMs;
    const version = packet.length > 0 ? packet[0] >>> 4 : 0;
    let c: ProtocolCounters;
    let proto: number;
    let open: boolean;
    if (version === 4) {
      c = this.counters.ipv4;
      proto = Protocol.IPv4;
      open = this.ipcp?.isOpened === true;
    } else if (version === 6) {
      c = this.counters.ipv6;
      proto = Protocol.IPv6;
      open = this.ipv6cp?.isOpened === true;
    } else {
      this.counters.other.drops++;
      return false;
    }
    if (!open || packet.length > this.peerMru || !this.framer.writeFrame(proto, packet, false)) {
      c.drops++;
      return false;
    }
    c.txPackets++;
    c.txBytes += packet.length;
    return true;
  }

  /**
   * Frames one GSO frame (`virtio_net_hdr | IP packet`, gso.ts). False = dropped and
   * counted: GSO frames not agreed, the NCP of the inner IP version not Opened, the
   * frame shorter than the virtio header plus an IP header, the packet longer than the
   * peer accepts, or the output full. The virtio header is not checked here.
   */
  sendGso(frame: Uint8Array, nowMs: number): boolean {
    this.now = nowMs;
    const g = this.gsoCounters;
    const version = gsoInnerVersion(frame);
    const c =
      version === 4 ? this.counters.ipv4 : version === 6 ? this.counters.ipv6 : this.counters.other;
    const open =
      version === 4
        ? this.ipcp?.isOpened === true
        : version === 6 && this.ipv6cp?.isOpened === true;
    if (
      !this.gsoOn ||
      !open ||
      frame.length - VNET_HDR_LEN > this.peerGsoMax ||
      !this.framer.writeFrame(Protocol.GsoFrame, frame, false)
    ) {
      g.txDrops++;
      c.drops++;
      return false;
    }
    g.txFrames++;
    c.txPackets++;
    c.txBytes += frame.length;
    return true;
  }

  /** True while GSO frames are agreed both ways (between lcp-up and LCP leaving Opened). */
  get gsoEnabled(): boolean {
    return this.gsoOn;
  }

  /** Coalesced HDLC bytes to write to the transport, or null. */
  takeOutput(): Uint8Array | null {
    return this.framer.take();
  }

  /** Events since the last call. */
  takeEvents(): EngineEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Runs every timer whose deadline has passed. */
  handleTimeout(nowMs: number): void {
    this.now = nowMs;
    this.lcp.handleTimeout(nowMs);
    this.ipcp?.handleTimeout(nowMs);
    this.ipv6cp?.handleTimeout(nowMs);
    this.auth.handleTimeout(nowMs);
    const act = this.echo.poll(nowMs);
    if (act !== null) {
      if (act.kind === 'send') {
        this.sendLcpExtra(Code.EchoReq, act.id, u32Bytes(this.lcpPolicy.ourMagic));
      } else {
        this.log(`No response to ${this.echo.failures} echo-requests`);
        this.terminate(nowMs, 'echo-timeout', 'peer not responding');
      }
    }
    if (this.net.expired(nowMs)) this.negotiationTimeout(nowMs);
  }

  /** The negotiation deadline passed: end the link unless the needed protocols are up. */
  private negotiationTimeout(nowMs: number): void {
    this.net.disarm();
    const p = this.phaseValue;
    if (p === 'dead' || p === 'terminate' || this.net.satisfied) return;
    const reason = this.net.timeoutReason(
      { ipv4: this.ipcp?.stateName, ipv6: this.ipv6cp?.stateName },
      this.lcp.isOpened ? null : this.lcp.stateName,
    );
    this.log(reason);
    this.terminate(nowMs, 'negotiation-timeout', reason);
  }

  /** Earliest deadline of any timer, or null. */
  nextDeadline(): number | null {
    let d: number | null = null;
    const take = (x: number | null) => {
      if (x !== null && (d === null || x < d)) d = x;
    };
    take(this.lcp.nextDeadline());
    take(this.ipcp?.nextDeadline() ?? null);
    take(this.ipv6cp?.nextDeadline() ?? null);
    take(this.auth.nextDeadline());
    take(this.echo.nextDeadline());
    take(this.net.deadline);
    return d;
  }

  /** Counter snapshot. */
  stats(): EngineStats {
    return {
      phase: this.phaseValue,
      states: {
        lcp: this.lcp.stateName,
        ipcp: this.ipcp?.stateName ?? null,
        ipv6cp: this.ipv6cp?.stateName ?? null,
      },
      protocols: this.counters,
      fsm: {
        lcp: this.lcp.stats,
        ipcp: this.ipcp?.stats ?? null,
        ipv6cp: this.ipv6cp?.stats ?? null,
      },
      framing: { tx: this.framer.stats, rx: this.deframer.stats },
      protocolRejectsSent: this.protRejSent,
      protocolRejectsReceived: this.protRejRcvd,
      echo: {
        sent: this.echo.sent,
        answered: this.echo.answered,
        lastRttMs: Number.isNaN(this.echo.lastRttMs) ? null : this.echo.lastRttMs,
      },
      eventsDropped: this.eventsDropped,
      gso: {
        enabled: this.gsoOn,
        peerMaxPacket: this.peerGsoMax,
        txFrames: this.gsoCounters.txFrames,
        rxFrames: this.gsoCounters.rxFrames,
        txDrops: this.gsoCounters.txDrops,
        rxDrops: this.gsoCounters.rxDrops,
        rxOversize: this.gsoCounters.rxOversize,
      },
    };
  }

  // ---- receive path ------------------------------------------------------------------------

  private onFrame(protocol: number, info: Uint8Array): void {
    const now = this.now;
    if (info.length > this.plainRxLimit && protocol !== Protocol.GsoFrame) {
      // Only possible while the deframer is widened for GSO frames: keep the MRU bound.
      this.gsoCounters.rxOversize++;
      return;
    }
    if (protocol === Protocol.GsoFrame && this.gsoOn) {
      this.receiveGso(info);
      return;
    }
    switch (protocol) {
      case Protocol.LCP:
        this.receiveControl(this.lcp, this.counters.lcp, info, now);
        return;
      case Protocol.IPv4:
        this.receiveIp(4, this.ipcp, this.counters.ipv4, info);
        return;
      case Protocol.IPv6:
        this.receiveIp(6, this.ipv6cp, this.counters.ipv6, info);
        return;
    }
    // RFC 1661 §3.4/§3.5: only LCP (and authentication) before the Network phase.
    if (!this.lcp.isOpened) {
      this.counters.other.drops++;
      return;
    }
    if (protocol === Protocol.PAP || protocol === Protocol.CHAP) {
      this.receiveAuth(protocol, info, now);
      return;
    }
    if (this.phaseValue !== 'network') {
      this.counters.other.drops++;
      return;
    }
    if (protocol === Protocol.IPCP && this.ipcp !== null) {
      this.receiveControl(this.ipcp, this.counters.ipcp, info, now);
      return;
    }
    if (protocol === Protocol.IPV6CP && this.ipv6cp !== null) {
      this.receiveControl(this.ipv6cp, this.counters.ipv6cp, info, now);
      return;
    }
    // Everything else (CCP, disabled NCPs, VJ, unknown): §5.7 Protocol-Reject.
    this.sendProtocolReject(protocol, info);
  }

  private receiveControl(fsm: Fsm, c: ProtocolCounters, info: Uint8Array, now: number): void {
    const r = parseControlPacket(info);
    if (!r.ok) {
      c.bad++;
      return;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
    this.log(`rcvd [${fsm.describe(r.packet)}]`);
    if (fsm === this.lcp && r.packet.code === Code.TermReq && this.lcp.isOpened) {
      this.log(
        `LCP terminated by peer${r.packet.data.length > 0 ? ` (${this.lcpReasonText(r.packet)})` : ''}`,
      );
    }
    fsm.receive(r.packet, now);
  }

  private lcpReasonText(pkt: ControlPacket): string {
    return visibleString(pkt.data);
  }

  private receiveIp(version: 4 | 6, ncp: Fsm | null, c: ProtocolCounters, info: Uint8Array): void {
    if (ncp === null) {
      // Not doing this protocol at all: tell the peer (if LCP is up).
      if (this.lcp.isOpened)
        this.sendProtocolReject(version === 4 ? Protocol.IPv4 : Protocol.IPv6, info);
      else c.drops++;
      return;
    }
    if (!ncp.isOpened) {
      c.drops++;
      return;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
    this.onIp?.(version, info);
  }

  /** A GSO frame while the capability is on (otherwise it is an unknown protocol). */
  private receiveGso(info: Uint8Array): void {
    const g = this.gsoCounters;
    if (info.length - VNET_HDR_LEN > GSO_MAX_PACKET) {
      // The deframer's limit has slack for framing octets; the agreement does not.
      g.rxOversize++;
      return;
    }
    const version = gsoInnerVersion(info);
    if (version === 0) {
      g.rxDrops++;
      this.counters.other.bad++;
      return;
    }
    const ncp = version === 4 ? this.ipcp : this.ipv6cp;
    const c = version === 4 ? this.counters.ipv4 : this.counters.ipv6;
    if (ncp === null || !ncp.isOpened || this.onGso === null) {
      g.rxDrops++;
      c.drops++;
      return;
    }
    g.rxFrames++;
    c.rxPackets++;
    c.rxBytes += info.length;
    this.onGso(info, version);
  }

  private receiveAuth(protocol: number, info: Uint8Array, now: number): void {
    const c = protocol === Protocol.PAP ? this.counters.pap : this.counters.chap;
    const r = parseControlPacket(info);
    if (!r.ok) {
      c.bad++;
      return;
    }
    const pkt: AuthPacket = { code: r.packet.code, id: r.packet.id, data: r.packet.data };
    this.log(`rcvd [${this.describeAuth(protocol, pkt)}]`);
    if (!this.auth.receive(protocol, pkt, now)) {
      c.drops++;
      return;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
  }

  private describeAuth(protocol: number, pkt: AuthPacket): string {
    return protocol === Protocol.PAP ? `PAP ${formatPap(pkt)}` : `CHAP ${formatChap(pkt)}`;
  }

  private onEchoReply(pkt: ControlPacket, now: number): void {
    if (pkt.data.length < 4) return;
    const magic = readU32(pkt.data, 0);
    const ours = this.lcpPolicy.ourMagic;
    if (ours !== 0 && magic === ours) {
      this.log('appear to have received our own echo-reply!');
      return;
    }
    const rtt = this.echo.onReply(pkt.id, now);
    if (rtt !== null) this.emit({ type: 'echo-rtt', rttMs: rtt });
  }

  private onPeerProtocolReject(proto: number): void {
    this.protRejRcvd++;
    this.log(`Protocol-Reject for '${protocolLongName(proto)}' (${protocolHex(proto)}) received`);
    const now = this.now;
    if ((proto === Protocol.IPCP || proto === Protocol.IPv4) && this.ipcp !== null) {
      this.ipcp.protocolRejected(now);
    } else if ((proto === Protocol.IPV6CP || proto === Protocol.IPv6) && this.ipv6cp !== null) {
      this.ipv6cp.protocolRejected(now);
    } else if (proto === Protocol.GsoFrame && this.gsoOn) {
      // Should not happen after the LCP agreement; stop sending them (receiving goes on).
      this.gsoOn = false;
      this.peerGsoMax = 0;
    } else if (
      (proto === Protocol.PAP || proto === Protocol.CHAP) &&
      this.phaseValue === 'authenticate'
    ) {
      this.authResult(false, `peer rejected ${protocolLongName(proto)}`, undefined, now);
    }
  }

  // ---- send path ---------------------------------------------------------------------------

  /** FsmHost: frame and log one control packet. LCP codes 1-7 use the link defaults (RFC 1661 §6). */
  send(fsm: Fsm, code: number, id: number, data: Uint8Array): void {
    const pkt = emitControlPacket(code, id, data);
    this.log(`sent [${fsm.describe({ code, id, data })}]`);
    const linkDefaults = fsm.protocol === Protocol.LCP && code <= Code.CodeRej;
    const c = this.countersFor(fsm.protocol);
    if (this.framer.writeFrame(fsm.protocol, pkt, linkDefaults)) {
      c.txPackets++;
      c.txBytes += pkt.length;
    } else {
      c.drops++;
    }
  }

  /** LCP codes 8-11 (Protocol-Reject, Echo, Discard) go out with the negotiated framing. */
  private sendLcpExtra(code: number, id: number, data: Uint8Array): void {
    this.send(this.lcp, code, id, data);
  }

  private sendProtocolReject(protocol: number, info: Uint8Array): void {
    if (!this.lcp.isOpened) return;
    this.counters.other.drops++;
    this.log(
      `Unsupported protocol '${protocolLongName(protocol)}' (${protocolHex(protocol)}) received`,
    );
    // §5.7: rejected protocol, then as much of the packet as fits the peer's MRU.
    const room = Math.max(0, this.peerMru - 6);
    const n = Math.min(info.length, room);
    const data = new Uint8Array(2 + n);
    data[0] = protocol >>> 8;
    data[1] = protocol & 0xff;
    data.set(info.subarray(0, n), 2);
    this.protRejSent++;
    this.sendLcpExtra(Code.ProtRej, this.lcp.nextId(), data);
  }

  /** AuthSink: frame and log a PAP/CHAP packet. */
  sendAuth(protocol: number, pkt: AuthPacket): void {
    this.log(`sent [${this.describeAuth(protocol, pkt)}]`);
    const bytes = encodeAuthPacket(pkt);
    const c = protocol === Protocol.PAP ? this.counters.pap : this.counters.chap;
    if (this.framer.writeFrame(protocol, bytes, false)) {
      c.txPackets++;
      c.txBytes += bytes.length;
    } else {
      c.drops++;
    }
  }

  private countersFor(protocol: number): ProtocolCounters {
    switch (protocol) {
      case Protocol.LCP:
        return this.counters.lcp;
      case Protocol.IPCP:
        return this.counters.ipcp;
      case Protocol.IPV6CP:
        return this.counters.ipv6cp;
      default:
        return this.counters.other;
    }
  }

  // ---- FsmHost: layer events ---------------------------------------------------------------

  maxPacketLen(fsm: Fsm): number {
    void fsm;
    return this.peerMru;
  }

  thisLayerUp(fsm: Fsm, nowMs: number): void {
    if (fsm === this.lcp) this.lcpUp(nowMs);
    else if (fsm === this.ipcp) {
      if (this.ipcpUp(nowMs)) this.ncpUp('ipv4');
    } else if (fsm === this.ipv6cp) {
      this.ipv6cpUp();
      this.ncpUp('ipv6');
    }
  }

  thisLayerDown(fsm: Fsm, nowMs: number): void {
    if (fsm === this.lcp) this.lcpDown(nowMs);
    else if (fsm === this.ipcp) this.ncpDown('ipv4', nowMs);
    else if (fsm === this.ipv6cp) this.ncpDown('ipv6', nowMs);
  }

  private ncpUp(kind: NcpKind): void {
    this.net.up(kind);
    if (this.net.satisfied) this.net.disarm();
  }

  /** An NCP left Opened (`ipv4-down` only after an `ipv4-up`); the deadline runs again. */
  private ncpDown(kind: NcpKind, nowMs: number): void {
    if (!this.net.isUp(kind)) return;
    this.net.down(kind);
    this.emit({ type: kind === 'ipv4' ? 'ipv4-down' : 'ipv6-down' });
    if (this.phaseValue === 'network' && !this.net.satisfied) this.net.arm(nowMs);
  }

  thisLayerStarted(fsm: Fsm, nowMs: number): void {
    void fsm;
    void nowMs;
  }

  thisLayerFinished(fsm: Fsm, reason: string, nowMs: number): void {
    if (fsm === this.lcp) {
      this.downNcps(nowMs);
      this.auth.stop();
      this.echo.stop();
      this.resetFraming();
      this.log('Connection terminated.');
      if (this.phaseValue !== 'dead') this.finish(reason);
      return;
    }
    // An NCP finished (RFC 1661 §3.6; pppd np_finished): the link ends when the
    // protocols it needs can no longer come up.
    const kind: NcpKind = fsm === this.ipcp ? 'ipv4' : 'ipv6';
    if (this.phaseValue !== 'network' || this.net.hasFinished(kind)) return;
    this.log(`${fsm.name} finished: ${reason}`);
    const end = this.net.finished(kind, this.ncpFailure(fsm, reason));
    if (end !== null) this.terminate(nowMs, 'no-network-protocol', end);
  }

  /** "IPCP failed: …", naming the option and address the policy found at fault. */
  private ncpFailure(fsm: Fsm, reason: string): string {
    const name = fsm.name;
    const problem = fsm === this.ipcp ? (this.ipcpPolicy?.problem ?? null) : null;
    let text = problem ?? reason;
    if (problem === null) {
      if (text.startsWith(`${name}: `)) text = text.slice(name.length + 2);
      else if (text.startsWith(`${name} `)) text = text.slice(name.length + 1);
    }
    return `${name} failed: ${text}`;
  }

  private lcpUp(nowMs: number): void {
    const p = this.lcpPolicy;
    const his = p.his;
    const got = p.got;
    this.peerMru = his.effectiveMru;
    const mru = got.effectiveMru;
    // GSO frames go both ways: each end asked (and was acked) and acked the other's ask.
    this.gsoOn = got.gso && his.gso;
    this.peerGsoMax = this.gsoOn ? his.gsoMaxPacket : 0;
    this.plainRxLimit = rxLimit(mru);
    // Our sending side follows what the peer asked for and we acked (RFC 1661 §6.5/§6.6, RFC 1662 §7.1).
    this.framer.configure({
      accm: his.negAccm ? his.accm : 0xffffffff,
      pfc: his.pfc,
      acfc: his.acfc,
    });
    this.deframer.configure({
      accm: got.negAccm ? got.accm : 0xffffffff,
      maxInfo: this.gsoOn ? gsoRxLimit(mru) : rxLimit(mru),
    });
    if (this.gsoOn) this.log(`GSO frames on (peer takes IP packets up to ${this.peerGsoMax})`);
    this.emit({
      type: 'lcp-up',
      mtu: this.peerMru,
      mru,
      peerMagic: his.negMagic ? his.magic : 0,
      gso: this.gsoOn,
    });
    this.echo.start(nowMs);
    if (this.echo.enabled) this.handleEchoNow(nowMs);
    const server = got.auth;
    const client = his.auth;
    if (server !== 0 || client !== 0) {
      this.setPhase('authenticate');
      this.auth.start(server, client, nowMs);
      this.auth.checkConfigured(nowMs);
    } else {
      this.enterNetwork(nowMs);
    }
  }

  /** pppd sends the first Echo-Request the moment LCP opens. */
  private handleEchoNow(nowMs: number): void {
    const act = this.echo.poll(nowMs);
    if (act !== null && act.kind === 'send') {
      this.sendLcpExtra(Code.EchoReq, act.id, u32Bytes(this.lcpPolicy.ourMagic));
    }
  }

  private lcpDown(nowMs: number): void {
    this.echo.stop();
    this.auth.stop();
    this.downNcps(nowMs);
    this.resetFraming();
    const ev = this.lcp.currentEvent;
    let reason: string;
    if (ev === 'Down') reason = 'lower layer down';
    else if (ev === 'Close' || ev === 'RTR' || ev === 'RXJ-') reason = this.lcp.lastReason;
    else reason = 'peer renegotiating';
    if (this.finishCause === null && (ev === 'Close' || ev === 'RTR' || ev === 'RXJ-')) {
      // Not our own terminate(): the peer's Terminate-Request, or LCP closing itself.
      this.finishCause =
        ev === 'RTR' ? 'peer-terminated' : ev === 'RXJ-' ? 'lcp-failed' : this.lcpFailureCause();
      this.finishReason = reason;
    }
    this.emit({ type: 'down', reason });
    const s = this.lcp.state;
    const phase: LinkPhase =
      ev === 'Close' || ev === 'RTR' || ev === 'RXJ-'
        ? 'terminate'
        : s === FsmState.Starting
          ? 'dead'
          : 'establish';
    this.setPhase(phase);
    // LCP renegotiates: the network has to come up again in time.
    this.net.disarm();
    if (phase === 'establish') this.net.arm(nowMs);
  }

  /** AuthSink: outcome of the Authenticate phase (or a later CHAP failure). */
  authResult(ok: boolean, message: string, peerName: string | undefined, nowMs: number): void {
    if (ok) {
      this.log(message);
      this.emit(peerName !== undefined ? { type: 'auth-ok', peerName } : { type: 'auth-ok' });
      if (this.phaseValue === 'authenticate') this.enterNetwork(nowMs);
      return;
    }
    this.log(`Authentication failed: ${message}`);
    this.emit({ type: 'auth-failed', message });
    this.terminate(nowMs, 'auth-failed', 'Authentication failed');
  }

  private enterNetwork(nowMs: number): void {
    this.setPhase('network');
    this.net.enter();
    for (const ncp of [this.ipcp, this.ipv6cp]) {
      if (ncp === null) continue;
      ncp.open(nowMs);
      ncp.up(nowMs);
    }
    if (this.net.size === 0)
      this.terminate(nowMs, 'no-network-protocol', 'No network protocols running');
  }

  private downNcps(nowMs: number): void {
    this.ipcp?.down(nowMs);
    this.ipv6cp?.down(nowMs);
    this.net.reset();
  }

  /** IPCP opened: `ipv4-up`, or closes IPCP (pppd's texts) when an address is missing. */
  private ipcpUp(nowMs: number): boolean {
    const p = this.ipcpPolicy as IpcpPolicy;
    const local = p.localAddress;
    const peer = p.peerAddress;
    const why = p.problem !== null ? ` (${p.problem})` : '';
    if (local === 0) {
      this.ipcp?.close(nowMs, `Could not determine local IP address${why}`);
      return false;
    }
    if (peer === 0) {
      this.ipcp?.close(nowMs, `Could not determine remote IP address${why}`);
      return false;
    }
    const dns = p.dnsServers;
    this.log(`local  IP address ${formatIpv4(local)}`);
    this.log(`remote IP address ${formatIpv4(peer)}`);
    if (dns.length > 0) this.log(`primary   DNS address ${dns[0]}`);
    if (dns.length > 1) this.log(`secondary DNS address ${dns[1]}`);
    this.emit({ type: 'ipv4-up', local: formatIpv4(local), peer: formatIpv4(peer), dns });
    return true;
  }

  private ipv6cpUp(): void {
    const p = this.ipv6cpPolicy as Ipv6cpPolicy;
    const localId = Uint8Array.from(p.localId);
    const peerId = Uint8Array.from(p.peerId);
    this.log(`local  LL address ${formatLinkLocalPppd(localId)}`);
    this.log(`remote LL address ${formatLinkLocalPppd(peerId)}`);
    this.emit({
      type: 'ipv6-up',
      localId,
      peerId,
      local: formatLinkLocal(localId),
      peer: formatLinkLocal(peerId),
    });
  }

  // ---- helpers -----------------------------------------------------------------------------

  private resetFraming(): void {
    this.peerMru = DEFAULT_MRU;
    this.gsoOn = false;
    this.peerGsoMax = 0;
    this.plainRxLimit = rxLimit(this.opts.lcp.mru);
    this.framer.configure({ accm: 0xffffffff, pfc: false, acfc: false });
    this.deframer.configure({ accm: 0, maxInfo: this.plainRxLimit });
  }

  private setPhase(phase: LinkPhase): void {
    if (this.phaseValue === phase) return;
    this.phaseValue = phase;
    this.emit({ type: 'phase', phase });
  }

  private emit(e: EngineEvent): void {
    if (this.events.length >= MAX_EVENTS) {
      this.events.shift();
      this.eventsDropped++;
    }
    this.events.push(e);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
