/**
 * PppEngine: one PPP link, sans-IO (docs/ARCHITECTURE.md `src/engine`).
 *
 * Owns the HDLC framer/deframer, the LCP automaton (+ echo keepalive), the
 * authentication phase and the IPCP/IPv6CP automata; demultiplexes received
 * frames by protocol and frames outgoing control and IP packets. The phase
 * transitions (RFC 1661 §3.2, §5.7 Protocol-Reject, the finish cause) are
 * link-phases.ts, which gets the automata's layer events from here. The owner
 * feeds bytes and time in and drains output, events and the next deadline.
 * Between two ts-vpn ends it can also carry GSO frames (gso.ts), once LCP
 * agreed on them both ways.
 */

import type { AuthPacket } from '../auth/index.js';
import { HdlcDeframer, HdlcFramer } from '../hdlc/index.js';
import { EchoKeepalive } from '../lcp/echo.js';
import { Code } from '../ppp/codes.js';
import { PppError } from '../ppp/errors.js';
import type { Fsm, FsmHost } from '../ppp/fsm.js';
import { AuthPhase, type AuthSink } from './auth-phase.js';
import { buildAutomata } from './automata.js';
import { ControlIo } from './control-io.js';
import { DataPath, type GsoFrameHandler, rxLimit } from './data-path.js';
import { Demux } from './demux.js';
import { EventQueue } from './event-queue.js';
import type { EngineEvent, LinkPhase } from './events.js';
import { LinkPhases } from './link-phases.js';
import { type NcpKind, NetworkPhase } from './network-phase.js';
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
  private readonly lcp: Fsm;
  private readonly ipcp: Fsm | null;
  private readonly ipv6cp: Fsm | null;
  private readonly echo: EchoKeepalive;
  private readonly auth: AuthPhase;
  private readonly events: EventQueue;
  /** NCPs of this network phase: up, finished, the negotiation deadline. */
  private readonly net: NetworkPhase;
  /** The phase transitions and why the link ended (link-phases.ts). */
  private readonly phases: LinkPhases;
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
    const lcpPolicy = m.lcpPolicy;
    this.lcp = m.lcp;
    this.ipcp = m.ipcp;
    this.ipv6cp = m.ipv6cp;
    this.echo = new EchoKeepalive(l.echoIntervalMs, l.echoFailures);
    this.auth = new AuthPhase(this, o.auth, o.random32);
    this.events = new EventQueue();
    const ncps: NcpKind[] = [];
    if (this.ipcp !== null) ncps.push('ipv4');
    if (this.ipv6cp !== null) ncps.push('ipv6');
    this.net = new NetworkPhase(o.requireNetwork, ncps, o.negotiationTimeoutMs);
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
    this.phases = new LinkPhases({
      ...m,
      framer: this.framer,
      deframer: this.deframer,
      echo: this.echo,
      auth: this.auth,
      net: this.net,
      data: this.data,
      control: this.control,
      events: this.events,
      log: (line) => this.log(line),
    });
    this.demux = new Demux({
      lcp: this.lcp,
      ipcp: this.ipcp,
      ipv6cp: this.ipv6cp,
      auth: this.auth,
      counters: this.counters,
      control: this.control,
      data: this.data,
      phase: () => this.phases.phase,
    });
    lcpPolicy.onEchoReply = (pkt, now) => this.phases.onEchoReply(pkt, now);
    lcpPolicy.onPeerProtocolReject = (proto) => this.phases.onPeerProtocolReject(proto, this.now);
    lcpPolicy.onPeerCodeReject = (code) => {
      if (code === Code.EchoReq) this.echo.stop();
    };
  }

  // ---- public API --------------------------------------------------------------------------

  /** Current link phase. */
  get phase(): LinkPhase {
    return this.phases.phase;
  }

  /** Lower layer up + administrative Open: LCP starts negotiating (unless silent). */
  open(nowMs: number): void {
    this.now = nowMs;
    this.phases.open(nowMs);
  }

  /** Administrative Close: LCP Terminate-Request with `reason` (pppd: "User request"). */
  close(nowMs: number, reason = 'User request'): void {
    this.now = nowMs;
    this.phases.close(nowMs, reason);
  }

  /** The transport is gone. */
  lowerDown(nowMs: number): void {
    this.now = nowMs;
    this.phases.lowerDown(nowMs);
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
    this.phases.echoTimeout(nowMs);
    if (this.net.expired(nowMs)) this.phases.negotiationTimeout(nowMs);
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
      phase: this.phases.phase,
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

  // ---- FsmHost and AuthSink: control packets out, layer events to the phases ----------------

  /** FsmHost: frame and log one control packet. LCP codes 1-7 use the link defaults (RFC 1661 §6). */
  send(fsm: Fsm, code: number, id: number, data: Uint8Array): void {
    this.control.send(fsm, code, id, data);
  }

  /** AuthSink: frame and log a PAP/CHAP packet. */
  sendAuth(protocol: number, pkt: AuthPacket): void {
    this.control.sendAuth(protocol, pkt);
  }

  maxPacketLen(fsm: Fsm): number {
    void fsm;
    return this.data.peerMru;
  }

  thisLayerUp(fsm: Fsm, nowMs: number): void {
    this.phases.thisLayerUp(fsm, nowMs);
  }

  thisLayerDown(fsm: Fsm, nowMs: number): void {
    this.phases.thisLayerDown(fsm, nowMs);
  }

  thisLayerStarted(fsm: Fsm, nowMs: number): void {
    void fsm;
    void nowMs;
  }

  thisLayerFinished(fsm: Fsm, reason: string, nowMs: number): void {
    this.phases.thisLayerFinished(fsm, reason, nowMs);
  }

  /** AuthSink: outcome of the Authenticate phase (or a later CHAP failure). */
  authResult(ok: boolean, message: string, peerName: string | undefined, nowMs: number): void {
    this.phases.authResult(ok, message, peerName, nowMs);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
