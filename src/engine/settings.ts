/**
 * {@link EngineSettings}: the engine's API settings (docs/ARCHITECTURE.md `src/engine`
 * contract; "options" is kept for RFC Configuration Options) and their validation
 * against the defaults and ranges of defaults.ts. Bad values are local misuse and throw
 * a {@link PppError}.
 */

import type { IpcpConfig } from '../ncp/ipcp-policy.js';
import { PppError } from '../ppp/errors.js';
import { parseIpv4 } from '../ppp/ipv4.js';
import {
  defaultNegotiationTimeoutMs,
  ENGINE_DEFAULTS,
  ENGINE_RANGES,
  type IntRange,
} from './defaults.js';
import type { RequiredNetwork } from './network-phase.js';

/** What the far end is known to run, when the owner knows it. */
export type PeerKind = 'ts-vpn' | 'pppd' | 'unknown';

/** LCP settings (pppd names in brackets). */
export interface LcpSettings {
  /** Our MRU [mru], 128..65535; default 1500 (then not requested). */
  mru?: number;
  /** Our receive ACCM [asyncmap]; default 0. */
  accm?: number;
  /** Protocol-Field-Compression [nopcomp = false]; default true. */
  pfc?: boolean;
  /** Address-and-Control-Field-Compression [noaccomp = false]; default true. */
  acfc?: boolean;
  /** Magic-Number [nomagic = false]; default true. */
  magic?: boolean;
  /** Echo-Request interval [lcp-echo-interval], ms; 0/undefined = off. */
  echoIntervalMs?: number;
  /** Unanswered echoes before the link is declared dead [lcp-echo-failure]; default 3. */
  echoFailures?: number;
  /** Restart timer [lcp-restart], ms; default 3000 (also used by the NCPs). */
  restartMs?: number;
  /** [lcp-max-configure]; default 10. */
  maxConfigure?: number;
  /** [lcp-max-terminate]; default 2. */
  maxTerminate?: number;
  /** [lcp-max-failure]; default 5. */
  maxFailure?: number;
  /** [passive]: after the Configure-Requests time out, keep waiting for the peer. */
  passive?: boolean;
  /** [silent]: send nothing until the peer's first Configure-Request. */
  silent?: boolean;
  /** Added: Magic-Number Naks in a row before declaring loopback [lcp-loopback-fail]; default 10. */
  loopbackFail?: number;
}

/** IPCP settings. */
export interface IpcpSettings {
  /** Our address; null/undefined = ask the peer (0.0.0.0). */
  local?: string | null;
  /** Address we assign/insist on for the peer. */
  peer?: string | null;
  /** May we take this address the peer gives us? Default: yes when `local` is unset, else no. */
  acceptLocal?: (addr: string) => boolean;
  /** May the peer use this address? Default: yes when `peer` is unset, else only `peer`. */
  acceptPeer?: (addr: string) => boolean;
  /** Ask for RFC 1877 DNS (usepeerdns). */
  requestDns?: boolean;
  /** DNS to hand out (ms-dns), at most 2. */
  dns?: string[];
  /** Added: Nak-loop limit for IPCP; default 5 (pppd uses 100 for IPCP). */
  maxFailure?: number;
}

/** IPv6CP settings. */
export interface Ipv6cpSettings {
  /** Our 8-byte interface identifier; random non-zero when absent. */
  interfaceId?: Uint8Array;
  /** The peer's identifier we insist on. */
  peerInterfaceId?: Uint8Array;
}

/** Authentication settings. */
export interface AuthSettings {
  /** We authenticate the peer with this protocol. */
  require?: 'pap' | 'chap' | null;
  /** PAP: check the peer's credentials. */
  verify?: (user: string, password: string) => boolean;
  /** CHAP: the secret shared with `peerName`, or null. */
  secretFor?: (peerName: string) => string | null;
  /** CHAP: our name in Challenges; default "ts-vpn". */
  name?: string;
  /** The peer authenticates us: our user name (PAP peer-id, CHAP name). */
  user?: string;
  /** The peer authenticates us: our password / CHAP secret. */
  password?: string;
}

/** Engine settings (the `PppEngine` constructor's first argument). */
export interface EngineSettings {
  /** Injected randomness (magic numbers, interface ids, challenges). */
  random32: () => number;
  /** pppd-style debug lines: `sent [LCP ConfReq id=0x1 …]`. */
  log?: (line: string) => void;
  lcp?: LcpSettings;
  /** false disables IPv4 (IPCP packets are then Protocol-Rejected). */
  ipcp?: false | IpcpSettings;
  /** false disables IPv6 (IPv6CP packets are then Protocol-Rejected). */
  ipv6cp?: false | Ipv6cpSettings;
  auth?: AuthSettings;
  /**
   * Offer and accept GSO frames (src/engine/gso.ts) with a ts-vpn peer, through the LCP
   * Vendor-Specific option (RFC 2153, OUI 02:54:56 kind 1); default false. Used only when
   * both ends agree; pppd Configure-Rejects the option and the link runs without it.
   * Needs the engine's `onGsoFrame` constructor argument.
   */
  gso?: boolean;
  /**
   * What the far end runs, when known. `pppd`: the private GSO option is not offered
   * (stock pppd rejects it; not asking saves one LCP round trip). Default `unknown`.
   */
  peerKind?: PeerKind;
  /**
   * Which network protocols the link needs (default `any`, as pppd): when they can no
   * longer come up the engine terminates LCP and reports `finished` with cause
   * `no-network-protocol`; `ipv4`/`ipv6` need that NCP enabled.
   */
  requireNetwork?: RequiredNetwork;
  /**
   * Time from `open()` (and from the moment the needed protocols went down while the
   * link stays) until they must be up, ms; otherwise LCP is terminated and `finished`
   * has cause `negotiation-timeout`. 0 = no deadline. Default
   * {@link defaultNegotiationTimeoutMs} of the LCP restart timer and max-configure (41 s),
   * or 0 with `lcp.passive` / `lcp.silent` (those wait for the peer as long as it takes).
   */
  negotiationTimeoutMs?: number;
}

/** @deprecated Use {@link EngineSettings} ("options" now means RFC Configuration Options only). */
export type EngineOptions = EngineSettings;
/** @deprecated Use {@link LcpSettings}. */
export type LcpOptions = LcpSettings;
/** @deprecated Use {@link IpcpSettings}. */
export type IpcpOptions = IpcpSettings;
/** @deprecated Use {@link Ipv6cpSettings}. */
export type Ipv6cpOptions = Ipv6cpSettings;
/** @deprecated Use {@link AuthSettings}. */
export type AuthOptions = AuthSettings;

function bad(message: string): never {
  throw new PppError('ERR_PPP_BAD_OPTION', message);
}

function intIn(v: number | undefined, name: string, range: IntRange, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < range.min || v > range.max)
    bad(`${name} must be an integer in ${range.min}..${range.max}, got ${v}`);
  return v;
}

function addr(v: string | null | undefined, name: string): number {
  if (v === null || v === undefined) return 0;
  const n = parseIpv4(v);
  if (n === null) bad(`${name} is not an IPv4 address: ${v}`);
  return n;
}

function ifaceId(v: Uint8Array | undefined, name: string): Uint8Array | null {
  if (v === undefined) return null;
  if (!(v instanceof Uint8Array) || v.length !== 8) bad(`${name} must be 8 bytes`);
  return Uint8Array.from(v);
}

/** Validated, defaulted settings used internally. */
export interface ResolvedSettings {
  random32: () => number;
  log: ((line: string) => void) | null;
  lcp: Required<Omit<LcpSettings, 'echoIntervalMs'>> & { echoIntervalMs: number };
  ipcp: null | (IpcpConfig & { maxFailure: number });
  ipv6cp: null | { interfaceId: Uint8Array | null; peerInterfaceId: Uint8Array | null };
  gso: boolean;
  peerKind: PeerKind;
  requireNetwork: RequiredNetwork;
  negotiationTimeoutMs: number;
  auth: {
    require: 'pap' | 'chap' | null;
    verify: ((user: string, password: string) => boolean) | null;
    secretFor: ((peerName: string) => string | null) | null;
    name: string;
    user: string | null;
    password: string | null;
  };
}

/** Checks and defaults {@link EngineSettings}; throws {@link PppError} on misuse. */
export function resolveSettings(o: EngineSettings): ResolvedSettings {
  if (o === null || typeof o !== 'object') bad('settings must be an object');
  if (typeof o.random32 !== 'function') bad('random32 must be a function');
  const l = o.lcp ?? {};
  const d = ENGINE_DEFAULTS.lcp;
  const r = ENGINE_RANGES;
  const lcp = {
    mru: intIn(l.mru, 'lcp.mru', r.mru, d.mru),
    accm: intIn(l.accm, 'lcp.accm', r.accm, d.accm),
    pfc: l.pfc ?? d.pfc,
    acfc: l.acfc ?? d.acfc,
    magic: l.magic ?? d.magic,
    echoIntervalMs: intIn(
      l.echoIntervalMs,
      'lcp.echoIntervalMs',
      r.echoIntervalMs,
      d.echoIntervalMs,
    ),
    echoFailures: intIn(l.echoFailures, 'lcp.echoFailures', r.echoFailures, d.echoFailures),
    restartMs: intIn(l.restartMs, 'lcp.restartMs', r.restartMs, d.restartMs),
    maxConfigure: intIn(l.maxConfigure, 'lcp.maxConfigure', r.maxConfigure, d.maxConfigure),
    maxTerminate: intIn(l.maxTerminate, 'lcp.maxTerminate', r.maxTerminate, d.maxTerminate),
    maxFailure: intIn(l.maxFailure, 'lcp.maxFailure', r.maxFailure, d.maxFailure),
    passive: l.passive ?? d.passive,
    silent: l.silent ?? d.silent,
    loopbackFail: intIn(l.loopbackFail, 'lcp.loopbackFail', r.loopbackFail, d.loopbackFail),
  };
  let ipcp: ResolvedSettings['ipcp'] = null;
  if (o.ipcp !== false) {
    const i = o.ipcp ?? {};
    const local = addr(i.local, 'ipcp.local');
    const peer = addr(i.peer, 'ipcp.peer');
    const dns = (i.dns ?? []).map((d, k) => addr(d, `ipcp.dns[${k}]`));
    if (dns.length > 2) bad('ipcp.dns takes at most 2 addresses');
    const peerText = i.peer ?? null;
    ipcp = {
      local,
      peer,
      acceptLocal: i.acceptLocal ?? (() => local === 0),
      acceptPeer: i.acceptPeer ?? ((a: string) => peer === 0 || a === peerText),
      requestDns: i.requestDns ?? ENGINE_DEFAULTS.ipcp.requestDns,
      dns,
      maxFailure: intIn(i.maxFailure, 'ipcp.maxFailure', r.maxFailure, lcp.maxFailure),
    };
  }
  let ipv6cp: ResolvedSettings['ipv6cp'] = null;
  if (o.ipv6cp !== false) {
    const v = o.ipv6cp ?? {};
    ipv6cp = {
      interfaceId: ifaceId(v.interfaceId, 'ipv6cp.interfaceId'),
      peerInterfaceId: ifaceId(v.peerInterfaceId, 'ipv6cp.peerInterfaceId'),
    };
  }
  const a = o.auth ?? {};
  const require = a.require ?? null;
  if (require !== null && require !== 'pap' && require !== 'chap')
    bad(`auth.require must be 'pap', 'chap' or null`);
  if (require === 'pap' && typeof a.verify !== 'function')
    bad('auth.require = pap needs auth.verify');
  if (require === 'chap' && typeof a.secretFor !== 'function')
    bad('auth.require = chap needs auth.secretFor');
  if ((a.user === undefined) !== (a.password === undefined))
    bad('auth.user and auth.password go together');
  if (o.gso !== undefined && typeof o.gso !== 'boolean') bad('gso must be a boolean');
  const peerKind = o.peerKind ?? ENGINE_DEFAULTS.peerKind;
  if (peerKind !== 'ts-vpn' && peerKind !== 'pppd' && peerKind !== 'unknown')
    bad(`peerKind must be 'ts-vpn', 'pppd' or 'unknown', got ${String(peerKind)}`);
  const requireNetwork = o.requireNetwork ?? ENGINE_DEFAULTS.requireNetwork;
  if (!['any', 'ipv4', 'ipv6', 'all'].includes(requireNetwork))
    bad(`requireNetwork must be 'any', 'ipv4', 'ipv6' or 'all', got ${String(requireNetwork)}`);
  if (requireNetwork === 'ipv4' && ipcp === null)
    bad("requireNetwork = 'ipv4' needs IPv4 (ipcp is false)");
  if (requireNetwork === 'ipv6' && ipv6cp === null)
    bad("requireNetwork = 'ipv6' needs IPv6 (ipv6cp is false)");
  const waits = lcp.passive || lcp.silent;
  const negotiationTimeoutMs = intIn(
    o.negotiationTimeoutMs,
    'negotiationTimeoutMs',
    r.negotiationTimeoutMs,
    waits ? 0 : defaultNegotiationTimeoutMs(lcp.restartMs, lcp.maxConfigure),
  );
  return {
    random32: o.random32,
    log: o.log ?? null,
    lcp,
    ipcp,
    ipv6cp,
    gso: o.gso ?? ENGINE_DEFAULTS.gso,
    peerKind,
    requireNetwork,
    negotiationTimeoutMs,
    auth: {
      require,
      verify: a.verify ?? null,
      secretFor: a.secretFor ?? null,
      name: a.name ?? ENGINE_DEFAULTS.auth.name,
      user: a.user ?? null,
      password: a.password ?? null,
    },
  };
}
