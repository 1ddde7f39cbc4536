/**
 * Config → PppEngine options, for both ends. The only place where peer.yaml /
 * server.yaml PPP settings meet the engine's option names.
 */
import { randomBytes } from 'node:crypto';
import { secretsEqual } from '../auth/index.js';
import type { PeerConfig, ServerConfig } from '../config/index.js';
import type { EngineOptions } from '../engine/index.js';
import { inAnyPrefix4, type Prefix4, parseIpv4, parsePrefix4 } from '../wire/ip.js';

/** Cryptographic randomness for magic numbers, interface ids and challenges. */
export function random32(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** A predicate "address lies in one of these prefixes" (IPv4 prefixes only count), parsed once. */
export function inAnyPrefix(prefixes: readonly string[]): (addr: string) => boolean {
  const v4: Prefix4[] = [];
  for (const p of prefixes) {
    const parsed = parsePrefix4(p);
    if (parsed !== null) v4.push(parsed);
  }
  return (addr) => {
    const a = parseIpv4(addr);
    return a !== null && inAnyPrefix4(v4, a);
  };
}

/**
 * Client engine options. `previousLocal` (after a reconnect) is asked for again:
 * the far end may agree (same address, nothing to reconfigure) or assign another
 * one that `accept-local` allows.
 */
export function clientEngineOptions(
  cfg: PeerConfig,
  log: (line: string) => void,
  previousLocal?: string | null,
): EngineOptions {
  const p = cfg.ppp;
  return {
    random32,
    log,
    lcp: {
      mru: p.mru,
      accm: p.accm,
      echoIntervalMs: p.echoIntervalMs,
      echoFailures: p.echoFailures,
      restartMs: p.restartMs,
      maxConfigure: p.maxConfigure,
      maxTerminate: p.maxTerminate,
      maxFailure: p.maxFailure,
    },
    ipcp: {
      local: p.localAddress ?? previousLocal ?? null,
      peer: p.peerAddress,
      acceptLocal: inAnyPrefix(p.acceptLocal),
      acceptPeer: inAnyPrefix(p.acceptPeer),
      requestDns: p.usePeerDns,
    },
    ipv6cp: p.ipv6 ? {} : false,
    // The tunnel is IPv4 (IPv6 link-local rides along): IPCP failing ends the link
    // with its reason even when IPv6CP opened (no half-up link).
    requireNetwork: 'ipv4',
    // A stock pppd far end does not know our private GSO option: not offering it saves
    // one LCP round trip (a Configure-Reject) per bring-up.
    peerKind: cfg.remote.kind === 'pppd' ? 'pppd' : 'ts-vpn',
    auth: p.auth?.password ? { user: p.auth.user, password: p.auth.password.reveal() } : {},
  };
}

/** What a far end's engine options come from: server.yaml, or gateway.yaml with one user's policy. */
export type FarEndEngineConfig = Pick<
  ServerConfig,
  'mru' | 'echoIntervalMs' | 'echoFailures' | 'localAddress' | 'dns' | 'ipv6' | 'auth'
>;

/**
 * Server engine options (`ts-vpn serve`, and each `ts-vpn gateway` session): we assign
 * `peer` and accept only what `acceptPeer` (policy) allows.
 */
export function serverEngineOptions(
  cfg: FarEndEngineConfig,
  log: (line: string) => void,
  peer: string,
  acceptPeer: (addr: string) => boolean,
): EngineOptions {
  const users = new Map(cfg.auth.users.map((u) => [u.user, u.password?.reveal() ?? null]));
  const require = cfg.auth.require === 'none' ? null : cfg.auth.require;
  return {
    random32,
    log,
    lcp: {
      mru: cfg.mru,
      echoIntervalMs: cfg.echoIntervalMs,
      echoFailures: cfg.echoFailures,
    },
    ipcp: {
      local: cfg.localAddress,
      peer,
      // The server's own address is fixed by its config: never take another one.
      acceptLocal: (a) => a === cfg.localAddress,
      acceptPeer,
      dns: cfg.dns,
      // pppd's IPCP Nak-loop limit.
      maxFailure: 100,
    },
    ipv6cp: cfg.ipv6 ? {} : false,
    requireNetwork: 'ipv4',
    auth:
      require === null
        ? {}
        : {
            require,
            name: cfg.auth.name,
            verify: (user, password) => {
              const want = users.get(user);
              // Constant time: a PAP verify must not leak how much of a guess matched.
              return want !== undefined && want !== null && secretsEqual(want, password);
            },
            secretFor: (name) => users.get(name) ?? null,
          },
  };
}
