/**
 * {@link PppLinkOptions}: what an embedding program may set on a {@link PppLink},
 * with role-dependent defaults, and their translation to {@link EngineOptions}.
 */
import { randomBytes } from 'node:crypto';
import type { AuthOptions, EngineOptions, LcpOptions } from '../engine/index.js';
import { parseIpv4 } from '../wire/ip.js';
import { type AddressFilter, addressMatcher } from './cidr.js';
import { invalidOptions } from './errors.js';

/** Which end of the link this is; it only changes defaults (see {@link PppLinkOptions}). */
export type PppRole = 'client' | 'server';

/**
 * Authentication (RFC 1334 PAP, RFC 1994 CHAP-MD5). Give `user`/`password` to prove
 * who we are when the peer asks; give `require` with `verify` (PAP) or `secretFor`
 * (CHAP) to authenticate the peer. Both may be set.
 */
export interface PppAuthOptions {
  /** Our name when the peer authenticates us (PAP peer-id, CHAP name). */
  user?: string;
  /** Our PAP password / CHAP secret. */
  password?: string;
  /** Authenticate the peer with this protocol. */
  require?: 'pap' | 'chap';
  /** PAP: does this user/password pair pass? (use a constant-time compare, e.g. `secretsEqual`). */
  verify?: (user: string, password: string) => boolean;
  /** CHAP: the secret shared with `peerName`, or null to refuse. */
  secretFor?: (peerName: string) => string | null;
  /** CHAP: our name in Challenges; default "ts-vpn". */
  name?: string;
}

/** Options of a {@link PppLink}. Everything is optional for `role: 'client'`. */
export interface PppLinkOptions {
  /**
   * `'client'` (default): ask the peer for our address (`local: 'ask'`), take the
   * address the peer gives itself (`peer: 'ask'`), ask for DNS (`dns: true`).
   * `'server'`: `local` and `peer` must be given (use `'ask'` explicitly to leave one
   * to the other end); the peer may use only `peer` unless `acceptPeer` says more.
   */
  role?: PppRole;
  /** Our IPv4 address, or `'ask'` to let the peer assign it (RFC 1332 §3.3 with 0.0.0.0). */
  local?: string;
  /** The peer's IPv4 address we assign / insist on, or `'ask'` to take what it says. */
  peer?: string;
  /** Addresses we accept for ourselves from the peer: CIDR list or predicate. Default: any when `local` is `'ask'`, else none. */
  acceptLocal?: AddressFilter;
  /** Addresses the peer may use: CIDR list or predicate. Default: any when `peer` is `'ask'`, else only `peer`. */
  acceptPeer?: AddressFilter;
  /** `true`: ask the peer for DNS servers (RFC 1877; client default). A list: DNS servers to hand out (at most 2). */
  dns?: boolean | readonly string[];
  /** Our MRU, 128..65535; default 1500. */
  mru?: number;
  /** Our receive async control character map; default 0 (8-bit clean stream). */
  accm?: number;
  /** LCP Echo-Request interval in ms; 0 (default, like pppd) = no keepalive. */
  echoIntervalMs?: number;
  /** Unanswered echoes before the link is declared down; default 3. */
  echoFailures?: number;
  /** Negotiate IPv4 (IPCP); default true. */
  ipv4?: boolean;
  /** Negotiate IPv6 link-local addresses (IPv6CP); default true. */
  ipv6?: boolean;
  /** PAP/CHAP, see {@link PppAuthOptions}. */
  auth?: PppAuthOptions;
  /** Debug logger: receives pppd-style lines (`sent [LCP ConfReq id=0x1 <magic 0x…>]`). */
  log?: (line: string) => void;
  /** Random source for magic numbers, interface ids and CHAP challenges: a uniform 32-bit unsigned integer. Default: crypto. */
  random32?: () => number;
  /** Aborting closes the link (like `net.connect({ signal })`); `ready` then rejects with ABORTED. */
  signal?: AbortSignal;
  /** Give up (PPP_NEGOTIATION_FAILED) when no network protocol is up after this many ms. Default: restart timer × (max-configure + 2) + 5 s ≈ 41 s. */
  negotiationTimeoutMs?: number;
  /** Bound on `close()`'s LCP Terminate exchange and stream shutdown, ms; default 3000. */
  closeTimeoutMs?: number;
  /** Default buffer size (packets) of {@link PppLink.packets} iterators; default 1024. */
  packetBufferSize?: number;
  /** Advanced LCP tuning (restart timer, max-configure, passive, silent…); the top-level fields above win. */
  lcp?: LcpOptions;
}

/** Random 32-bit unsigned integers from node:crypto. */
export function cryptoRandom32(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** Validated link-level settings (the engine validates its own). */
export interface ResolvedLinkOptions {
  engine: EngineOptions;
  signal: AbortSignal | null;
  negotiationTimeoutMs: number;
  closeTimeoutMs: number;
  packetBufferSize: number;
  ipv4: boolean;
  ipv6: boolean;
}

const KNOWN_KEYS = new Set([
  'role',
  'local',
  'peer',
  'acceptLocal',
  'acceptPeer',
  'dns',
  'mru',
  'accm',
  'echoIntervalMs',
  'echoFailures',
  'ipv4',
  'ipv6',
  'auth',
  'log',
  'random32',
  'signal',
  'negotiationTimeoutMs',
  'closeTimeoutMs',
  'packetBufferSize',
  'lcp',
]);

function positiveInt(v: unknown, name: string, dflt: number, max = 2 ** 31): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw invalidOptions(`${name} must be an integer in 1..${max}, got ${String(v)}`);
  return v;
}

function address(v: unknown, name: string, required: boolean): string | null {
  if (v === undefined) {
    if (required) throw invalidOptions(`role 'server' needs ${name} (an IPv4 address, or 'ask')`);
    return null;
  }
  if (v === 'ask') return null;
  if (typeof v !== 'string' || parseIpv4(v) === null)
    throw invalidOptions(`${name} must be an IPv4 address or 'ask', got ${JSON.stringify(v)}`);
  return v;
}

/** Checks {@link PppLinkOptions} and builds the engine's options. Throws INVALID_OPTIONS. */
export function resolveLinkOptions(options: PppLinkOptions): ResolvedLinkOptions {
  if (options === null || typeof options !== 'object')
    throw invalidOptions('options must be an object');
  for (const k of Object.keys(options))
    if (!KNOWN_KEYS.has(k)) throw invalidOptions(`unknown option ${JSON.stringify(k)}`);
  const role = options.role ?? 'client';
  if (role !== 'client' && role !== 'server')
    throw invalidOptions(`role must be 'client' or 'server', got ${JSON.stringify(role)}`);
  const server = role === 'server';
  const ipv4 = options.ipv4 ?? true;
  const ipv6 = options.ipv6 ?? true;
  if (!ipv4 && !ipv6)
    throw invalidOptions('ipv4 and ipv6 are both off: no network protocol to run');
  const random32 = options.random32 ?? cryptoRandom32;
  if (typeof random32 !== 'function') throw invalidOptions('random32 must be a function');
  if (options.log !== undefined && typeof options.log !== 'function')
    throw invalidOptions('log must be a function');
  const signal = options.signal ?? null;
  if (signal !== null && !(signal instanceof AbortSignal))
    throw invalidOptions('signal must be an AbortSignal');

  let ipcp: EngineOptions['ipcp'] = false;
  if (ipv4) {
    const local = address(options.local, 'local', server);
    const peer = address(options.peer, 'peer', server);
    const dns = options.dns ?? !server;
    if (typeof dns !== 'boolean' && !Array.isArray(dns))
      throw invalidOptions('dns must be a boolean or a list of IPv4 addresses');
    if (Array.isArray(dns)) {
      if (dns.length > 2) throw invalidOptions('dns takes at most 2 addresses');
      dns.forEach((d, i) => {
        if (typeof d !== 'string' || parseIpv4(d) === null)
          throw invalidOptions(`dns[${i}] is not an IPv4 address: ${JSON.stringify(d)}`);
      });
    }
    ipcp = {
      local,
      peer,
      requestDns: dns === true,
      dns: Array.isArray(dns) ? [...dns] : [],
      ...(options.acceptLocal !== undefined
        ? { acceptLocal: addressMatcher(options.acceptLocal, 'acceptLocal') }
        : {}),
      ...(options.acceptPeer !== undefined
        ? { acceptPeer: addressMatcher(options.acceptPeer, 'acceptPeer') }
        : {}),
      // pppd's IPCP Nak-loop limit.
      maxFailure: 100,
    };
  }

  const lcp: LcpOptions = { ...(options.lcp ?? {}) };
  if (options.mru !== undefined) lcp.mru = options.mru;
  if (options.accm !== undefined) lcp.accm = options.accm;
  if (options.echoIntervalMs !== undefined) lcp.echoIntervalMs = options.echoIntervalMs;
  if (options.echoFailures !== undefined) lcp.echoFailures = options.echoFailures;

  const a = options.auth ?? {};
  if (a === null || typeof a !== 'object') throw invalidOptions('auth must be an object');
  const auth: AuthOptions = {};
  if (a.user !== undefined || a.password !== undefined) {
    if (typeof a.user !== 'string' || typeof a.password !== 'string')
      throw invalidOptions('auth.user and auth.password go together (strings)');
    auth.user = a.user;
    auth.password = a.password;
  }
  if (a.require !== undefined) {
    auth.require = a.require;
    if (a.verify !== undefined) auth.verify = a.verify;
    if (a.secretFor !== undefined) auth.secretFor = a.secretFor;
    if (a.name !== undefined) auth.name = a.name;
  }

  const restartMs = lcp.restartMs ?? 3000;
  const maxConfigure = lcp.maxConfigure ?? 10;
  return {
    engine: {
      random32,
      ...(options.log ? { log: options.log } : {}),
      lcp,
      ipcp,
      ipv6cp: ipv6 ? {} : false,
      auth,
    },
    signal,
    negotiationTimeoutMs: positiveInt(
      options.negotiationTimeoutMs,
      'negotiationTimeoutMs',
      restartMs * (maxConfigure + 2) + 5000,
    ),
    closeTimeoutMs: positiveInt(options.closeTimeoutMs, 'closeTimeoutMs', 3000),
    packetBufferSize: positiveInt(options.packetBufferSize, 'packetBufferSize', 1024, 1 << 20),
    ipv4,
    ipv6,
  };
}
