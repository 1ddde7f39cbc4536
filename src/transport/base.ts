import { EventEmitter } from 'node:events';
import type { CloseReason, DataListener, Transport, TransportInfo } from './types.js';

/** Splits a byte stream into text lines; bounded so a peer without newlines cannot grow it. */
export class LineSplitter {
  private partial = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 4096,
  ) {}

  push(chunk: Uint8Array | string): void {
    const text =
      this.partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    if (this.partial.length > this.maxLine) {
      this.onLine(this.partial);
      this.partial = '';
    }
  }

  flush(): void {
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
  }
}

/**
 * Shared plumbing: typed events, the `closed` promise, stats, and lazy data flow (the
 * underlying stream is only read once somebody listens for 'data', so nothing is lost
 * between construction and the caller attaching its handler).
 */
export abstract class BaseTransport extends EventEmitter implements Transport {
  abstract readonly info: TransportInfo;
  readonly closed: Promise<CloseReason>;
  readonly stats = { bytesOut: 0, bytesIn: 0, writes: 0, backpressured: 0 };
  private resolveClosed!: (r: CloseReason) => void;
  private reason: CloseReason | null = null;
  private flowing = false;
  private paused = false;
  /** Last stderr lines, kept for close messages ("exited with code 1: <last line>"). */
  protected readonly stderrTail: string[] = [];
  /** Stderr lines that came before anyone listened (bounded), handed to the first listener. */
  private earlyStderr: string[] | null = [];

  constructor() {
    super();
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    this.on('newListener', (event: string) => {
      if (event === 'data' && !this.flowing) {
        this.flowing = true;
        // After the listener is registered (newListener fires before).
        queueMicrotask(() => {
          if (!this.paused) this.startFlow();
        });
      }
    });
  }

  get closeReason(): CloseReason | null {
    return this.reason;
  }

  abstract write(chunk: Uint8Array): boolean;
  abstract close(): Promise<void>;
  /** Begin/resume delivering data from the underlying stream. */
  protected abstract startFlow(): void;
  protected abstract stopFlow(): void;

  onData(cb: DataListener): this {
    return this.on('data', cb);
  }
  onDrain(cb: () => void): this {
    return this.on('drain', cb);
  }
  /** The first listener also gets the lines that came before it (up to 50). */
  onStderr(cb: (line: string) => void): this {
    this.on('stderr', cb);
    const early = this.earlyStderr;
    this.earlyStderr = null;
    for (const l of early ?? []) cb(l);
    return this;
  }
  /** Also called (on a microtask) when the transport closed before the listener was added. */
  onClose(cb: (reason: CloseReason) => void): this {
    const r = this.reason;
    if (r) queueMicrotask(() => cb(r));
    else this.on('close', cb);
    return this;
  }

  pause(): void {
    this.paused = true;
    this.stopFlow();
  }
  resume(): void {
    this.paused = false;
    if (this.flowing) this.startFlow();
  }

  protected emitData(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    this.emit('data', chunk);
  }

  protected emitStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    if (this.earlyStderr) {
      this.earlyStderr.push(line);
      if (this.earlyStderr.length > 50) this.earlyStderr.shift();
    }
    this.emit('stderr', line);
  }

  /** Records the reason (first one wins) and notifies. */
  protected finish(reason: CloseReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.resolveClosed(reason);
    this.emit('close', reason);
  }

  /**
   * Counts and queues `chunk` on `out` (nothing after close). False when the caller should
   * wait for 'drain' (the chunk is still queued), and after close (the chunk is dropped).
   */
  protected writeCounted(out: { write(b: Buffer): boolean }, chunk: Uint8Array): boolean {
    if (this.reason) return false;
    this.stats.writes++;
    this.stats.bytesOut += chunk.length;
    const ok = out.write(asBuffer(chunk));
    if (!ok) this.stats.backpressured++;
    return ok;
  }

  /** `: <last stderr line>` or empty, for close messages. */
  protected lastStderr(): string {
    for (let i = this.stderrTail.length - 1; i >= 0; i--) {
      const l = this.stderrTail[i].trim();
      if (l) return `: ${l}`;
    }
    return '';
  }
}

/** Zero-copy Buffer view of a Uint8Array (Node streams want Buffers). */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
