/**
 * PppLink: one PPP session over any Node Duplex (TCP socket, ssh2 channel, child
 * process stdio joined with {@link joinStreams}, a serial port), for programs
 * that embed ts-vpn's PPP engine. IP packets in and out; no TUN, no routes, no
 * global state, no signal handlers, no process.exit.
 *
 * Built on the link floor's LinkSession (engine + LinkDriver: coalesced writes,
 * Duplex backpressure, one engine timer, the negotiation deadline). Lifecycle:
 * constructed → negotiating → up (⇄ renegotiation) → closing → closed; `close` is
 * emitted exactly once, after the stream is shut.
 */
import { EventEmitter, once } from 'node:events';
import { type Duplex, finished } from 'node:stream';
import type { FinishCause } from '../engine/events.js';
import { type EngineEvent, type LinkPhase, PppError } from '../engine/index.js';
import { LinkSession } from '../link/index.js';
import { invalidOptions, PppLinkError } from './errors.js';
import {
  linkStats,
  type PppLinkDownReason,
  type PppLinkEvents,
  type PppLinkInfo,
  type PppLinkState,
  type PppLinkStats,
} from './link-types.js';
import { type PppLinkOptions, type ResolvedLinkOptions, resolveLinkOptions } from './options.js';
import { PacketIterator, type PppPacket } from './packet-queue.js';
import { DuplexByteStream, isDuplexLike } from './stream.js';

export type {
  PppLinkDownReason,
  PppLinkEvents,
  PppLinkInfo,
  PppLinkState,
  PppLinkStats,
} from './link-types.js';

/** An NCP counts as settled when it is open (and we saw it open) or has given up. */
const NCP_GAVE_UP = new Set(['Closed', 'Stopped', 'Initial', 'Starting']);
/** How long `up` waits for the second NCP once the first one opened. */
const UP_SETTLE_MS = 1000;
/** After ending the stream, how long until it is destroyed if the far end never closes. */
const STREAM_END_GRACE_MS = 2000;

/**
 * One PPP link over a Duplex.
 *
 * @example
 * ```ts
 * const link = new PppLink(socket, { role: 'client' });
 * const info = await link.ready;          // { ipv4: { local, peer, dns }, ipv6, mtu }
 * link.send(ipPacket);
 * for await (const { version, data } of link.packets()) { … }
 * await link.close();
 * ```
 */
export class PppLink extends EventEmitter<PppLinkEvents> {
  /**
   * Resolves with the negotiated values when the first network protocol (IPCP or
   * IPv6CP) is up; rejects with a {@link PppLinkError} (ABORTED, CLOSED,
   * PPP_NEGOTIATION_FAILED, PPP_AUTH_FAILED, PPP_LINK_DOWN, STREAM_ERROR) otherwise.
   * An unobserved rejection is never reported as unhandled.
   */
  readonly ready: Promise<PppLinkInfo>;
  /** Resolves with the reason once the link is closed and the stream ended. Never rejects. */
  readonly closed: Promise<PppLinkDownReason>;

  private readonly stream: Duplex;
  private readonly opts: ResolvedLinkOptions;
  private readonly adapter: DuplexByteStream;
  private readonly session: LinkSession;
  private stateValue: PppLinkState = 'negotiating';
  private started = false;
  private terminal = false;
  private isUp = false;
  private readySettled = false;
  private resolveReady!: (info: PppLinkInfo) => void;
  private rejectReady!: (err: PppLinkError) => void;
  private resolveClosed!: (r: PppLinkDownReason) => void;
  /** Why we are closing (close(), abort, timeout), if we are. */
  private closeCause: PppLinkDownReason | null = null;
  private closeReasonValue: PppLinkDownReason | null = null;
  private authFailure: string | null = null;
  private streamGone: PppLinkDownReason | null = null;
  private mtu = 1500;
  private ipv4: PppLinkInfo['ipv4'] = null;
  private ipv6: PppLinkInfo['ipv6'] = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly iterators = new Set<PacketIterator>();
  private queueDropsDone = 0;
  private sendDrops = 0;
  private unclaimed = 0;
  private readonly onAbort = (): void => this.abort();
  private readonly onStreamEnd = (): void =>
    this.lowerDown({ code: 'PPP_LINK_DOWN', message: 'the stream ended' });
  private readonly onStreamError = (err: Error): void => this.onError(err);

  /**
   * Starts negotiating on the next microtask (attach listeners first).
   * @param stream - an 8-bit clean Duplex; the link owns it from now on and ends it when done
   * @param options - see {@link PppLinkOptions}
   * @throws PppLinkError INVALID_OPTIONS on a bad option
   */
  constructor(stream: Duplex, options: PppLinkOptions = {}) {
    super();
    if (!isDuplexLike(stream))
      throw invalidOptions('stream must be a Duplex (readable and writable)');
    this.opts = resolveLinkOptions(options);
    this.stream = stream;
    this.adapter = new DuplexByteStream(stream);
    try {
      this.session = new LinkSession(this.adapter, {
        // The engine ends a negotiation that takes longer (cause negotiation-timeout).
        engine: { ...this.opts.engine, negotiationTimeoutMs: this.opts.negotiationTimeoutMs },
        onIpPacket: (version, packet) => this.onIpPacket(version, packet),
      });
    } catch (err) {
      if (err instanceof PppError)
        throw new PppLinkError('INVALID_OPTIONS', err.message, { cause: err });
      throw err;
    }
    this.ready = new Promise<PppLinkInfo>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise<PppLinkDownReason>((resolve) => {
      this.resolveClosed = resolve;
    });
    this.session.on('event', (ev) => this.onEngineEvent(ev));
    this.adapter.onDrain(() => {
      if (!this.terminal) this.emit('drain');
    });
    stream.on('end', this.onStreamEnd);
    stream.on('close', this.onStreamEnd);
    stream.on('error', this.onStreamError);
    const signal = this.opts.signal;
    if (signal !== null) signal.addEventListener('abort', this.onAbort, { once: true });
    queueMicrotask(() => {
      if (signal?.aborted) this.abort();
      else this.start();
    });
  }

  // ---- public API --------------------------------------------------------------------------

  /** Where the link is in its lifecycle. */
  get state(): PppLinkState {
    return this.stateValue;
  }

  /** The PPP link phase (RFC 1661 §3.2). */
  get phase(): LinkPhase {
    return this.session.phase;
  }

  /** The negotiated values while up, else null. */
  get info(): PppLinkInfo | null {
    return this.isUp ? this.snapshot() : null;
  }

  /** Why the link closed, once it has; else null. */
  get closeReason(): PppLinkDownReason | null {
    return this.closeReasonValue;
  }

  /** False while the stream is backpressured: further sends are queued in a bounded buffer (then dropped); wait for `drain`. */
  get writable(): boolean {
    return this.isUp && !this.session.driver.isBlocked;
  }

  /**
   * Sends one IPv4 or IPv6 packet (version from the first nibble). The bytes are
   * copied into the frame at once: the caller may reuse the buffer.
   * @returns false when the packet was dropped (link not up for that IP version,
   *   larger than the peer's MRU, or the bounded output buffer full); drops are counted
   */
  send(packet: Uint8Array): boolean {
    if (!(packet instanceof Uint8Array)) throw invalidOptions('send() takes a Uint8Array');
    if (!this.started || this.terminal) {
      this.sendDrops++;
      return false;
    }
    return this.session.sendPackets([packet]) === 1;
  }

  /** Sends several packets in one stream write. @returns how many were accepted. */
  sendBatch(packets: readonly Uint8Array[]): number {
    if (!Array.isArray(packets)) throw invalidOptions('sendBatch() takes an array of Uint8Array');
    if (!this.started || this.terminal) {
      this.sendDrops += packets.length;
      return 0;
    }
    for (const p of packets)
      if (!(p instanceof Uint8Array))
        throw invalidOptions('sendBatch() takes an array of Uint8Array');
    return this.session.sendPackets(packets);
  }

  /**
   * Received packets as an async iterator with its own bounded buffer: when the
   * consumer falls behind, newer packets are dropped and counted (`iterator.dropped`,
   * `stats().rx.queueDrops`). Ends when the link closes (after the buffer is drained).
   * @param opts - `bufferSize`: packets to buffer; default the `packetBufferSize` option (1024)
   */
  packets(opts: { bufferSize?: number } = {}): PacketIterator {
    const size = opts.bufferSize ?? this.opts.packetBufferSize;
    if (!Number.isInteger(size) || size < 1 || size > 1 << 20)
      throw invalidOptions(`bufferSize must be an integer in 1..${1 << 20}`);
    const it = new PacketIterator(size, (i) => this.forget(i));
    if (this.terminal) it.end();
    else this.iterators.add(it);
    return it;
  }

  /**
   * Closes the link: LCP Terminate-Request (bounded by `closeTimeoutMs`), then ends
   * the stream and waits for it to close (destroying it if the far end does not).
   * Idempotent; resolves once everything is released. `ready` rejects with CLOSED
   * if the link was not up yet.
   */
  close(reason = 'User request'): Promise<void> {
    this.beginClose({ code: 'CLOSED', message: reason }, reason);
    return this.closed.then(() => undefined);
  }

  /** Counter snapshot. */
  stats(): PppLinkStats {
    let queueDrops = this.queueDropsDone;
    for (const it of this.iterators) queueDrops += it.dropped;
    return linkStats(this.stateValue, this.session.stats(), this.session.driver.counters, {
      sendDrops: this.sendDrops,
      queueDrops,
      unclaimed: this.unclaimed,
    });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private start(): void {
    if (this.terminal || this.started) return;
    this.started = true;
    this.adapter.attach();
    this.session.start();
  }

  private abort(): void {
    const r = this.opts.signal?.reason;
    const why = r instanceof Error ? r.message : r !== undefined ? String(r) : 'aborted';
    this.beginClose({ code: 'ABORTED', message: `aborted: ${why}` }, 'Aborted');
  }

  /** Our side ends the link: reject `ready` now, terminate LCP (bounded), then end the stream. */
  private beginClose(cause: PppLinkDownReason, lcpReason: string): void {
    if (this.terminal || this.closeCause !== null) return;
    this.closeCause = cause;
    this.failReady(cause);
    if (!this.started || this.session.phase === 'dead') {
      this.finish(cause);
      return;
    }
    this.stateValue = 'closing';
    this.closeTimer = setTimeout(() => this.finish(cause), this.opts.closeTimeoutMs);
    this.session.close(lcpReason);
  }

  private onError(err: Error): void {
    const e = new PppLinkError('STREAM_ERROR', `stream error: ${err.message}`, { cause: err });
    if (!this.terminal && this.listenerCount('error') > 0) this.emit('error', e);
    this.lowerDown({ code: 'STREAM_ERROR', message: e.message });
  }

  /** The stream is gone (end, close, error). */
  private lowerDown(reason: PppLinkDownReason): void {
    if (this.terminal) return;
    if (this.streamGone === null) this.streamGone = reason;
    // Tells the engine (which reports `finished`), then stops the session's timers.
    this.session.lowerDown();
    if (!this.terminal) this.finish(this.closeCause ?? reason);
  }

  /** Terminal: stop everything, report, end the stream, emit `close`. */
  private finish(reason: PppLinkDownReason): void {
    if (this.terminal) return;
    this.terminal = true;
    this.session.stop();
    this.clearTimers();
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    const wasUp = this.isUp;
    this.isUp = false;
    this.ipv4 = null;
    this.ipv6 = null;
    this.stateValue = 'closing';
    this.failReady(reason);
    if (wasUp) this.emit('down', reason);
    for (const it of this.iterators) {
      this.queueDropsDone += it.dropped;
      it.end();
    }
    this.iterators.clear();
    void this.endStream().then(() => {
      this.stateValue = 'closed';
      this.closeReasonValue = reason;
      this.stream.off('end', this.onStreamEnd);
      this.stream.off('close', this.onStreamEnd);
      // Keep a listener: a late error from a destroyed socket must not crash the process.
      this.stream.off('error', this.onStreamError);
      this.stream.on('error', () => undefined);
      this.resolveClosed(reason);
      this.emit('close', reason);
    });
  }

  /** Ends our side, lets the far end's end arrive, destroys the stream after a grace period. */
  private async endStream(): Promise<void> {
    const s = this.stream;
    this.adapter.detach();
    if (s.destroyed) {
      if (s.closed === false) await once(s, 'close').catch(() => undefined);
      return;
    }
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => s.destroy(), STREAM_END_GRACE_MS);
      finished(s, () => {
        clearTimeout(grace);
        // Some streams (Duplex.from, sockets with allowHalfOpen) report both sides
        // done before they close: make sure every handle is released.
        if (!s.destroyed) s.destroy();
        resolve();
      });
      if (!s.writableEnded) s.end();
    });
  }

  private clearTimers(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.settleTimer = null;
    this.closeTimer = null;
  }

  private failReady(reason: PppLinkDownReason): void {
    if (this.readySettled) return;
    this.readySettled = true;
    this.rejectReady(new PppLinkError(reason.code, reason.message));
  }

  // ---- engine events -----------------------------------------------------------------------

  private onEngineEvent(ev: EngineEvent): void {
    switch (ev.type) {
      case 'phase':
        this.emit('phase', ev.phase);
        return;
      case 'lcp-up':
        this.mtu = ev.mtu;
        return;
      case 'auth-failed':
        this.authFailure = ev.message;
        return;
      case 'ipv4-up':
        this.ipv4 = { local: ev.local, peer: ev.peer, dns: [...ev.dns] };
        this.onNcpChange();
        return;
      case 'ipv6-up':
        this.ipv6 = { local: ev.local, peer: ev.peer };
        this.onNcpChange();
        return;
      case 'ipv4-down':
        this.ipv4 = null;
        this.onNcpChange();
        return;
      case 'ipv6-down':
        this.ipv6 = null;
        this.onNcpChange();
        return;
      case 'down':
        this.networkDown({ code: this.closeCause?.code ?? 'PPP_LINK_DOWN', message: ev.reason });
        return;
      case 'finished':
        this.finish(this.finishReason(ev.reason, ev.cause));
        return;
      default:
        return;
    }
  }

  private finishReason(engineReason: string, cause: FinishCause): PppLinkDownReason {
    if (this.closeCause !== null) return this.closeCause;
    if (cause === 'negotiation-timeout' && !this.isUp) {
      const secs = Math.round(this.opts.negotiationTimeoutMs / 100) / 10;
      return {
        code: 'PPP_NEGOTIATION_FAILED',
        message: `no network protocol came up within ${secs} s`,
      };
    }
    if (this.streamGone !== null) return this.streamGone;
    if (this.authFailure !== null)
      return { code: 'PPP_AUTH_FAILED', message: `authentication failed: ${this.authFailure}` };
    if (this.isUp) return { code: 'PPP_LINK_DOWN', message: engineReason };
    return { code: 'PPP_NEGOTIATION_FAILED', message: engineReason };
  }

  private networkDown(reason: PppLinkDownReason): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    this.ipv4 = null;
    this.ipv6 = null;
    if (!this.isUp) return;
    this.isUp = false;
    if (this.stateValue === 'up') this.stateValue = 'negotiating';
    this.emit('down', reason);
  }

  private snapshot(): PppLinkInfo {
    return {
      ipv4: this.ipv4 === null ? null : { ...this.ipv4, dns: [...this.ipv4.dns] },
      ipv6: this.ipv6 === null ? null : { ...this.ipv6 },
      mtu: this.mtu,
    };
  }

  /** An NCP opened or closed: decide whether the network layer is up. */
  private onNcpChange(): void {
    if (this.terminal || this.closeCause !== null) return;
    const anyOpen = this.ipv4 !== null || this.ipv6 !== null;
    if (this.isUp) {
      if (anyOpen) this.emit('update', this.snapshot());
      else this.networkDown({ code: 'PPP_LINK_DOWN', message: 'no network protocol open' });
      return;
    }
    if (!anyOpen) return;
    // Wait until every enabled NCP has opened or given up (they usually open in the
    // same round trip), but no longer than UP_SETTLE_MS.
    if (this.ncpsPending() === 0) this.goUp();
    else if (this.settleTimer === null)
      this.settleTimer = setTimeout(() => this.goUp(), UP_SETTLE_MS);
  }

  private ncpsPending(): number {
    const s = this.session.stats().states;
    let n = 0;
    if (this.opts.ipv4 && this.ipv4 === null && s.ipcp !== null && !NCP_GAVE_UP.has(s.ipcp)) n++;
    if (this.opts.ipv6 && this.ipv6 === null && s.ipv6cp !== null && !NCP_GAVE_UP.has(s.ipv6cp))
      n++;
    return n;
  }

  private goUp(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    if (this.isUp || this.terminal || this.closeCause !== null) return;
    if (this.ipv4 === null && this.ipv6 === null) return;
    this.isUp = true;
    this.stateValue = 'up';
    this.session.markUp();
    const info = this.snapshot();
    if (!this.readySettled) {
      this.readySettled = true;
      this.resolveReady(info);
    }
    this.emit('up', info);
  }

  // ---- packets -----------------------------------------------------------------------------

  private onIpPacket(version: 4 | 6, view: Uint8Array): void {
    if (this.iterators.size === 0 && this.listenerCount('packet') === 0) {
      this.unclaimed++;
      return;
    }
    // The engine's view is valid only during this call.
    const data = new Uint8Array(view);
    try {
      this.emit('packet', version, data);
    } catch (err) {
      // A throwing listener must not leave the deframer half-way through a chunk.
      process.nextTick(() => {
        throw err;
      });
    }
    if (this.iterators.size > 0) {
      const p: PppPacket = { version, data };
      for (const it of this.iterators) it.push(p);
    }
  }

  private forget(it: PacketIterator): void {
    if (this.iterators.delete(it)) this.queueDropsDone += it.dropped;
  }
}
