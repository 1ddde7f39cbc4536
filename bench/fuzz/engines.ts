/**
 * PppEngine fixtures for the fuzzers and the security tests: client and server
 * configurations shaped like the runtime's (src/runtime/engine-options.ts), a
 * partner engine to bring ours into a given state over an in-memory link with a
 * fake clock, and the policy checks every engine event must pass.
 */
import { type EngineEvent, type EngineOptions, PppEngine } from '../../src/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { Protocol } from '../../src/ppp/protocols.js';
import { Rng } from './rng.js';

export type Role = 'client' | 'server';
/** fresh: open() called, nothing heard; auth: LCP up, authentication pending;
 *  lcp: LCP (and auth) up, NCPs negotiating; up: IPCP and IPv6CP open. */
export type EngineState = 'fresh' | 'auth' | 'lcp' | 'up';

function ipv4(a: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (m === null) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    n = n * 256 + o;
  }
  return n;
}

/** "addr lies in prefix/len". */
export function inPrefix(prefix: string, len: number): (addr: string) => boolean {
  const p = ipv4(prefix) ?? 0;
  const size = 2 ** (32 - len);
  return (addr) => {
    const a = ipv4(addr);
    return a !== null && Math.floor(a / size) === Math.floor(p / size);
  };
}

/** The client's policy: the server may assign us / use only 10.77.0.0/24. */
export const CLIENT_ACCEPT = inPrefix('10.77.0.0', 24);
export const SERVER_LOCAL = '10.77.0.1';
export const SERVER_PEER = '10.77.0.2';
export const USER = 'alice';
export const SECRET = 's3cret-fuzz';

export interface EngineSetup {
  opts: EngineOptions;
  /** Checks one event against the configured policy; returns a violation or null. */
  check(e: EngineEvent, state: EngineState): string | null;
}

/** Client options as `ts-vpn up` builds them with `local-address: ask`, accept-local 10.77.0.0/24, peer DNS, PAP/CHAP credentials. */
export function clientSetup(rng: Rng, log: ((l: string) => void) | undefined): EngineSetup {
  return {
    opts: {
      random32: () => rng.u32(),
      log,
      lcp: { echoIntervalMs: 10_000, echoFailures: 3 },
      ipcp: {
        local: null,
        peer: null,
        acceptLocal: CLIENT_ACCEPT,
        acceptPeer: CLIENT_ACCEPT,
        requestDns: true,
      },
      ipv6cp: {},
      auth: { user: USER, password: SECRET },
    },
    check(e) {
      if (e.type === 'ipv4-up') {
        if (!CLIENT_ACCEPT(e.local))
          return `client took local address ${e.local} outside accept-local`;
        if (!CLIENT_ACCEPT(e.peer))
          return `client accepted peer address ${e.peer} outside accept-peer`;
      }
      return null;
    },
  };
}

/** Server options as `ts-vpn serve` builds them: fixed addresses, one DNS, PAP or CHAP required. */
export function serverSetup(
  rng: Rng,
  log: ((l: string) => void) | undefined,
  require: 'pap' | 'chap',
): EngineSetup {
  return {
    opts: {
      random32: () => rng.u32(),
      log,
      lcp: { echoIntervalMs: 10_000 },
      ipcp: {
        local: SERVER_LOCAL,
        peer: SERVER_PEER,
        acceptLocal: (a) => a === SERVER_LOCAL,
        acceptPeer: (a) => a === SERVER_PEER,
        dns: ['10.1.0.53'],
        maxFailure: 100,
      },
      ipv6cp: {},
      auth: {
        require,
        name: 'gw',
        verify: (u, p) => u === USER && p === SECRET,
        secretFor: (n) => (n === USER ? SECRET : null),
      },
    },
    check(e, state) {
      if (e.type === 'ipv4-up' && (e.local !== SERVER_LOCAL || e.peer !== SERVER_PEER)) {
        return `server came up with ${e.local}/${e.peer}, not ${SERVER_LOCAL}/${SERVER_PEER}`;
      }
      // CHAP cannot be answered without the secret: random input must never pass it.
      if (e.type === 'auth-ok' && require === 'chap' && (state === 'fresh' || state === 'auth')) {
        return `server accepted a CHAP login from fuzz input (${JSON.stringify(e)})`;
      }
      return null;
    },
  };
}

const PASS_LCP = new Set<number>([Protocol.LCP]);
const PASS_LINK = new Set<number>([Protocol.LCP, Protocol.PAP, Protocol.CHAP]);

/** Moves frames between two engines, keeping only `pass` protocols (null = all). */
class Wire {
  private readonly framer = new HdlcFramer({ maxPending: 1 << 20 });
  private readonly frames: [number, Uint8Array][] = [];
  private readonly deframer = new HdlcDeframer(
    (p, i) => this.frames.push([p, Uint8Array.from(i)]),
    {
      accm: 0,
      maxInfo: 65535,
    },
  );

  move(from: PppEngine, to: PppEngine, now: number, pass: Set<number> | null): boolean {
    const out = from.takeOutput();
    if (out === null) return false;
    if (pass === null) {
      to.receive(out, now);
      return true;
    }
    this.deframer.push(out);
    for (const [p, info] of this.frames) if (pass.has(p)) this.framer.writeFrame(p, info, true);
    this.frames.length = 0;
    const b = this.framer.take();
    if (b !== null) to.receive(b, now);
    return true;
  }
}

export interface BuiltEngine {
  engine: PppEngine;
  setup: EngineSetup;
  now: number;
  /** Events seen while bringing it up. */
  events: EngineEvent[];
}

/**
 * Builds our engine (`role`) and brings it to `state` against a well-behaved
 * partner of the other role, then detaches the partner. Returns null if the
 * state was not reached (a bug in the fixture, reported by the caller).
 */
export function buildEngine(
  role: Role,
  state: EngineState,
  seed: number,
  log: ((l: string) => void) | undefined,
  onIp?: (v: 4 | 6, p: Uint8Array) => void,
  require: 'pap' | 'chap' = 'chap',
  tweak?: (ours: EngineOptions) => void,
): BuiltEngine | null {
  const rng = new Rng(seed);
  const prng = new Rng(seed ^ 0x5bd1e995);
  const setup = role === 'client' ? clientSetup(rng, log) : serverSetup(rng, log, require);
  const partnerSetup =
    role === 'client' ? serverSetup(prng, undefined, require) : clientSetup(prng, undefined);
  tweak?.(setup.opts);
  const engine = new PppEngine(setup.opts, onIp);
  const partner = new PppEngine(partnerSetup.opts);
  const events: EngineEvent[] = [];
  let now = 1000;
  engine.open(now);
  if (state === 'fresh') {
    events.push(...engine.takeEvents());
    return { engine, setup, now, events };
  }
  partner.open(now);
  const pass = state === 'auth' ? PASS_LCP : state === 'lcp' ? PASS_LINK : null;
  const w1 = new Wire();
  const w2 = new Wire();
  for (let round = 0; round < 200; round++) {
    let moved = false;
    for (let k = 0; k < 50; k++) {
      const a = w1.move(engine, partner, now, pass);
      const b = w2.move(partner, engine, now, pass);
      if (!a && !b) break;
      moved = true;
    }
    events.push(...engine.takeEvents());
    partner.takeEvents();
    const want =
      state === 'auth'
        ? engine.phase === 'authenticate'
        : state === 'lcp'
          ? engine.phase === 'network'
          : isUp(engine);
    if (want && !moved) return { engine, setup, now, events };
    if (!moved) {
      const d = Math.min(engine.nextDeadline() ?? Infinity, partner.nextDeadline() ?? Infinity);
      if (d === Infinity) break;
      now = Math.max(now + 1, d);
      engine.handleTimeout(now);
      partner.handleTimeout(now);
    }
  }
  return null;
}

function isUp(e: PppEngine): boolean {
  const s = e.stats().states;
  return e.phase === 'network' && s.ipcp === 'Opened' && s.ipv6cp === 'Opened';
}
