/** Events the engine reports to its owner (docs/ARCHITECTURE.md, `src/engine` contract). */

/** Link phases (RFC 1661 §3.2). */
export type LinkPhase = 'dead' | 'establish' | 'authenticate' | 'network' | 'terminate';

/**
 * Why the link finished, for programs (the `reason` text is for people):
 *  - `local-close`: the owner called `close()`;
 *  - `lower-layer-down`: the owner called `lowerDown()` (the transport is gone);
 *  - `peer-terminated`: the peer sent an LCP Terminate-Request (its text is in `reason`);
 *  - `lcp-failed`: LCP did not converge (no reply to our Configure-Requests, a refusal
 *    loop, a core code or LCP itself rejected by the peer);
 *  - `loopback`: the link is looped back (RFC 1661 §6.4, `loopbackFail` Magic-Number Naks);
 *  - `auth-failed`: authentication failed either way, or the peer refused to authenticate;
 *  - `echo-timeout`: no reply to `echoFailures` Echo-Requests in a row;
 *  - `no-network-protocol`: the network protocols the engine needs (`requireNetwork`) can no
 *    longer come up: each one finished (failed, was rejected, or was closed by the peer);
 *    `reason` names the protocol, option and address, e.g. `No network protocols running
 *    (IPCP failed: peer address 10.9.9.9 is outside accept-peer)`;
 *  - `negotiation-timeout`: they were not up within `negotiationTimeoutMs`.
 */
export type FinishCause =
  | 'local-close'
  | 'lower-layer-down'
  | 'peer-terminated'
  | 'lcp-failed'
  | 'loopback'
  | 'auth-failed'
  | 'echo-timeout'
  | 'no-network-protocol'
  | 'negotiation-timeout';

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
  /**
   * The link is dead: the runtime should close the transport. `reason` is the text also
   * sent in our Terminate-Request (or the peer's, or the local event); `cause` says why
   * in a form programs can switch on.
   */
  | { type: 'finished'; reason: string; cause: FinishCause }
  /** Added: an LCP Echo-Reply arrived; round-trip time of that echo. */
  | { type: 'echo-rtt'; rttMs: number };
