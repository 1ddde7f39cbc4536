/**
 * The RFC 1661 §4 option negotiation automaton, shared by LCP, IPCP and
 * IPv6CP. Sans-IO: packets go out through {@link FsmHost.send}; the restart
 * timer is a deadline ({@link Fsm.nextDeadline} / {@link Fsm.handleTimeout}).
 *
 * Every event runs exactly the actions of the §4.1 table (see fsm-table.ts).
 * Beyond the table, as pppd does:
 *  - replies (Ack/Nak/Reject) must carry the id of our outstanding
 *    Configure-Request and come only once; others are stale and dropped;
 *  - a Configure-Ack must repeat our request byte for byte (§5.2);
 *  - a Configure-Reject must list our options unchanged (§5.4);
 *  - after Max-Failure Naks sent without an Ack, Naks become Rejects (§4.6);
 *  - `silent`: on Up wait in Stopped for the peer's Configure-Request
 *    (§4.2 Stopped, implementation option); `passive`: after TO- stay in
 *    Stopped without This-Layer-Finished (footnote p);
 *  - a new negotiation started from Opened re-initialises the restart counter
 *    and the policy's options (pppd `fsm_sconfreq`), though the table lists no irc;
 *  - bounded loops: if the peer keeps sending requests we must refuse, or
 *    keeps refusing ours, the layer is closed with a reason.
 */

import { latin1Bytes, visibleString } from './bytes.js';
import { Code } from './codes.js';
import { formatControlBody } from './format.js';
import { DEFAULT_FSM_CONFIG, type FsmConfig, type FsmStats } from './fsm-config.js';
import { ConfigureExchange, codeRejectBody, cutToPeer } from './fsm-configure.js';
import {
  FSM_STATE_NAMES,
  FSM_TABLE,
  type FsmAction,
  type FsmEvent,
  FsmState,
  type FsmStateId,
} from './fsm-table.js';
import { DEFAULT_MRU } from './mru.js';
import { parseOptions } from './options.js';
import type { ControlPacket } from './packet.js';
import type { FsmPolicy, LcpHooks } from './policy.js';

/** What the automaton needs from its owner (the engine). */
export interface FsmHost {
  /** Transmit one control packet of `fsm.protocol`. */
  send(fsm: Fsm, code: number, id: number, data: Uint8Array): void;
  /** tlu: the layer is Opened. */
  thisLayerUp(fsm: Fsm, nowMs: number): void;
  /** tld: the layer left Opened. */
  thisLayerDown(fsm: Fsm, nowMs: number): void;
  /** tls: the layer needs the lower layer. */
  thisLayerStarted(fsm: Fsm, nowMs: number): void;
  /** tlf: the layer no longer needs the lower layer. */
  thisLayerFinished(fsm: Fsm, reason: string, nowMs: number): void;
  /** Largest control packet the peer accepts (its MRU); Code-Rejects are cut to it. */
  maxPacketLen?(fsm: Fsm): number;
}

/** Context of the event being processed (the packet that caused it). */
interface EventContext {
  packet: ControlPacket | null;
  /** ConfNak/ConfRej data prepared by RCR- evaluation. */
  replyCode: number;
  replyData: Uint8Array;
}

export { DEFAULT_FSM_CONFIG, type FsmConfig, type FsmStats };

const EMPTY = new Uint8Array(0);

/** The RFC 1661 automaton for one control protocol. */
export class Fsm {
  /** Protocol number (from the policy). */
  readonly protocol: number;
  /** Policy deciding options for this protocol. */
  readonly policy: FsmPolicy;
  /** LCP's extra codes and Nak exemption; null for the NCPs. */
  private readonly lcpHooks: LcpHooks | null;
  /** Limits and timing. */
  readonly config: FsmConfig;
  /** Counters. */
  readonly stats: FsmStats;

  private readonly host: FsmHost;
  private stateId: FsmStateId;
  /** Restart counter (§4.6). */
  private restartCount: number;
  /** Restart timer deadline, or null when not running. */
  private deadline: number | null;
  /** Last identifier used by this automaton's own requests. */
  private lastId: number;
  /** Our Configure-Request, its replies and the negotiation's loop counters. */
  private readonly cx: ConfigureExchange;
  /** Why the layer is terminating / finished. */
  private reason: string;
  /** Reason text for our Terminate-Requests. */
  private termData: Uint8Array;
  /** Close requested from inside an event, applied after it. */
  private pendingClose: string | null;
  private readonly ctx: EventContext;
  /** Actions executed by the last event (for tests and debugging). */
  readonly lastActions: FsmAction[];
  /** Event processing depth, to defer nested closes. */
  private depth: number;
  /** The event being processed (null outside {@link Fsm.signal}); lets tld/tlf callbacks tell why. */
  currentEvent: FsmEvent | null;

  /** `lcpHooks`: LCP alone handles codes 8-13 and exempts Magic-Number Naks. */
  constructor(
    policy: FsmPolicy,
    host: FsmHost,
    config?: Partial<FsmConfig>,
    lcpHooks: LcpHooks | null = null,
  ) {
    this.protocol = policy.protocol;
    this.policy = policy;
    this.lcpHooks = lcpHooks;
    this.host = host;
    this.config = { ...DEFAULT_FSM_CONFIG, ...config };
    this.stats = {
      staleReplies: 0,
      badPackets: 0,
      illegalEvents: 0,
      codeRejectsSent: 0,
      confReqsSent: 0,
    };
    this.stateId = FsmState.Initial;
    this.restartCount = 0;
    this.deadline = null;
    this.lastId = 0;
    this.cx = new ConfigureExchange(policy, this.config, lcpHooks, this.stats);
    this.reason = '';
    this.termData = EMPTY;
    this.pendingClose = null;
    this.ctx = { packet: null, replyCode: 0, replyData: EMPTY };
    this.lastActions = [];
    this.depth = 0;
    this.currentEvent = null;
  }

  /** Current state number (see {@link FsmState}). */
  get state(): FsmStateId {
    return this.stateId;
  }

  /** Current state name as in the RFC (`Req-Sent`). */
  get stateName(): string {
    return FSM_STATE_NAMES[this.stateId];
  }

  /** pppd name of the protocol (`LCP`). */
  get name(): string {
    return this.policy.printer.name;
  }

  /** True in the Opened state. */
  get isOpened(): boolean {
    return this.stateId === FsmState.Opened;
  }

  /** The reason recorded for the last termination. */
  get lastReason(): string {
    return this.reason;
  }

  /**
   * Allocates the next identifier of this protocol's counter. LCP shares it
   * between Configure-, Terminate-, Code- and Protocol-Reject (as pppd).
   */
  nextId(): number {
    this.lastId = (this.lastId + 1) & 0xff;
    return this.lastId;
  }

  /** Restart timer deadline, or null. */
  nextDeadline(): number | null {
    return this.deadline;
  }

  // ---- administrative and lower-layer events -------------------------------------------------

  /** Lower layer is up (§4.3 Up). */
  up(nowMs: number): void {
    if (this.config.silent && this.stateId === FsmState.Starting) {
      // §4.2 Stopped, implementation option: wait for the peer's Configure-Request.
      this.lastActions.length = 0;
      this.setState(FsmState.Stopped);
      return;
    }
    this.signal('Up', nowMs);
  }

  /** Lower layer is down (§4.3 Down). */
  down(nowMs: number): void {
    this.signal('Down', nowMs);
  }

  /** Administrative Open (§4.3 Open). */
  open(nowMs: number): void {
    if (this.config.silent && this.stateId === FsmState.Closed) {
      this.lastActions.length = 0;
      this.setState(FsmState.Stopped);
      return;
    }
    this.signal('Open', nowMs);
  }

  /** Administrative Close (§4.3 Close); `reason` goes into the Terminate-Request. */
  close(nowMs: number, reason = 'User request'): void {
    if (this.depth > 0) {
      this.pendingClose = reason;
      return;
    }
    this.reason = reason;
    this.termData = latin1Bytes(reason);
    this.signal('Close', nowMs);
  }

  /** The peer Protocol-Rejected this protocol (RXJ-, §4.3). */
  protocolRejected(nowMs: number): void {
    this.reason = `${this.name}: protocol rejected by peer`;
    this.termData = latin1Bytes(this.reason);
    this.signal('RXJ-', nowMs);
  }

  /** Fires the restart timer if its deadline has passed (TO+ / TO-). */
  handleTimeout(nowMs: number): void {
    if (this.deadline === null || nowMs < this.deadline) return;
    this.deadline = null;
    if (this.restartCount > 0) {
      this.signal('TO+', nowMs);
      return;
    }
    const negotiating =
      this.stateId === FsmState.ReqSent ||
      this.stateId === FsmState.AckRcvd ||
      this.stateId === FsmState.AckSent;
    if (negotiating) {
      this.reason = `${this.name}: no reply to ${this.config.maxConfigure} Configure-Requests`;
      if (this.config.passive) {
        // Footnote p: stay in Stopped without tlf, waiting for the peer.
        this.lastActions.length = 0;
        this.setState(FsmState.Stopped);
        return;
      }
    }
    this.signal('TO-', nowMs);
  }

  // ---- packets ------------------------------------------------------------------------------

  /** Processes one received control packet of this protocol. Never throws on peer input. */
  receive(pkt: ControlPacket, nowMs: number): void {
    switch (pkt.code) {
      case Code.ConfReq:
        this.receiveConfReq(pkt, nowMs);
        break;
      case Code.ConfAck:
        if (!this.cx.takeAck(pkt, this.isNegotiating())) return;
        this.signal('RCA', nowMs, pkt);
        break;
      case Code.ConfNak:
      case Code.ConfRej:
        this.receiveNakRej(pkt, nowMs);
        break;
      case Code.TermReq:
        if (this.stateId === FsmState.Opened) {
          const text = visibleString(pkt.data);
          this.reason =
            text.length > 0
              ? `${this.name} terminated by peer (${text})`
              : `${this.name} terminated by peer`;
        }
        this.signal('RTR', nowMs, pkt);
        break;
      case Code.TermAck:
        this.signal('RTA', nowMs, pkt);
        break;
      case Code.CodeRej:
        this.receiveCodeReject(pkt, nowMs);
        break;
      default:
        this.receiveExtra(pkt, nowMs);
    }
  }

  private receiveConfReq(pkt: ControlPacket, nowMs: number): void {
    const s = this.stateId;
    if (s === FsmState.Initial || s === FsmState.Starting) {
      this.stats.illegalEvents++;
      return;
    }
    if (s === FsmState.Closed || s === FsmState.Closing || s === FsmState.Stopping) {
      // The table answers without looking at the options.
      this.signal('RCR+', nowMs, pkt);
      return;
    }
    const options = parseOptions(pkt.data);
    if (options === null) {
      this.stats.badPackets++;
      return;
    }
    const reply = this.cx.judgePeer(options);
    if (reply === null) {
      this.signal('RCR+', nowMs, pkt);
    } else {
      this.ctx.replyCode = reply.code;
      this.ctx.replyData = reply.data;
      this.signal('RCR-', nowMs, pkt);
      if (this.cx.refusingTooLong && this.pendingClose === null) {
        this.pendingClose = `${this.name}: peer keeps requesting options we refuse`;
      }
    }
    this.afterNegotiationEvent(nowMs);
  }

  private receiveNakRej(pkt: ControlPacket, nowMs: number): void {
    if (!this.cx.takeNakRej(pkt, this.isNegotiating())) return;
    this.signal('RCN', nowMs, pkt);
    if (this.cx.refusedTooLong && this.pendingClose === null) {
      const hint = this.policy.failureHint?.() ?? null;
      this.pendingClose = `${this.name}: peer keeps refusing our options${hint !== null ? ` (${hint})` : ''}`;
    }
    this.afterNegotiationEvent(nowMs);
  }

  private receiveCodeReject(pkt: ControlPacket, nowMs: number): void {
    if (pkt.data.length < 1) {
      this.stats.badPackets++;
      return;
    }
    const rejected = pkt.data[0];
    if (rejected >= Code.ConfReq && rejected <= Code.CodeRej) {
      this.reason = `${this.name}: peer rejected code ${rejected}`;
      this.termData = latin1Bytes(this.reason);
      this.signal('RXJ-', nowMs, pkt);
    } else {
      this.lcpHooks?.onCodeReject(rejected);
      this.signal('RXJ+', nowMs, pkt);
    }
  }

  private receiveExtra(pkt: ControlPacket, nowMs: number): void {
    const kind = this.lcpHooks?.extraCode(pkt.code) ?? null;
    if (kind === null) {
      this.signal('RUC', nowMs, pkt);
    } else if (kind === 'rxr') {
      this.signal('RXR', nowMs, pkt);
    } else if (kind === 'protrej') {
      const catastrophic = this.lcpHooks?.onProtocolReject(pkt) ?? false;
      if (catastrophic) {
        this.reason = `${this.name}: protocol rejected by peer`;
        this.termData = latin1Bytes(this.reason);
      }
      this.signal(catastrophic ? 'RXJ-' : 'RXJ+', nowMs, pkt);
    }
    // 'ignore': silently discarded (e.g. RFC 1570 Identification).
  }

  private afterNegotiationEvent(nowMs: number): void {
    const fatal = this.policy.takeFatal?.() ?? null;
    if (fatal !== null && this.pendingClose === null) this.pendingClose = fatal;
    this.flushPendingClose(nowMs);
  }

  private flushPendingClose(nowMs: number): void {
    if (this.depth > 0 || this.pendingClose === null) return;
    const reason = this.pendingClose;
    this.pendingClose = null;
    const s = this.stateId;
    if (s === FsmState.Closed || s === FsmState.Closing || s === FsmState.Initial) return;
    this.close(nowMs, reason);
  }

  private isNegotiating(): boolean {
    const s = this.stateId;
    return s === FsmState.ReqSent || s === FsmState.AckRcvd || s === FsmState.AckSent;
  }

  // ---- the table ----------------------------------------------------------------------------

  /**
   * Runs one event through the §4.1 table: the cell's actions in order, then
   * the new state. Illegal events are counted and ignored. Exposed for the
   * state-table tests; normal callers use the methods above.
   */
  signal(event: FsmEvent, nowMs: number, packet: ControlPacket | null = null): void {
    const cell = FSM_TABLE[event][this.stateId];
    this.lastActions.length = 0;
    if (cell === null) {
      this.stats.illegalEvents++;
      return;
    }
    const from = this.stateId;
    const outer = this.currentEvent;
    this.ctx.packet = packet;
    this.currentEvent = event;
    this.depth++;
    try {
      for (const a of cell.actions) {
        this.lastActions.push(a);
        this.runAction(a, event, from, cell.next, nowMs);
      }
      this.setState(cell.next);
      // tlu/tlf callbacks run after the state change so the owner sees the final state.
      for (const a of cell.actions) {
        if (a === 'tlu') this.host.thisLayerUp(this, nowMs);
        else if (a === 'tlf') this.host.thisLayerFinished(this, this.reason, nowMs);
      }
    } finally {
      this.depth--;
      this.ctx.packet = null;
      this.currentEvent = outer;
    }
    this.flushPendingClose(nowMs);
  }

  private setState(next: FsmStateId): void {
    this.stateId = next;
    if (
      next === FsmState.Initial ||
      next === FsmState.Starting ||
      next === FsmState.Closed ||
      next === FsmState.Stopped ||
      next === FsmState.Opened
    ) {
      // §4.2: the restart timer runs only in Closing, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent.
      this.deadline = null;
    }
  }

  private runAction(
    a: FsmAction,
    event: FsmEvent,
    from: FsmStateId,
    next: FsmStateId,
    nowMs: number,
  ): void {
    switch (a) {
      case 'tlu':
      case 'tlf':
        // Deferred until the state has changed (see signal()).
        return;
      case 'tld':
        this.host.thisLayerDown(this, nowMs);
        return;
      case 'tls':
        this.host.thisLayerStarted(this, nowMs);
        return;
      case 'irc':
        this.restartCount =
          next === FsmState.Closing || next === FsmState.Stopping
            ? this.config.maxTerminate
            : this.config.maxConfigure;
        return;
      case 'zrc':
        this.restartCount = 0;
        this.deadline = nowMs + this.config.restartMs;
        return;
      case 'scr':
        this.sendConfigureRequest(event === 'TO+', from, nowMs);
        return;
      case 'sca': {
        const p = this.ctx.packet;
        if (p !== null) this.host.send(this, Code.ConfAck, p.id, p.data);
        return;
      }
      case 'scn': {
        const p = this.ctx.packet;
        if (p !== null) this.host.send(this, this.ctx.replyCode, p.id, this.ctx.replyData);
        return;
      }
      case 'str': {
        this.restartCount--;
        this.deadline = nowMs + this.config.restartMs;
        // The reason text is cut to the peer's MRU, as pppd's fsm_sdata does.
        const max = this.host.maxPacketLen?.(this) ?? DEFAULT_MRU;
        this.host.send(this, Code.TermReq, this.nextId(), cutToPeer(this.termData, max));
        return;
      }
      case 'sta': {
        const p = this.ctx.packet;
        this.host.send(this, Code.TermAck, p !== null ? p.id : this.nextId(), EMPTY);
        return;
      }
      case 'scj':
        this.sendCodeReject();
        return;
      case 'ser': {
        const p = this.ctx.packet;
        if (p === null || this.lcpHooks === null) return;
        const reply = this.lcpHooks.onRxr(p, nowMs);
        if (reply !== null) this.host.send(this, reply.code, reply.id, reply.data);
        return;
      }
    }
  }

  private sendConfigureRequest(retransmit: boolean, from: FsmStateId, nowMs: number): void {
    const wasNegotiating =
      from === FsmState.ReqSent || from === FsmState.AckRcvd || from === FsmState.AckSent;
    // A fresh negotiation (pppd fsm_sconfreq): reset our options and the loop counters.
    if (!wasNegotiating && from === FsmState.Opened) this.restartCount = this.config.maxConfigure;
    this.cx.startRequest(!wasNegotiating, retransmit, () => this.nextId());
    this.restartCount--;
    this.deadline = nowMs + this.config.restartMs;
    this.stats.confReqsSent++;
    this.host.send(this, Code.ConfReq, this.cx.reqId, this.cx.reqData);
  }

  private sendCodeReject(): void {
    const p = this.ctx.packet;
    if (p === null) return;
    const body = codeRejectBody(p, this.host.maxPacketLen?.(this) ?? DEFAULT_MRU);
    this.stats.codeRejectsSent++;
    this.host.send(this, Code.CodeRej, this.nextId(), body);
  }

  /** pppd-style text of a packet of this protocol (without `sent`/`rcvd` and brackets). */
  describe(pkt: ControlPacket): string {
    return formatControlBody(this.policy.printer, pkt);
  }
}
