/** Events the engine reports to its owner (docs/ARCHITECTURE.md, `src/engine` contract). */

/** Link phases (RFC 1661 §3.2). */
export type LinkPhase = 'dead' | 'establish' | 'authenticate' | 'network' | 'terminate';

/** Everything {@link PppEngine.takeEvents} can return. */
export type EngineEvent =
  /** The link phase changed. */
  | { type: 'phase'; phase: LinkPhase }
  /**
   * LCP reached Opened: `mtu` is the peer's MRU (what we may send), `mru` ours; `gso` true
   * when both ends agreed on GSO frames (each requested it and the other acked).
   */
  | { type: 'lcp-up'; mtu: number; mru: number; peerMagic: number; gso: boolean }
  /** Authentication phase passed (`peerName` when we authenticated the peer). */
  | { type: 'auth-ok'; peerName?: string }
  /** Authentication failed either way; the link is being closed. */
  | { type: 'auth-failed'; message: string }
  /** IPCP opened. */
  | { type: 'ipv4-up'; local: string; peer: string; dns: string[] }
  /** IPCP left Opened. */
  | { type: 'ipv4-down' }
  /** IPv6CP opened; `local`/`peer` are the fe80:: link-local addresses. */
  | { type: 'ipv6-up'; localId: Uint8Array; peerId: Uint8Array; local: string; peer: string }
  /** IPv6CP left Opened. */
  | { type: 'ipv6-down' }
  /** LCP left Opened. */
  | { type: 'down'; reason: string }
  /** The link is dead: the runtime should close the transport. */
  | { type: 'finished'; reason: string }
  /** Added: an LCP Echo-Reply arrived; round-trip time of that echo. */
  | { type: 'echo-rtt'; rttMs: number };
