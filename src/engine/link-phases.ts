/**
 * The link's phases (RFC 1661 §3): what the engine does when its automata report a
 * layer Up, Down or Finished, when authentication ends, when the echo keepalive or the
 * negotiation deadline gives up, and when the peer rejects a protocol (§5.7); which
 * phase the link is in, and why it ended (the `finished` cause, first cause wins).
 * The engine feeds it its FsmHost/AuthSink callbacks and its open/close/lowerDown.
 */

import type { HdlcDeframer, HdlcFramer } from '../hdlc/index.js';
import type { EchoKeepalive } from '../lcp/echo.js';
import type { IpcpPolicy } from '../ncp/ipcp-policy.js';
import type { Ipv6cpPolicy } from '../ncp/ipv6cp-policy.js';
import { readU32, u32Bytes } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import { PppError } from '../ppp/errors.js';
import type { Fsm } from '../ppp/fsm.js';
import { FsmState } from '../ppp/fsm-table.js';
import type { ControlPacket } from '../ppp/packet.js';
import { Protocol, protocolHex, protocolLongName } from '../ppp/protocols.js';
import type { AuthPhase } from './auth-phase.js';
import type { Automata } from './automata.js';
import type { ControlIo } from './control-io.js';
import type { DataPath } from './data-path.js';
import type { EventQueue } from './event-queue.js';
import type { EngineEvent, FinishCause, LinkPhase } from './events.js';
import { ipcpUpReport, ipv6cpUpReport, ncpFailureText } from './ncp-report.js';
import { type NcpKind, type NetworkPhase, NO_NETWORK_PROTOCOLS } from './network-phase.js';

/** The parts of one engine the phase transitions act on. */
export interface LinkParts extends Automata {
  framer: HdlcFramer;
  deframer: HdlcDeframer;
  echo: EchoKeepalive;
  auth: AuthPhase;
  /** NCPs of this network phase: up, finished, the negotiation deadline. */
  net: NetworkPhase;
  /** IP packets and GSO frames, the peer's MRU, the receive limits. */
  data: DataPath;
  /** Control packets in and out, Protocol-Rejects. */
  control: ControlIo;
  events: EventQueue;
  log: (line: string) => void;
}

/** The phase transitions of one link. */
export class LinkPhases {
  private readonly framer: HdlcFramer;
  private readonly deframer: HdlcDeframer;
  private readonly lcpPolicy: Automata['lcpPolicy'];
  private readonly lcp: Fsm;
  private readonly ipcpPolicy: IpcpPolicy | null;
  private readonly ipcp: Fsm | null;
  private readonly ipv6cpPolicy: Ipv6cpPolicy | null;
  private readonly ipv6cp: Fsm | null;
  private readonly echo: EchoKeepalive;
  private readonly auth: AuthPhase;
  private phaseValue: LinkPhase;
  private readonly events: EventQueue;
  private readonly net: NetworkPhase;
  /** Why the link is ending (first cause wins), reported with `finished`. */
  private finishCause: FinishCause | null;
  /** The reason text that went with {@link finishCause}. */
  private finishReason: string;
  private readonly data: DataPath;
  private readonly control: ControlIo;
  private readonly log: (line: string) => void;

  constructor(p: LinkParts) {
    this.framer = p.framer;
    this.deframer = p.deframer;
    this.lcpPolicy = p.lcpPolicy;
    this.lcp = p.lcp;
    this.ipcpPolicy = p.ipcpPolicy;
    this.ipcp = p.ipcp;
    this.ipv6cpPolicy = p.ipv6cpPolicy;
    this.ipv6cp = p.ipv6cp;
    this.echo = p.echo;
    this.auth = p.auth;
    this.phaseValue = 'dead';
    this.events = p.events;
    this.net = p.net;
    this.finishCause = null;
    this.finishReason = '';
    this.data = p.data;
    this.control = p.control;
    this.log = p.log;
  }

  /** Current link phase. */
  get phase(): LinkPhase {
    return this.phaseValue;
  }

  /** Lower layer up + administrative Open: phase `establish`, LCP opens (engine.open). */
  open(nowMs: number): void {
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

  /** Administrative Close (engine.close): ends the link with cause `local-close`. */
  close(nowMs: number, reason: string): void {
    if (this.phaseValue === 'dead') return;
    this.terminate(nowMs, 'local-close', reason);
  }

  /** Ends the link: LCP Terminate-Request with `reason`; `finished` will carry `cause`. */
  terminate(nowMs: number, cause: FinishCause, reason: string): void {
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

  /** The transport is gone (engine.lowerDown): `finished`, cause `lower-layer-down` if none yet. */
  lowerDown(nowMs: number): void {
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

  /** The echo keepalive's timer: the next Echo-Request, or the end of the link. */
  echoTimeout(nowMs: number): void {
    const act = this.echo.poll(nowMs);
    if (act !== null) {
      if (act.kind === 'send') {
        this.sendLcpExtra(Code.EchoReq, act.id, u32Bytes(this.lcpPolicy.ourMagic));
      } else {
        this.log(`No response to ${this.echo.failures} echo-requests`);
        this.terminate(nowMs, 'echo-timeout', 'peer not responding');
      }
    }
  }

  /** The negotiation deadline passed: end the link unless the needed protocols are up. */
  negotiationTimeout(nowMs: number): void {
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

  /** LCP Echo-Reply: its round trip (`echo-rtt`), unless it is our own echo looped back. */
  onEchoReply(pkt: ControlPacket, now: number): void {
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

  /** The peer's Protocol-Reject (RFC 1661 §5.7): that protocol stops (an NCP, GSO, auth). */
  onPeerProtocolReject(proto: number, now: number): void {
    this.control.protRejRcvd++;
    this.log(`Protocol-Reject for '${protocolLongName(proto)}' (${protocolHex(proto)}) received`);
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

  /** LCP codes 8-11 (Protocol-Reject, Echo, Discard) go out with the negotiated framing. */
  private sendLcpExtra(code: number, id: number, data: Uint8Array): void {
    this.control.send(this.lcp, code, id, data);
  }

  /** tlu: LCP up starts authentication or the network; an NCP up is reported. */
  thisLayerUp(fsm: Fsm, nowMs: number): void {
    if (fsm === this.lcp) this.lcpUp(nowMs);
    else if (fsm === this.ipcp) {
      if (this.ipcpUp(nowMs)) this.ncpUp('ipv4');
    } else if (fsm === this.ipv6cp) {
      this.ipv6cpUp();
      this.ncpUp('ipv6');
    }
  }

  /** tld: LCP or an NCP left Opened. */
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

  /** tlf: LCP finished ends the link; an NCP finished may (RFC 1661 §3.6). */
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
}
