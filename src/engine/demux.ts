/**
 * Received frames by protocol (RFC 1661 §3.2 phases, §5.7 Protocol-Reject): LCP at any
 * time, PAP/CHAP once LCP is Opened, the NCPs in the Network phase, IP packets and GSO
 * frames to the data path, everything else Protocol-Rejected.
 */

import type { Fsm } from '../ppp/fsm.js';
import { Protocol } from '../ppp/protocols.js';
import type { AuthPhase } from './auth-phase.js';
import type { ControlIo } from './control-io.js';
import type { DataPath } from './data-path.js';
import type { LinkPhase } from './events.js';
import type { CountedProtocol, ProtocolCounters } from './stats.js';

/** The parts of one engine that received frames go to. */
export interface DemuxTargets {
  lcp: Fsm;
  ipcp: Fsm | null;
  ipv6cp: Fsm | null;
  auth: AuthPhase;
  counters: Record<CountedProtocol, ProtocolCounters>;
  control: ControlIo;
  data: DataPath;
  /** The engine's current phase. */
  phase: () => LinkPhase;
}

/** Routes each received frame of one engine. */
export class Demux {
  private readonly t: DemuxTargets;

  constructor(targets: DemuxTargets) {
    this.t = targets;
  }

  /** One deframed frame (view valid only during the call). */
  frame(protocol: number, info: Uint8Array, now: number): void {
    const t = this.t;
    // Only possible while the deframer is widened for GSO frames: keep the MRU bound.
    if (t.data.oversize(protocol, info)) return;
    if (protocol === Protocol.GsoFrame && t.data.gsoOn) {
      t.data.receiveGso(info);
      return;
    }
    switch (protocol) {
      case Protocol.LCP:
        t.control.receiveControl(t.lcp, t.counters.lcp, info, now);
        return;
      case Protocol.IPv4:
        this.receiveIp(4, info);
        return;
      case Protocol.IPv6:
        this.receiveIp(6, info);
        return;
    }
    // RFC 1661 §3.4/§3.5: only LCP (and authentication) before the Network phase.
    if (!t.lcp.isOpened) {
      t.counters.other.drops++;
      return;
    }
    if (protocol === Protocol.PAP || protocol === Protocol.CHAP) {
      t.control.receiveAuth(t.auth, protocol, info, now);
      return;
    }
    if (t.phase() !== 'network') {
      t.counters.other.drops++;
      return;
    }
    if (protocol === Protocol.IPCP && t.ipcp !== null) {
      t.control.receiveControl(t.ipcp, t.counters.ipcp, info, now);
      return;
    }
    if (protocol === Protocol.IPV6CP && t.ipv6cp !== null) {
      t.control.receiveControl(t.ipv6cp, t.counters.ipv6cp, info, now);
      return;
    }
    // Everything else (CCP, disabled NCPs, VJ, unknown): §5.7 Protocol-Reject.
    t.control.sendProtocolReject(t.lcp, t.data.peerMru, protocol, info);
  }

  /** An IP packet; one of a version the engine does not run is Protocol-Rejected (LCP up). */
  private receiveIp(version: 4 | 6, info: Uint8Array): void {
    const t = this.t;
    if (t.data.receiveIp(version, info)) return;
    if (t.lcp.isOpened)
      t.control.sendProtocolReject(
        t.lcp,
        t.data.peerMru,
        version === 4 ? Protocol.IPv4 : Protocol.IPv6,
        info,
      );
    else (version === 4 ? t.counters.ipv4 : t.counters.ipv6).drops++;
  }
}
