/**
 * The engine's settings defaults and ranges, defined once. The engine validates
 * {@link EngineSettings} against these; config (peer.yaml, server.yaml) and the library
 * import them instead of writing 1500 or 3000/10/2/5 again. pppd's names in brackets.
 */

import { DEFAULT_LCP_CONFIG } from '../lcp/policy.js';
import { DEFAULT_FSM_CONFIG } from '../ppp/fsm.js';
import { DEFAULT_MRU, MAX_MRU, MIN_MRU } from '../ppp/mru.js';

/** An inclusive integer range. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** Defaults of every optional engine setting. */
export const ENGINE_DEFAULTS = Object.freeze({
  lcp: Object.freeze({
    /** [mru]; not requested when equal to the RFC 1661 default. */
    mru: DEFAULT_MRU,
    /** [asyncmap] */
    accm: DEFAULT_LCP_CONFIG.accm,
    pfc: DEFAULT_LCP_CONFIG.pfc,
    acfc: DEFAULT_LCP_CONFIG.acfc,
    magic: DEFAULT_LCP_CONFIG.magic,
    /** [lcp-echo-interval] 0 = off. */
    echoIntervalMs: 0,
    /** [lcp-echo-failure] */
    echoFailures: 3,
    /** [lcp-restart] */
    restartMs: DEFAULT_FSM_CONFIG.restartMs,
    /** [lcp-max-configure] */
    maxConfigure: DEFAULT_FSM_CONFIG.maxConfigure,
    /** [lcp-max-terminate] */
    maxTerminate: DEFAULT_FSM_CONFIG.maxTerminate,
    /** [lcp-max-failure] */
    maxFailure: DEFAULT_FSM_CONFIG.maxFailure,
    passive: DEFAULT_FSM_CONFIG.passive,
    silent: DEFAULT_FSM_CONFIG.silent,
    /** Magic-Number Naks in a row before declaring loopback. */
    loopbackFail: DEFAULT_LCP_CONFIG.loopbackFail,
  }),
  ipcp: Object.freeze({
    requestDns: false,
    // maxFailure defaults to lcp.maxFailure.
  }),
  auth: Object.freeze({
    /** Our CHAP name in Challenges. */
    name: 'ts-vpn',
  }),
  gso: false,
  peerKind: 'unknown' as const,
  requireNetwork: 'any' as const,
});

/**
 * IPCP Nak-loop limit for the side that assigns addresses: ts-vpn's server (and the
 * library) keep Naking the address a client should take for this many rounds, after pppd.
 */
export const PPPD_IPCP_MAX_FAILURE = 100;

/** Ranges the engine accepts (config and library check the same). */
export const ENGINE_RANGES = Object.freeze({
  mru: Object.freeze({ min: MIN_MRU, max: MAX_MRU }),
  accm: Object.freeze({ min: 0, max: 0xffffffff }),
  echoIntervalMs: Object.freeze({ min: 0, max: 2 ** 31 }),
  echoFailures: Object.freeze({ min: 0, max: 1000 }),
  restartMs: Object.freeze({ min: 1, max: 2 ** 31 }),
  maxConfigure: Object.freeze({ min: 1, max: 1000 }),
  maxTerminate: Object.freeze({ min: 1, max: 1000 }),
  maxFailure: Object.freeze({ min: 0, max: 1000 }),
  loopbackFail: Object.freeze({ min: 1, max: 1000 }),
  negotiationTimeoutMs: Object.freeze({ min: 0, max: 2 ** 31 }),
} satisfies Record<string, IntRange>);

/**
 * Default negotiation deadline: every Configure-Request of an NCP answered at the last
 * moment (`restartMs * (maxConfigure + 2)`) plus 5 s for LCP and authentication.
 * With pppd's 3000 ms and 10 this is 41 s.
 */
export function defaultNegotiationTimeoutMs(
  restartMs: number = ENGINE_DEFAULTS.lcp.restartMs,
  maxConfigure: number = ENGINE_DEFAULTS.lcp.maxConfigure,
): number {
  return restartMs * (maxConfigure + 2) + 5000;
}

/**
 * A `random32` for {@link EngineSettings} from the platform's cryptographic source
 * (Web Crypto `getRandomValues`, global in Node and browsers; no `node:*` import).
 * The engine never calls it itself: randomness stays injected.
 */
export function cryptoRandom32(): number {
  const b = new Uint32Array(1);
  globalThis.crypto.getRandomValues(b);
  return b[0];
}
