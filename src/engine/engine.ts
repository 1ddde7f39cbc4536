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

import type { AuthPacket } from '../auth/index.js';
import { HdlcDeframer, HdlcFramer } from '../hdlc/index.js';
import { EchoKeepalive } from '../lcp/echo.js';
import type { LcpPolicy } from '../lcp/policy.js';
import type { IpcpPolicy } from '../ncp/ipcp-policy.js';
import type { Ipv6cpPolicy } from '../ncp/ipv6cp-policy.js';
import { readU32, u32Bytes } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import { PppError } from '../ppp/errors.js';
import type { Fsm, FsmHost } from '../ppp/fsm.js';
import { FsmState } from '../ppp/fsm-table.js';
import type { ControlPacket } from '../ppp/packet.js';
import { Protocol, protocolHex, protocolLongName } from '../ppp/protocols.js';
import { AuthPhase, type AuthSink } from './auth-phase.js';
import { buildAutomata } from './automata.js';
import { ControlIo } from './control-io.js';
import { DataPath, type GsoFrameHandler, rxLimit } from './data-path.js';
import { Demux } from './demux.js';
import { EventQueue } from './event-queue.js';
import type { EngineEvent, FinishCause, LinkPhase } from './events.js';
import { ipcpUpReport, ipv6cpUpReport, ncpFailureText } from './ncp-report.js';
import { type NcpKind, NetworkPhase, NO_NETWORK_PROTOCOLS } from './network-phase.js';
import { type EngineSettings, type ResolvedSettings, resolveSettings } from './settings.js';
import {
  type CountedProtocol,
  type EngineStats,
  newProtocolCounters,
  type ProtocolCounters,
} from './stats.js';
import { statsSnapshot } from './stats-snapshot.js';

export type { GsoFrameHandler } from './data-path.js';

/** One PPP link. */
export class PppEngine implements FsmHost, AuthSink {
  private readonly opts: ResolvedSettings;
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
  private readonly events: EventQueue;
  /** NCPs of this network phase: up, finished, the negotiation deadline. */
  private readonly net: NetworkPhase;
  /** Why the link is ending (first cause wins), reported with `finished`. */
  private finishCause: FinishCause | null;
  /** The reason text that went with {@link finishCause}. */
  private finishReason: string;
  private now: number;
  private readonly counters: Record<CountedProtocol, ProtocolCounters>;
  /** IP packets and GSO frames, the peer's MRU, the receive limits. */
  private readonly data: DataPath;
  /** Control packets in and out, Protocol-Rejects. */
  private readonly control: ControlIo;
  /** Received frames by protocol. */
  private readonly demux: Demux;

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
    this.framer = new HdlcFramer({});
    // Receive ACCM 0 until LCP says otherwise: our transports are 8-bit clean, and
    // pppd may send frames with raw control characters as soon as *it* is Opened.
    this.deframer = new HdlcDeframer((p, i) => this.demux.frame(p, i, this.now), {
      accm: 0,
      maxInfo: rxLimit(o.lcp.mru),
    });
    const l = o.lcp;
    const m = buildAutomata(o, this);
    this.lcpPolicy = m.lcpPolicy;
    this.lcp = m.lcp;
    this.ipcpPolicy = m.ipcpPolicy;
    this.ipcp = m.ipcp;
    this.ipv6cpPolicy = m.ipv6cpPolicy;
    this.ipv6cp = m.ipv6cp;
    this.echo = new EchoKeepalive(l.echoIntervalMs, l.echoFailures);
    this.auth = new AuthPhase(this, o.auth, o.random32);
    this.phaseValue = 'dead';
    this.events = new EventQueue();
    const ncps: NcpKind[] = [];
    if (this.ipcp !== null) ncps.push('ipv4');
    if (this.ipv6cp !== null) ncps.push('ipv6');
    this.net = new NetworkPhase(o.requireNetwork, ncps, o.negotiationTimeoutMs);
    this.finishCause = null;
    this.finishReason = '';
    this.now = 0;
    this.counters = newProtocolCounters();
    this.data = new DataPath(
      l.mru,
      this.framer,
      this.counters,
      (v) => (v === 4 ? this.ipcp : this.ipv6cp),
      onIpPacket ?? null,
      onGsoFrame ?? null,
    );
    this.control = new ControlIo(this.framer, this.counters, (line) => this.log(line));
    this.demux = new Demux({
      lcp: this.lcp,
      ipcp: this.ipcp,
      ipv6cp: this.ipv6cp,
      auth: this.auth,
      counters: this.counters,
      control: this.control,
      data: this.data,
      phase: () => this.phaseValue,
    });
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
    return this.data.sendIp(packet);
  }

  /**
   * Frames one GSO frame (`virtio_net_hdr | IP packet`, gso.ts). False = dropped and
   * counted: GSO frames not agreed, the NCP of the inner IP version not Opened, the
   * frame shorter than the virtio header plus an IP header, the packet longer than the
   * peer accepts, or the output full. The virtio header is not checked here.
   */
  sendGso(frame: Uint8Array, nowMs: number): boolean {
    this.now = nowMs;
    return this.data.sendGso(frame);
  }

  /** True while GSO frames are agreed both ways (between lcp-up and LCP leaving Opened). */
  get gsoEnabled(): boolean {
    return this.data.gsoOn;
  }

  /** Coalesced HDLC bytes to write to the transport, or null. */
  takeOutput(): Uint8Array | null {
    return this.framer.take();
  }

  /** {@link takeOutput} as a view, valid only until the engine frames again (no copy). */
  takeOutputView(): Uint8Array | null {
    return this.framer.takeView();
  }

  /** Events since the last call. */
  takeEvents(): EngineEvent[] {
    return this.events.take();
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
    return statsSnapshot({
      phase: this.phaseValue,
      lcp: this.lcp,
      ipcp: this.ipcp,
      ipv6cp: this.ipv6cp,
      counters: this.counters,
      framer: this.framer,
      deframer: this.deframer,
      control: this.control,
      echo: this.echo,
      eventsDropped: this.events.dropped,
      data: this.data,
    });
  }

  // ---- receive path ------------------------------------------------------------------------

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
    this.control.protRejRcvd++;
    this.log(`Protocol-Reject for '${protocolLongName(proto)}' (${protocolHex(proto)}) received`);
    const now = this.now;
    if ((proto === Protocol.IPCP || proto === Protocol.IPv4) && this.ipcp !== null) {
      this.ipcp.protocolRejected(now);
    } else if ((proto === Protocol.IPV6CP || proto === Protocol.IPv6) && this.ipv6cp !== null) {
      this.ipv6cp.protocolRejected(now);
    } else if (proto === Protocol.GsoFrame && this.data.gsoOn) {
      // Should not happen after the LCP agreement; stop sending them (receiving goes on).
      this.data.stopSendingGso();
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
    this.control.send(fsm, code, id, data);
  }

  /** LCP codes 8-11 (Protocol-Reject, Echo, Discard) go out with the negotiated framing. */
  private sendLcpExtra(code: number, id: number, data: Uint8Array): void {
    this.control.send(this.lcp, code, id, data);
  }

  /** AuthSink: frame and log a PAP/CHAP packet. */
  sendAuth(protocol: number, pkt: AuthPacket): void {
    this.control.sendAuth(protocol, pkt);
  }

  // ---- FsmHost: layer events ---------------------------------------------------------------

  maxPacketLen(fsm: Fsm): number {
    void fsm;
    return this.data.peerMru;
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
    const problem = fsm === this.ipcp ? (this.ipcpPolicy?.problem ?? null) : null;
    return ncpFailureText(fsm.name, reason, problem);
  }

  private lcpUp(nowMs: number): void {
    const p = this.lcpPolicy;
    const his = p.his;
    const got = p.got;
    const mru = got.effectiveMru;
    // GSO frames go both ways: each end asked (and was acked) and acked the other's ask.
    const maxInfo = this.data.lcpUp(his.effectiveMru, mru, got.gso && his.gso, his.gsoMaxPacket);
    const d = this.data;
    // Our sending side follows what the peer asked for and we acked (RFC 1661 §6.5/§6.6, RFC 1662 §7.1).
    this.framer.configure({
      accm: his.negAccm ? his.accm : 0xffffffff,
      pfc: his.pfc,
      acfc: his.acfc,
    });
    this.deframer.configure({
      accm: got.negAccm ? got.accm : 0xffffffff,
      maxInfo,
    });
    if (d.gsoOn) this.log(`GSO frames on (peer takes IP packets up to ${d.peerGsoMax})`);
    this.emit({
      type: 'lcp-up',
      mtu: d.peerMru,
      mru,
      peerMagic: his.negMagic ? his.magic : 0,
      gso: d.gsoOn,
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
    if (this.net.size === 0) this.terminate(nowMs, 'no-network-protocol', NO_NETWORK_PROTOCOLS);
  }

  private downNcps(nowMs: number): void {
    this.ipcp?.down(nowMs);
    this.ipv6cp?.down(nowMs);
    this.net.reset();
  }

  /** IPCP opened: `ipv4-up`, or closes IPCP (pppd's texts) when an address is missing. */
  private ipcpUp(nowMs: number): boolean {
    const r = ipcpUpReport(this.ipcpPolicy as IpcpPolicy);
    if (!r.ok) {
      this.ipcp?.close(nowMs, r.closeReason);
      return false;
    }
    for (const line of r.lines) this.log(line);
    this.emit(r.event);
    return true;
  }

  private ipv6cpUp(): void {
    const r = ipv6cpUpReport(this.ipv6cpPolicy as Ipv6cpPolicy);
    if (!r.ok) return;
    for (const line of r.lines) this.log(line);
    this.emit(r.event);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private resetFraming(): void {
    this.data.reset();
    this.framer.configure({ accm: 0xffffffff, pfc: false, acfc: false });
    this.deframer.configure({ accm: 0, maxInfo: this.data.plainRxLimit });
  }

  private setPhase(phase: LinkPhase): void {
    if (this.phaseValue === phase) return;
    this.phaseValue = phase;
    this.emit({ type: 'phase', phase });
  }

  private emit(e: EngineEvent): void {
    this.events.push(e);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
