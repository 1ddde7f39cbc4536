/**
 * The engine's control traffic: LCP/NCP packets and PAP/CHAP packets in (parsed, counted,
 * logged pppd-style, handed to their automaton) and out (framed, counted, logged), and the
 * Protocol-Rejects we send (RFC 1661 §5.7).
 */

import { type AuthPacket, encodeAuthPacket, formatChap, formatPap } from '../auth/index.js';
import type { HdlcFramer } from '../hdlc/index.js';
import { visibleString } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import type { Fsm } from '../ppp/fsm.js';
import { emitControlPacket, parseControlPacket } from '../ppp/packet.js';
import { Protocol, protocolHex, protocolLongName } from '../ppp/protocols.js';
import type { AuthPhase } from './auth-phase.js';
import type { CountedProtocol, ProtocolCounters } from './stats.js';

/** pppd-style description of a PAP/CHAP packet. */
function describeAuth(protocol: number, pkt: AuthPacket): string {
  return protocol === Protocol.PAP ? `PAP ${formatPap(pkt)}` : `CHAP ${formatChap(pkt)}`;
}

/** Control packets of one engine. */
export class ControlIo {
  /** Protocol-Rejects we sent / received. */
  protRejSent = 0;
  protRejRcvd = 0;
  private readonly framer: HdlcFramer;
  private readonly counters: Record<CountedProtocol, ProtocolCounters>;
  private readonly log: (line: string) => void;

  constructor(
    framer: HdlcFramer,
    counters: Record<CountedProtocol, ProtocolCounters>,
    log: (line: string) => void,
  ) {
    this.framer = framer;
    this.counters = counters;
    this.log = log;
  }

  /** Frame and log one control packet. LCP codes 1-7 use the link defaults (RFC 1661 §6). */
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

  /** Frame and log a PAP/CHAP packet. */
  sendAuth(protocol: number, pkt: AuthPacket): void {
    this.log(`sent [${describeAuth(protocol, pkt)}]`);
    const bytes = encodeAuthPacket(pkt);
    const c = protocol === Protocol.PAP ? this.counters.pap : this.counters.chap;
    if (this.framer.writeFrame(protocol, bytes, false)) {
      c.txPackets++;
      c.txBytes += bytes.length;
    } else {
      c.drops++;
    }
  }

  /**
   * §5.7 Protocol-Reject of a received packet (LCP `lcp` Opened only): the rejected
   * protocol, then as much of the packet as fits the peer's MRU.
   */
  sendProtocolReject(lcp: Fsm, peerMru: number, protocol: number, info: Uint8Array): void {
    if (!lcp.isOpened) return;
    this.counters.other.drops++;
    this.log(
      `Unsupported protocol '${protocolLongName(protocol)}' (${protocolHex(protocol)}) received`,
    );
    const room = Math.max(0, peerMru - 6);
    const n = Math.min(info.length, room);
    const data = new Uint8Array(2 + n);
    data[0] = protocol >>> 8;
    data[1] = protocol & 0xff;
    data.set(info.subarray(0, n), 2);
    this.protRejSent++;
    this.send(lcp, Code.ProtRej, lcp.nextId(), data);
  }

  /** A received LCP/IPCP/IPv6CP packet for `fsm`, counted in `c`. */
  receiveControl(fsm: Fsm, c: ProtocolCounters, info: Uint8Array, now: number): void {
    const r = parseControlPacket(info);
    if (!r.ok) {
      c.bad++;
      return;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
    this.log(`rcvd [${fsm.describe(r.packet)}]`);
    if (fsm.protocol === Protocol.LCP && r.packet.code === Code.TermReq && fsm.isOpened) {
      const data = r.packet.data;
      this.log(`LCP terminated by peer${data.length > 0 ? ` (${visibleString(data)})` : ''}`);
    }
    fsm.receive(r.packet, now);
  }

  /** A received PAP/CHAP packet, routed through `auth`. */
  receiveAuth(auth: AuthPhase, protocol: number, info: Uint8Array, now: number): void {
    const c = protocol === Protocol.PAP ? this.counters.pap : this.counters.chap;
    const r = parseControlPacket(info);
    if (!r.ok) {
      c.bad++;
      return;
    }
    const pkt: AuthPacket = { code: r.packet.code, id: r.packet.id, data: r.packet.data };
    this.log(`rcvd [${describeAuth(protocol, pkt)}]`);
    if (!auth.receive(protocol, pkt, now)) {
      c.drops++;
      return;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
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
}
