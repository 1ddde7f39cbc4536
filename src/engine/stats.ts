/** Engine counters (all monotonic; shapes fixed at construction). */

import type { DeframerStats, FramerStats } from '../hdlc/index.js';
import type { FsmStats } from '../ppp/fsm.js';
import type { LinkPhase } from './events.js';
import type { GsoCounters } from './gso.js';

/** Per-protocol traffic counters. */
export class ProtocolCounters {
  /** Packets received and processed. */
  rxPackets = 0;
  /** Bytes of those packets (information field). */
  rxBytes = 0;
  /** Packets sent. */
  txPackets = 0;
  /** Bytes sent (information field). */
  txBytes = 0;
  /** Packets dropped: received or offered while the protocol was not usable, or output full. */
  drops = 0;
  /** Malformed packets received. */
  bad = 0;
}

/** Names under which {@link EngineStats.protocols} reports counters. */
export type CountedProtocol =
  | 'lcp'
  | 'pap'
  | 'chap'
  | 'ipcp'
  | 'ipv6cp'
  | 'ipv4'
  | 'ipv6'
  | 'other';

/** Snapshot returned by {@link PppEngine.stats}. */
export interface EngineStats {
  phase: LinkPhase;
  /** RFC state names of the automata (`Opened`, `Req-Sent`…); null when the protocol is disabled. */
  states: { lcp: string; ipcp: string | null; ipv6cp: string | null };
  protocols: Record<CountedProtocol, ProtocolCounters>;
  /** Automaton counters (stale replies, bad packets, illegal events…). */
  fsm: { lcp: FsmStats; ipcp: FsmStats | null; ipv6cp: FsmStats | null };
  framing: { tx: FramerStats; rx: DeframerStats };
  /** Protocol-Rejects we sent / received. */
  protocolRejectsSent: number;
  protocolRejectsReceived: number;
  /** LCP keepalive. */
  echo: { sent: number; answered: number; lastRttMs: number | null };
  /** Events dropped because the event queue was full (owner not draining). */
  eventsDropped: number;
  /**
   * GSO frames: `enabled` while the capability is on for this LCP session;
   * `peerMaxPacket` the largest IP packet the peer accepts in one (0 when off).
   */
  gso: GsoCounters & { enabled: boolean; peerMaxPacket: number };
}

/** A fresh set of per-protocol counters. */
export function newProtocolCounters(): Record<CountedProtocol, ProtocolCounters> {
  return {
    lcp: new ProtocolCounters(),
    pap: new ProtocolCounters(),
    chap: new ProtocolCounters(),
    ipcp: new ProtocolCounters(),
    ipv6cp: new ProtocolCounters(),
    ipv4: new ProtocolCounters(),
    ipv6: new ProtocolCounters(),
    other: new ProtocolCounters(),
  };
}
