/**
 * Node streams ↔ the runtime's {@link ByteStream}: a Duplex adapter for
 * LinkDriver, and helpers that join a readable and a writable (child process
 * stdio, a pair of FIFOs) into one Duplex.
 */
import type { ChildProcess } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import type { ByteStream } from '../link/index.js';
import { invalidOptions } from './errors.js';

/** True for objects that look like a Node Duplex (readable and writable stream methods). */
export function isDuplexLike(s: unknown): s is Duplex {
  const d = s as Duplex | null;
  return (
    d !== null &&
    typeof d === 'object' &&
    typeof d.write === 'function' &&
    typeof d.end === 'function' &&
    typeof d.on === 'function' &&
    typeof d.off === 'function' &&
    typeof d.resume === 'function'
  );
}

/**
 * A Duplex seen as a {@link ByteStream}. Data starts flowing on {@link attach};
 * {@link detach} removes our listeners (the stream is then drained by `resume()`
 * so that its end can still arrive).
 */
export class DuplexByteStream implements ByteStream {
  private readonly stream: Duplex;
  private dataCb: ((chunk: Uint8Array) => void) | null;
  private readonly drainCbs: Array<() => void>;
  private attached: boolean;
  private readonly onDataBound: (chunk: Uint8Array | string) => void;
  private readonly onDrainBound: () => void;

  /** @param stream - the stream PPP runs over; must be 8-bit clean (no encoding, no object mode) */
  constructor(stream: Duplex) {
    this.stream = stream;
    this.dataCb = null;
    this.drainCbs = [];
    this.attached = false;
    this.onDataBound = (chunk) => {
      // A stream with setEncoding() hands out strings: turn them back into bytes.
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      this.dataCb?.(bytes);
    };
    this.onDrainBound = () => {
      for (const cb of this.drainCbs) cb();
    };
  }

  /** Writes unless the stream is already ended/destroyed (then the bytes are dropped). */
  write(chunk: Uint8Array): boolean {
    const s = this.stream;
    if (s.destroyed || s.writableEnded) return true;
    return s.write(chunk);
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCb = cb;
  }

  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }

  /** Starts reading. */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.stream.on('data', this.onDataBound);
    this.stream.on('drain', this.onDrainBound);
  }

  /** Stops delivering data and drain; keeps the stream flowing so its end arrives. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.stream.off('data', this.onDataBound);
    this.stream.off('drain', this.onDrainBound);
    this.dataCb = null;
    this.stream.resume();
  }
}

/**
 * Joins a readable and a writable into one Duplex: bytes read come from
 * `readable`, bytes written go to `writable`; `end()` ends `writable`,
 * `destroy()` destroys both. Backpressure passes through.
 *
 * @example
 * ```ts
 * const link = new PppLink(joinStreams(process.stdin, process.stdout), { role: 'server', local: '10.0.0.1', peer: '10.0.0.2' });
 * ```
 */
export function joinStreams(
  readable: Readable | NodeJS.ReadableStream,
  writable: Writable | NodeJS.WritableStream,
): Duplex {
  if (
    readable === null ||
    typeof readable !== 'object' ||
    typeof (readable as Readable).on !== 'function'
  ) {
    throw invalidOptions('joinStreams: readable must be a readable stream');
  }
  if (
    writable === null ||
    typeof writable !== 'object' ||
    typeof (writable as Writable).write !== 'function'
  ) {
    throw invalidOptions('joinStreams: writable must be a writable stream');
  }
  return Duplex.from({ readable: readable as Readable, writable: writable as Writable });
}

/**
 * A child process's stdout (read) and stdin (write) as one Duplex, for PPP with a
 * program started with `stdio: ['pipe', 'pipe', …]` (pppd-style `pty` without a pty).
 */
export function childStream(child: ChildProcess): Duplex {
  if (!child?.stdout || !child.stdin) {
    throw invalidOptions('childStream: the child needs piped stdin and stdout');
  }
  return joinStreams(child.stdout, child.stdin);
}
