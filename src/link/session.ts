/**
 * LinkSession: one PPP link over one byte stream — the only place that wraps a
 * PppEngine and its LinkDriver, and the bookkeeping every owner needs from the
 * engine's events. (The negotiation deadline is the engine's: `negotiationTimeoutMs`
 * in the engine settings, reported as `finished` with cause `negotiation-timeout`.) The library's PppLink, `ts-vpn up`
 * (ClientTunnel), `ts-vpn serve` (ServeSession) and the gateway each hold one and
 * add only what is theirs (a TUN device, addresses, a Promise API).
 *
 *   stream ──► LinkDriver ──► PppEngine ──► IP packets (onIpPacket / onGsoFrame)
 *                                     └──► events ──► LinkSession (facts) ──► `event`
 *
 * Facts kept here, read by the owners when the link ends: the LCP MTU and GSO
 * agreement, the authentication failure, the far end's Terminate-Request text, the
 * LCP echo failure, the negotiated IPv4/IPv6 addresses. Owners decide what a
 * finish means for them (exit code, reconnect, a rejected promise).
 */
import { EventEmitter } from 'node:events';
import type { FinishCause } from '../engine/events.js';
import type { EngineEvent, EngineOptions, EngineStats, LinkPhase } from '../engine/index.js';
import { NO_NETWORK_PROTOCOLS, PppEngine } from '../engine/index.js';
import { type ByteStream, type Clock, LinkDriver, monotonicMs } from './driver.js';

/** Settings of one {@link LinkSession}. */
export interface LinkSessionOptions {
  /** Engine settings; `log` is wrapped (the session reads a few lines) and passed on. */
  engine: EngineOptions;
  /** IP packets from the far end (the view is valid only during the call). */
  onIpPacket?: (version: 4 | 6, packet: Uint8Array) => void;
  /** GSO frames from the far end (needed when `engine.gso` is true). */
  onGsoFrame?: (frame: Uint8Array) => void;
  clock?: Clock;
}

/** How a link ended, as the engine and the session saw it. */
export interface LinkEndFacts {
  /** The engine's `finished` reason (or the owner's, for a lower-layer loss). */
  reason: string;
  /** The engine's finish cause (null: the owner ended it, see `facts()`). */
  cause: FinishCause | null;
  /** Authentication failed (either direction): the engine's message. */
  authFailure: string | null;
  /** The far end sent a Terminate-Request: its text ('' when it gave none). */
  peerTerminated: string | null;
  /** LCP echo failure: how many echo-requests went unanswered. */
  echoUnanswered: number | null;
  /** The owner had called markUp() (the link carried traffic). */
  wasUp: boolean;
}

export interface LinkSessionEvents {
  /** Every engine event, after the session recorded what it keeps. */
  event: [EngineEvent];
  /** The far end stopped answering LCP echoes (before the engine's Terminate retries end). */
  'echo-failure': [unanswered: number];
  /** The engine finished (once); the facts say why. */
  finished: [LinkEndFacts];
}

/**
 * Words a ts-vpn gateway puts in its Terminate-Request when its policy does not let this
 * SSH user in: retrying cannot change that (its other refusals, such as too many sessions
 * or an exhausted pool, pass with time). The gateway builds its texts from these.
 */
export const GATEWAY_REFUSAL = {
  notAllowed: 'is not allowed on this gateway',
  noUserName: 'has no user name on the gateway',
} as const;

/** Terminate-Request words that end the attempts, lower case: ours and pppd's "no network protocols", the gateway's policy refusals. */
const FINAL_TERMINATE_WORDS = [
  NO_NETWORK_PROTOCOLS,
  GATEWAY_REFUSAL.notAllowed,
  GATEWAY_REFUSAL.noUserName,
].map((w) => w.toLowerCase());

/**
 * True when the far end (or our own policy) refused the link in a way that trying
 * again cannot fix: authentication failed, or no network protocol could come up
 * because an address is unacceptable (a configuration mismatch between the ends).
 */
export function isRefusal(f: LinkEndFacts): boolean {
  if (f.authFailure !== null || f.cause === 'auth-failed') return true;
  if (f.wasUp) return false;
  if (f.cause === 'no-network-protocol') return true;
  if (f.peerTerminated === null) return false;
  const text = f.peerTerminated.toLowerCase();
  return FINAL_TERMINATE_WORDS.some((w) => text.includes(w));
}

export class LinkSession extends EventEmitter<LinkSessionEvents> {
  readonly engine: PppEngine;
  readonly driver: LinkDriver;
  /** Clock reading at construction. */
  readonly t0: number;
  /** The peer's MRU from LCP (what we may send); 1500 until LCP opens. */
  mtu = 1500;
  /** Both ends agreed on GSO frames (LCP). */
  gso = false;
  authFailure: string | null = null;
  peerTerminated: string | null = null;
  echoUnanswered: number | null = null;
  ipv4: { local: string; peer: string; dns: string[] } | null = null;
  ipv6: { local: string; peer: string } | null = null;
  private upMarked = false;
  private finishedFacts: LinkEndFacts | null = null;
  private readonly clock: Clock;
  private readonly log: ((line: string) => void) | null;

  /** @throws PppError on invalid engine settings (the engine's own check). */
  constructor(stream: ByteStream, opts: LinkSessionOptions) {
    super();
    this.clock = opts.clock ?? monotonicMs;
    this.t0 = this.clock();
    this.log = opts.engine.log ?? null;
    this.engine = new PppEngine(
      { ...opts.engine, log: (line) => this.onLog(line) },
      opts.onIpPacket,
      opts.onGsoFrame,
    );
    this.driver = new LinkDriver(this.engine, stream, this.clock);
    this.driver.on('event', (ev) => this.onEvent(ev));
  }

  /** Lower layer up + open: starts LCP. */
  start(): void {
    this.driver.start();
  }

  /** The owner considers the link up (it carried traffic): recorded in the end facts. */
  markUp(): void {
    this.upMarked = true;
  }

  get isUp(): boolean {
    return this.upMarked;
  }

  /** Set once the engine finished. */
  get finished(): LinkEndFacts | null {
    return this.finishedFacts;
  }

  get phase(): LinkPhase {
    return this.engine.phase;
  }

  /** LCP Terminate handshake; the engine then reports `finished`. */
  close(reason = 'User request'): void {
    this.driver.close(reason);
  }

  /** The stream is gone: tells the engine (which finishes) and stops the timers. */
  lowerDown(): void {
    this.driver.lowerDown();
    this.stop();
  }

  /** Stops the engine's timer; the session does nothing after this. */
  stop(): void {
    this.driver.stop();
  }

  sendPackets(packets: readonly Uint8Array[]): number {
    return this.driver.sendPackets(packets);
  }

  sendTunFrames(frames: readonly Uint8Array[]): number {
    return this.driver.sendTunFrames(frames);
  }

  stats(): EngineStats {
    return this.engine.stats();
  }

  /** Facts for an end the owner detected itself (transport closed, timeout). */
  facts(reason: string): LinkEndFacts {
    return (
      this.finishedFacts ?? {
        reason,
        cause: null,
        authFailure: this.authFailure,
        peerTerminated: this.peerTerminated,
        echoUnanswered: this.echoUnanswered,
        wasUp: this.upMarked,
      }
    );
  }

  private onLog(line: string): void {
    const t = /^LCP terminated by peer(?: \((.*)\))?/.exec(line);
    if (t) this.peerTerminated = t[1] ?? '';
    const echo = /^No response to (\d+) echo-requests/.exec(line);
    this.log?.(line);
    if (echo && this.echoUnanswered === null) {
      this.echoUnanswered = Number(echo[1]);
      this.emit('echo-failure', this.echoUnanswered);
    }
  }

  private onEvent(ev: EngineEvent): void {
    switch (ev.type) {
      case 'lcp-up':
        this.mtu = ev.mtu;
        this.gso = ev.gso;
        break;
      case 'auth-failed':
        this.authFailure = ev.message;
        break;
      case 'ipv4-up':
        this.ipv4 = { local: ev.local, peer: ev.peer, dns: [...ev.dns] };
        break;
      case 'ipv4-down':
        this.ipv4 = null;
        break;
      case 'ipv6-up':
        this.ipv6 = { local: ev.local, peer: ev.peer };
        break;
      case 'ipv6-down':
        this.ipv6 = null;
        break;
      case 'finished':
        if (this.finishedFacts === null)
          this.finishedFacts = { ...this.facts(ev.reason), cause: ev.cause };
        break;
      default:
        break;
    }
    this.emit('event', ev);
    if (ev.type === 'finished') this.emit('finished', this.finishedFacts!);
  }
}
