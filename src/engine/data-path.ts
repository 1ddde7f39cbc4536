/**
 * The engine's data path: IPv4/IPv6 packets and GSO frames (gso.ts) out through the
 * framer and in from the demultiplexer, with their counters, the peer's MRU and the
 * receive limits that follow from the LCP agreement.
 */

import type { HdlcFramer } from '../hdlc/index.js';
import type { Fsm } from '../ppp/fsm.js';
import { DEFAULT_MRU } from '../ppp/mru.js';
import { Protocol } from '../ppp/protocols.js';
import { GSO_MAX_PACKET, GsoCounters, gsoInnerVersion, VNET_HDR_LEN } from './gso.js';
import type { CountedProtocol, ProtocolCounters } from './stats.js';

/** Deframer limit: the largest information field we take, at least the default MRU (RFC 1661 §6.1). */
export function rxLimit(mru: number): number {
  return Math.max(DEFAULT_MRU, mru) + 4;
}

/** Deframer limit while GSO frames are on: a virtio header and our largest GSO packet, or the MRU limit. */
export function gsoRxLimit(mru: number): number {
  return Math.max(rxLimit(mru), VNET_HDR_LEN + GSO_MAX_PACKET + 4);
}

/** Receives a GSO frame (view valid only during the call); `version` is the inner IP version. */
export type GsoFrameHandler = (frame: Uint8Array, version: 4 | 6) => void;

/** Receives an IPv4/IPv6 packet (view valid only during the call). */
export type IpPacketHandler = (version: 4 | 6, packet: Uint8Array) => void;

/** IP packets and GSO frames of one engine. */
export class DataPath {
  /** Peer's MRU once LCP is up (limits what we send). */
  peerMru = DEFAULT_MRU;
  /** GSO frames agreed both ways for the current LCP session. */
  gsoOn = false;
  /** Largest IP packet the peer accepts in a GSO frame (its option value); 0 when off. */
  peerGsoMax = 0;
  /** Largest information field of a non-GSO frame (the deframer may be wider for GSO). */
  plainRxLimit: number;
  readonly gsoCounters = new GsoCounters();

  /** `ncp`: the NCP of an IP version, null when the engine does not run it. */
  constructor(
    private readonly ourMru: number,
    private readonly framer: HdlcFramer,
    private readonly counters: Record<CountedProtocol, ProtocolCounters>,
    private readonly ncp: (version: 4 | 6) => Fsm | null,
    private readonly onIp: IpPacketHandler | null,
    private readonly onGso: GsoFrameHandler | null,
  ) {
    this.plainRxLimit = rxLimit(ourMru);
  }

  /** Back to the link defaults (no LCP agreement). */
  reset(): void {
    this.peerMru = DEFAULT_MRU;
    this.gsoOn = false;
    this.peerGsoMax = 0;
    this.plainRxLimit = rxLimit(this.ourMru);
  }

  /**
   * LCP opened: the peer's MRU, our MRU `mru`, and GSO frames when `gso` (agreed both
   * ways) with the peer's largest packet. Returns the deframer's limit.
   */
  lcpUp(peerMru: number, mru: number, gso: boolean, peerGsoMax: number): number {
    this.peerMru = peerMru;
    this.gsoOn = gso;
    this.peerGsoMax = gso ? peerGsoMax : 0;
    this.plainRxLimit = rxLimit(mru);
    return gso ? gsoRxLimit(mru) : rxLimit(mru);
  }

  /** The peer Protocol-Rejected GSO frames: stop sending them (receiving goes on). */
  stopSendingGso(): void {
    this.gsoOn = false;
    this.peerGsoMax = 0;
  }

  /** Frames an IPv4 or IPv6 packet (version from the first nibble). False = dropped and counted. */
  sendIp(packet: Uint8Array): boolean {
    const version = packet.length > 0 ? packet[0] >>> 4 : 0;
    let c: ProtocolCounters;
    let proto: number;
    let open: boolean;
    if (version === 4) {
      c = this.counters.ipv4;
      proto = Protocol.IPv4;
      open = this.ncp(4)?.isOpened === true;
    } else if (version === 6) {
      c = this.counters.ipv6;
      proto = Protocol.IPv6;
      open = this.ncp(6)?.isOpened === true;
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

  /** Frames one GSO frame; see {@link PppEngine.sendGso}. False = dropped and counted. */
  sendGso(frame: Uint8Array): boolean {
    const g = this.gsoCounters;
    const version = gsoInnerVersion(frame);
    const c =
      version === 4 ? this.counters.ipv4 : version === 6 ? this.counters.ipv6 : this.counters.other;
    const open =
      version === 4
        ? this.ncp(4)?.isOpened === true
        : version === 6 && this.ncp(6)?.isOpened === true;
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

  /**
   * A received frame above the MRU-based limit (only possible while the deframer is
   * widened for GSO frames): true = counted and to be dropped.
   */
  oversize(protocol: number, info: Uint8Array): boolean {
    if (info.length > this.plainRxLimit && protocol !== Protocol.GsoFrame) {
      this.gsoCounters.rxOversize++;
      return true;
    }
    return false;
  }

  /**
   * A received IP packet. False = the engine does not run this version's NCP at all
   * (nothing counted: the caller Protocol-Rejects or drops it).
   */
  receiveIp(version: 4 | 6, info: Uint8Array): boolean {
    const ncp = this.ncp(version);
    if (ncp === null) return false;
    const c = version === 4 ? this.counters.ipv4 : this.counters.ipv6;
    if (!ncp.isOpened) {
      c.drops++;
      return true;
    }
    c.rxPackets++;
    c.rxBytes += info.length;
    this.onIp?.(version, info);
    return true;
  }

  /** A GSO frame while the capability is on (otherwise it is an unknown protocol). */
  receiveGso(info: Uint8Array): void {
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
    const ncp = this.ncp(version);
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
}
