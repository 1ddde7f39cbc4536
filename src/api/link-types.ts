/**
 * What a {@link PppLink} reports: the negotiated result, why it went down, its states,
 * its events and its counters (the public types of src/api/link.ts), and how the
 * counter snapshot is assembled from the engine's and the stream's counters.
 */
import type { LinkPhase } from '../engine/events.js';
import type { EngineStats } from '../engine/index.js';
import type { PppLinkError, PppLinkErrorCode } from './errors.js';

/** What was negotiated, reported by `up` and {@link PppLink.ready}. */
export interface PppLinkInfo {
  /** IPCP result (RFC 1332/1877), or null when IPv4 is off or was refused. */
  ipv4: { local: string; peer: string; dns: string[] } | null;
  /** IPv6CP result (RFC 5072): fe80:: link-local addresses, or null. */
  ipv6: { local: string; peer: string } | null;
  /** Largest packet we may send: the peer's MRU. */
  mtu: number;
}

/** Why a link went down or closed. */
export interface PppLinkDownReason {
  /** Stable code: CLOSED (our close()), ABORTED, PPP_LINK_DOWN, PPP_NEGOTIATION_FAILED, PPP_AUTH_FAILED, STREAM_ERROR. */
  code: PppLinkErrorCode;
  /** One line for people, e.g. `peer: User request`. */
  message: string;
}

/** Lifecycle of a {@link PppLink}. */
export type PppLinkState =
  /** LCP/auth/NCP negotiation (also after a renegotiation). */
  | 'negotiating'
  /** At least one network protocol is up: packets flow. */
  | 'up'
  /** close() or abort: terminating, then ending the stream. */
  | 'closing'
  /** Finished; the stream has been ended. */
  | 'closed';

/** Event map of {@link PppLink} (Node EventEmitter, typed). */
export interface PppLinkEvents {
  /** The network layer is up (first IPCP/IPv6CP open, plus whatever opened with it). */
  up: [info: PppLinkInfo];
  /** A network protocol opened or closed while up (e.g. IPv6CP opening late). */
  update: [info: PppLinkInfo];
  /** The network layer went down (after `up`). Followed by `close`, or by `up` after a renegotiation. */
  down: [reason: PppLinkDownReason];
  /** An IP packet arrived: `data` is a copy the listener owns. */
  packet: [version: 4 | 6, data: Uint8Array];
  /** PPP link phase (RFC 1661 §3.2): dead, establish, authenticate, network, terminate. */
  phase: [phase: LinkPhase];
  /** The stream wants the writer to wait (false return of write) has cleared: `send` freely again. */
  drain: [];
  /** The stream failed. Emitted only when somebody listens (the link closes either way). */
  error: [err: PppLinkError];
  /** The link is finished and the stream ended; emitted once. */
  close: [reason: PppLinkDownReason];
}

/** Counter snapshot of a {@link PppLink}. */
export interface PppLinkStats {
  state: PppLinkState;
  phase: LinkPhase;
  /** IP packets/bytes sent; `drops` = send() calls refused (not up, too big, output full). */
  tx: { packets: number; bytes: number; drops: number };
  /** IP packets/bytes received; `queueDrops` = dropped by full packets() buffers; `unclaimed` = no listener, no iterator. */
  rx: { packets: number; bytes: number; queueDrops: number; unclaimed: number };
  /** Bytes handed to / read from the stream; writes that hit backpressure. */
  stream: { bytesRead: number; bytesWritten: number; writes: number; backpressured: number };
  /** LCP keepalive. */
  echo: { sent: number; answered: number; lastRttMs: number | null };
  /** Everything the engine counts. */
  engine: EngineStats;
}

/** The stream counters a LinkDriver keeps (src/link/driver.ts). */
interface StreamCounters {
  bytesRead: number;
  bytesWritten: number;
  writes: number;
  backpressured: number;
}

/** The link's {@link PppLinkStats}: IP traffic summed over IPv4 and IPv6, plus its own drops. */
export function linkStats(
  state: PppLinkState,
  e: EngineStats,
  c: StreamCounters,
  own: { sendDrops: number; queueDrops: number; unclaimed: number },
): PppLinkStats {
  const v4 = e.protocols.ipv4;
  const v6 = e.protocols.ipv6;
  return {
    state,
    phase: e.phase,
    tx: {
      packets: v4.txPackets + v6.txPackets,
      bytes: v4.txBytes + v6.txBytes,
      drops: v4.drops + v6.drops + own.sendDrops,
    },
    rx: {
      packets: v4.rxPackets + v6.rxPackets,
      bytes: v4.rxBytes + v6.rxBytes,
      queueDrops: own.queueDrops,
      unclaimed: own.unclaimed,
    },
    stream: {
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
      writes: c.writes,
      backpressured: c.backpressured,
    },
    echo: { ...e.echo },
    engine: e,
  };
}
