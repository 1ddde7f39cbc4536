/**
 * LinkDriver: the one place where a byte stream meets the sans-IO PPP engine.
 *
 * stream bytes ──► engine.receive ──► IP packets (onIpPacket) / events
 * IP packets ───► engine.sendIp ───► engine.takeOutput ──► stream.write
 *
 * Output is coalesced: everything the engine produced while handling one input
 * chunk or one batch of IP packets goes out in a single write, so a burst of
 * frames costs one SSH message, while a lone packet is still written at once
 * (no delay timer). While the stream is backpressured the engine's bounded
 * framer keeps the bytes and drops (and counts) once full. One timer, re-armed
 * from engine.nextDeadline(), drives retransmissions and echoes.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { EngineEvent, PppEngine } from '../engine/index.js';
import { completeChecksum, VNET_HDR_LEN } from '../wire/vnet-hdr.js';

/** The minimal byte stream a link runs over (an SSH channel, a pipe, a socket…). */
export interface ByteStream {
  /** Returns false when the stream wants the writer to wait for onDrain. */
  write(chunk: Uint8Array): boolean;
  /**
   * Optional: `write` for a chunk that is a view into the engine's framing buffer, valid
   * only during the call (the stream copies what it keeps). Lets the driver skip a copy
   * per write; without it every write gets a buffer of its own.
   */
  writeView?(chunk: Uint8Array): boolean;
  onData(cb: (chunk: Uint8Array) => void): void;
  onDrain(cb: () => void): void;
}

export type Clock = () => number;

/** completeChecksum without throwing: false when the header does not describe the packet. */
function completeChecksumSafe(frame: Uint8Array): boolean {
  try {
    return completeChecksum(frame);
  } catch {
    return false;
  }
}
export const monotonicMs: Clock = () => performance.now();

export interface LinkDriverEvents {
  event: [EngineEvent];
}

export class LinkDriver extends EventEmitter<LinkDriverEvents> {
  readonly engine: PppEngine;
  private readonly stream: ByteStream;
  private readonly clock: Clock;
  private blocked: boolean;
  private timer: NodeJS.Timeout | null;
  private armedAt: number | null;
  private stopped: boolean;
  /** Clock reading when the first bytes arrived from the far end (null before). */
  firstDataAt: number | null = null;
  /** Bytes handed to the stream, and writes that hit backpressure. */
  readonly counters = {
    writes: 0,
    bytesWritten: 0,
    backpressured: 0,
    bytesRead: 0,
    /** TUN super-packets dropped because the link has no GSO frames (sendTunFrames). */
    gsoDropped: 0,
  };

  /**
   * Told when the stream starts (true) and stops (false) pushing back. The runtime
   * stops reading its TUN device meanwhile, so a burst waits in the kernel's queue
   * (where TCP feels it) instead of overflowing the framer's bounded output.
   */
  onBackpressure: ((blocked: boolean) => void) | null = null;

  constructor(engine: PppEngine, stream: ByteStream, clock: Clock = monotonicMs) {
    super();
    this.engine = engine;
    this.stream = stream;
    this.clock = clock;
    this.blocked = false;
    this.timer = null;
    this.armedAt = null;
    this.stopped = false;
    stream.onData((chunk) => this.onStreamData(chunk));
    stream.onDrain(() => {
      if (!this.blocked) return;
      this.blocked = false;
      this.onBackpressure?.(false);
      this.pump();
    });
  }

  /** Lower layer up + open: starts LCP. */
  start(): void {
    this.engine.open(this.clock());
    this.pump();
  }

  /** Starts the LCP Terminate handshake (the engine then reports `finished`). */
  close(reason = 'User request'): void {
    if (this.stopped) return;
    this.engine.close(this.clock(), reason);
    this.pump();
  }

  /** The stream is gone: tells the engine and stops all timers. */
  lowerDown(): void {
    if (this.stopped) return;
    this.engine.lowerDown(this.clock());
    this.drainEvents();
    this.stop();
  }

  /** Stops timers; the driver does nothing after this. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = null;
  }

  /** Frames a batch of IP packets and writes them in one go. Returns how many were accepted. */
  sendPackets(packets: readonly Uint8Array[]): number {
    if (this.stopped) return 0;
    const now = this.clock();
    let accepted = 0;
    for (let i = 0; i < packets.length; i++) {
      if (this.engine.sendIp(packets[i]!, now)) accepted++;
    }
    this.flush();
    return accepted;
  }

  /**
   * Like sendPackets, for frames read from a TUN device in vnet mode (a 10-byte
   * virtio_net_hdr in front of each packet). A frame with an empty header goes out
   * as a plain IP packet (what pppd understands); a partial-checksum or GSO
   * super-packet goes out as one GSO frame when the link negotiated them, else a
   * partial checksum is completed here and a super-packet (only in flight while
   * offload is being turned off) is dropped and counted in `counters.gsoDropped`.
   */
  sendTunFrames(frames: readonly Uint8Array[]): number {
    if (this.stopped) return 0;
    const now = this.clock();
    const engine = this.engine;
    const gso = engine.gsoEnabled;
    let accepted = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.length <= VNET_HDR_LEN) continue;
      let ok: boolean;
      if (f[0] === 0 && f[1] === 0) ok = engine.sendIp(f.subarray(VNET_HDR_LEN), now);
      else if (gso) ok = engine.sendGso(f, now);
      else if (f[1] === 0 && ((f[0]! & 1) === 0 || completeChecksumSafe(f)))
        ok = engine.sendIp(f.subarray(VNET_HDR_LEN), now);
      else {
        this.counters.gsoDropped++;
        ok = false;
      }
      if (ok) accepted++;
    }
    this.flush();
    return accepted;
  }

  /** True while the stream is backpressured (callers may stop reading their source). */
  get isBlocked(): boolean {
    return this.blocked;
  }

  private onStreamData(chunk: Uint8Array): void {
    if (this.stopped) return;
    if (this.firstDataAt === null) this.firstDataAt = this.clock();
    this.counters.bytesRead += chunk.length;
    this.engine.receive(chunk, this.clock());
    this.pump();
  }

  private onTimer(): void {
    this.timer = null;
    this.armedAt = null;
    if (this.stopped) return;
    this.engine.handleTimeout(this.clock());
    this.pump();
  }

  /** Writes pending output, delivers events, re-arms the timer. */
  private pump(): void {
    this.flush();
    this.drainEvents();
    this.arm();
  }

  private flush(): void {
    if (this.blocked || this.stopped) return;
    const stream = this.stream;
    const view = stream.writeView !== undefined;
    const out = view ? this.engine.takeOutputView() : this.engine.takeOutput();
    if (!out) return;
    this.counters.writes++;
    this.counters.bytesWritten += out.length;
    if (!(view ? stream.writeView!(out) : stream.write(out))) {
      this.blocked = true;
      this.counters.backpressured++;
      this.onBackpressure?.(true);
    }
  }

  private drainEvents(): void {
    const events = this.engine.takeEvents();
    for (const ev of events) this.emit('event', ev);
  }

  private arm(): void {
    if (this.stopped) return;
    const deadline = this.engine.nextDeadline();
    if (deadline === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.armedAt = null;
      return;
    }
    if (this.armedAt === deadline && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = deadline;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, deadline - this.clock()));
  }
}
