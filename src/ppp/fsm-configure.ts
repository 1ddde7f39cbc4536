/**
 * The Configure-Request/Ack/Nak/Reject work of the RFC 1661 automaton (fsm.ts), apart
 * from its state transitions: our outstanding request and the checks on its replies
 * (§5.2, §5.4), judging a peer's request through the policy's codec table into the
 * Configure-Nak or Configure-Reject to send (§5.3, §5.4) with the loop bounds of §4.6,
 * and cutting Terminate-Request and Code-Reject data to the peer's MRU.
 */

import { bytesEqual } from './bytes.js';
import { Code } from './codes.js';
import type { FsmConfig, FsmStats } from './fsm-config.js';
import { emitOptions, parseOptions, type RawOption } from './options.js';
import type { ControlPacket } from './packet.js';
import { applyNak, applyReject, type FsmPolicy, judgePeerOption, type LcpHooks } from './policy.js';

/** A Configure-Nak or Configure-Reject to send: its code and option bytes. */
export interface ConfigureReply {
  code: number;
  data: Uint8Array;
}

/**
 * Judges the peer's options: null when all are acceptable (Configure-Ack), otherwise the
 * reply. The most severe verdict wins and the reply carries only the options of that
 * verdict (§5.3, §5.4). `nakAllowed` false (Max-Failure reached) turns Naks into Rejects,
 * except those LCP exempts (`hooks`).
 */
export function judgeRequest(
  p: FsmPolicy,
  options: RawOption[],
  nakAllowed: boolean,
  hooks: LcpHooks | null,
): ConfigureReply | null {
  p.beginPeerRequest();
  const naks: RawOption[] = [];
  const rejects: RawOption[] = [];
  for (const o of options) {
    // Parsed through the codec table; a malformed option is Rejected (§5.4).
    const v = judgePeerOption(p, o);
    const forceReject = v.kind === 'nak' && !nakAllowed && !(hooks?.nakExempt(o.type) ?? false);
    if (v.kind === 'reject' || forceReject) rejects.push(o);
    else if (v.kind === 'nak') naks.push({ type: o.type, data: v.data });
  }
  if (rejects.length === 0 && p.missingOptions !== undefined) {
    for (const o of p.missingOptions(nakAllowed)) naks.push(o);
  }
  if (rejects.length > 0) return { code: Code.ConfRej, data: emitOptions(rejects) };
  if (naks.length > 0) return { code: Code.ConfNak, data: emitOptions(naks) };
  return null;
}

/** §5.4: rejected options must appear in our request `reqData`, unchanged and in order. */
export function isSubsetOfRequest(reqData: Uint8Array, rejected: RawOption[]): boolean {
  const ours = parseOptions(reqData);
  if (ours === null) return false;
  let j = 0;
  for (const r of rejected) {
    while (j < ours.length && !(ours[j].type === r.type && bytesEqual(ours[j].data, r.data))) j++;
    if (j === ours.length) return false;
    j++;
  }
  return true;
}

/** Terminate-Request text cut to a peer accepting `maxPacket` octets, as pppd's fsm_sdata does. */
export function cutToPeer(data: Uint8Array, maxPacket: number): Uint8Array {
  const room = Math.max(0, maxPacket - 4);
  return data.length > room ? data.subarray(0, room) : data;
}

/** Code-Reject data: the rejected packet (header included) cut to the peer's `maxPacket`. */
export function codeRejectBody(p: ControlPacket, maxPacket: number): Uint8Array {
  const full = 4 + p.data.length;
  const keep = Math.max(0, Math.min(full, maxPacket - 4));
  const body = new Uint8Array(keep);
  const hdr = [p.code, p.id, (full >>> 8) & 0xff, full & 0xff];
  for (let i = 0; i < keep && i < 4; i++) body[i] = hdr[i];
  if (keep > 4) body.set(p.data.subarray(0, keep - 4), 4);
  return body;
}

const EMPTY = new Uint8Array(0);

/**
 * Our side of the Configure exchange of one automaton: our outstanding Configure-Request
 * (id and options), whether it was answered, and the loop counters that bound a
 * negotiation (Max-Failure Naks, requests refused / refusals received in a row).
 */
export class ConfigureExchange {
  /** Identifier and options of our outstanding Configure-Request. */
  reqId = -1;
  reqData: Uint8Array = EMPTY;
  /** True once a reply to reqId has been processed. */
  private replySeen = true;
  /** Naks sent since the last Ack sent (Max-Failure, §4.6). */
  private nakLoops = 0;
  /** Requests of the peer we refused in a row (bounded loop). */
  private refusedInRow = 0;
  /** Naks/Rejects of our requests in a row (bounded loop). */
  private refusalsInRow = 0;
  private readonly policy: FsmPolicy;
  private readonly config: FsmConfig;
  private readonly hooks: LcpHooks | null;
  private readonly stats: FsmStats;

  constructor(policy: FsmPolicy, config: FsmConfig, hooks: LcpHooks | null, stats: FsmStats) {
    this.policy = policy;
    this.config = config;
    this.hooks = hooks;
    this.stats = stats;
  }

  /** A new Configure-Request; `fresh` (pppd fsm_sconfreq) resets our options and the loop counters. */
  startRequest(fresh: boolean, retransmit: boolean, nextId: () => number): void {
    if (fresh) {
      this.policy.resetNegotiation();
      this.nakLoops = 0;
      this.refusedInRow = 0;
      this.refusalsInRow = 0;
    }
    if (!retransmit || this.reqId < 0) {
      this.reqId = nextId();
      this.reqData = emitOptions(this.policy.ownOptions());
    }
    this.replySeen = false;
  }

  /** Judges the peer's request (see {@link judgeRequest}) and counts refusals. */
  judgePeer(options: RawOption[]): ConfigureReply | null {
    const reply = judgeRequest(
      this.policy,
      options,
      this.nakLoops < this.config.maxFailure,
      this.hooks,
    );
    if (reply === null) {
      this.nakLoops = 0;
      this.refusedInRow = 0;
    } else {
      if (reply.code === Code.ConfNak) this.nakLoops++;
      this.refusedInRow++;
    }
    return reply;
  }

  /** True when we refused more requests in a row than the limits allow. */
  get refusingTooLong(): boolean {
    return this.refusedInRow > this.config.maxConfigure + this.config.maxFailure;
  }

  /** True when the peer refused more of our requests in a row than Max-Configure. */
  get refusedTooLong(): boolean {
    return this.refusalsInRow > this.config.maxConfigure;
  }

  /** Common id checks for Configure-Ack/Nak/Reject: stale replies are dropped and counted. */
  acceptReply(pkt: ControlPacket): boolean {
    if (pkt.id !== this.reqId || this.replySeen) {
      this.stats.staleReplies++;
      return false;
    }
    return true;
  }

  /** A Configure-Ack: true when it answers our request, byte for byte (§5.2). */
  takeAck(pkt: ControlPacket, negotiating: boolean): boolean {
    if (!this.acceptReply(pkt)) return false;
    if (!bytesEqual(pkt.data, this.reqData)) {
      // §5.2: the options must be exactly those we sent.
      this.stats.staleReplies++;
      return false;
    }
    this.replySeen = true;
    this.refusalsInRow = 0;
    if (negotiating) this.policy.onAck();
    return true;
  }

  /** A Configure-Nak/Reject: true when valid (applied to the policy while `negotiating`). */
  takeNakRej(pkt: ControlPacket, negotiating: boolean): boolean {
    if (!this.acceptReply(pkt)) return false;
    const options = parseOptions(pkt.data);
    if (options === null) {
      this.stats.badPackets++;
      return false;
    }
    let ok: boolean;
    if (pkt.code === Code.ConfRej) {
      ok =
        isSubsetOfRequest(this.reqData, options) &&
        (!negotiating || applyReject(this.policy, options));
    } else {
      // A Nak with a malformed option is invalid as a whole.
      ok = !negotiating || applyNak(this.policy, options);
    }
    if (!ok) {
      this.stats.badPackets++;
      return false;
    }
    this.replySeen = true;
    this.refusalsInRow++;
    return true;
  }
}
