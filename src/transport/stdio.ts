/**
 * Our own stdin/stdout as the transport, for `ts-vpn serve` at the far end of an
 * SSH exec channel. sshd feeds the command through pipes; we enlarge them to 1 MiB
 * (F_SETPIPE_SZ) because sshd writes in tiny pieces into a full 64 KiB pipe and
 * throughput collapses (DESIGN.md, performance facts).
 *
 * Input (`input` option):
 *  - `stream` (default for a pipe or socket): a libuv stream read on the main thread's
 *    event loop, into one fixed 256 KiB buffer (no Buffer per read; the chunk handed to
 *    'data' listeners is a view valid during the call). Each chunk costs one wake-up of the main thread only, which
 *    is what a tunnel wants: measured with bench/tunnel (bench/tunnel/RESULTS.md) it lowers
 *    ts-vpn's CPU per GB and the idle RTT against `fs`, whose extra thread-pool hop per
 *    read costs a thread wake-up and a hand-off per packet at low rates.
 *  - `fs`: blocking 256 KiB reads in the libuv thread pool, measured at ~2.5 GB/s from a
 *    1 MiB-chunk writer versus ~1.5 GB/s for a libuv pipe stream: for bulk byte streams far
 *    above a tunnel's rates. That needs a blocking fd: we clear O_NONBLOCK, and should
 *    something else set it again (a parent sharing the pipe), an EAGAIN switches to a libuv
 *    stream for the rest. Also used when stdin is neither a pipe nor a socket (a file).
 * Output: a libuv stream (works in either mode, ~3.9 GB/s); a file falls back to fs writes.
 */
import { createWriteStream, fstatSync, writeSync } from 'node:fs';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BaseTransport } from './base.js';
import { FdReader } from './fd-reader.js';
import { getPipeSize, setBlocking, setPipeSize } from './pipe-size.js';
import type { TransportInfo } from './types.js';

/** Size of the one buffer stdin is read into in stream mode (the pipe holds up to 1 MiB). */
const STREAM_READ_BUFFER = 256 * 1024;

export interface StdioOptions {
  /** Defaults 0 and 1. */
  inFd?: number;
  outFd?: number;
  /** Pipe size to request for both fds (default 1 MiB; 0 = leave alone). */
  pipeSize?: number;
  /** Read size for the thread-pool reader (default 256 KiB). */
  readChunk?: number;
  /** How to read stdin (see above); default `stream` for a pipe/socket, `fs` otherwise. */
  input?: 'stream' | 'fs';
}

export class StdioTransport extends BaseTransport {
  readonly info: TransportInfo;
  /** Pipe sizes after set-up (null when the fd is not a pipe). */
  readonly pipeSizes: { in: number | null; out: number | null };
  /** How stdin is being read: `stream` (libuv, main thread) or `fs` (blocking thread-pool reads). */
  inputMode: 'fs' | 'stream' = 'fs';
  /** Exactly one of the two readers is in use (fs mode may switch to a stream once). */
  private fsInput: FdReader | null = null;
  private streamInput: Readable | null = null;
  private readonly output: Writable;
  private readonly inFd: number;
  /** stdout when it is a pipe or socket (non-blocking under libuv): writeView tries it directly. */
  private readonly directOutFd: number | null;
  /** writeView: bytes written straight to the fd, and chunks that had to be copied for the stream. */
  readonly viewStats = { direct: 0, copied: 0 };
  /** The consumer wants data (startFlow called, stopFlow not since). */
  private wantFlow = false;
  private closing: Promise<void> | null = null;

  constructor(opts: StdioOptions = {}) {
    super();
    this.inFd = opts.inFd ?? 0;
    const outFd = opts.outFd ?? 1;
    const size = opts.pipeSize ?? 1 << 20;
    if (size > 0) {
      setPipeSize(this.inFd, size);
      setPipeSize(outFd, size);
    }
    this.pipeSizes = { in: getPipeSize(this.inFd), out: getPipeSize(outFd) };
    this.info = { kind: 'stdio', remote: 'stdio' };

    const st = fstatSync(outFd);
    this.directOutFd = st.isFIFO() || st.isSocket() ? outFd : null;
    this.output =
      this.directOutFd !== null
        ? new Socket({ fd: outFd, readable: false, writable: true })
        : createWriteStream('', { fd: outFd, highWaterMark: 1 << 20, autoClose: false });
    this.output.on('drain', () => this.emit('drain'));
    this.output.on('error', (err) =>
      this.finish({ code: 'ERROR', message: `stdout: ${err.message}`, error: err }),
    );

    const inSt = fstatSync(this.inFd);
    if ((opts.input ?? 'stream') === 'stream' && (inSt.isFIFO() || inSt.isSocket())) {
      this.inputMode = 'stream';
      this.streamInput = this.openStreamInput();
    } else {
      setBlocking(this.inFd);
      this.fsInput = new FdReader(this.inFd, opts.readChunk ?? 256 * 1024, {
        data: (d) => this.emitData(d),
        end: () => this.finish({ code: 'EOF', message: 'stdin closed' }),
        wouldBlock: () => {
          if (!this.closeReason) this.switchToStreamInput();
        },
        error: (err) =>
          this.finish({ code: 'ERROR', message: `stdin: ${err.message}`, error: err }),
      });
    }
  }

  private openStreamInput(): Readable {
    // Reads land in one fixed buffer (net.Socket `onread`), not in a fresh 64 KiB Buffer
    // per read: each chunk is handed on as a view, valid during the 'data' call only.
    const buffer = Buffer.allocUnsafe(STREAM_READ_BUFFER);
    // `onread` works for an fd socket too; @types/node lists it for connect() only.
    const onread: OnReadOpts = {
      buffer,
      callback: (n) => {
        this.emitData(buffer.subarray(0, n));
        return true; // pausing is stopFlow's job
      },
    };
    const opts: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd: this.inFd,
      readable: true,
      writable: false,
      onread,
    };
    const s = new Socket(opts);
    s.pause();
    s.on('end', () => this.finish({ code: 'EOF', message: 'stdin closed' }));
    s.on('error', (err) =>
      this.finish({ code: 'ERROR', message: `stdin: ${err.message}`, error: err }),
    );
    return s;
  }

  /** Someone set O_NONBLOCK on the shared stdin: read it as a libuv stream from now on. */
  private switchToStreamInput(): void {
    this.fsInput?.stop();
    this.fsInput = null;
    this.inputMode = 'stream';
    const s = this.openStreamInput();
    this.streamInput = s;
    if (this.wantFlow) s.resume();
  }

  write(chunk: Uint8Array): boolean {
    if (this.closing) return false;
    return this.writeCounted(this.output, chunk);
  }

  /**
   * `write` for a view valid only during the call (the link's framing buffer): while
   * nothing is queued in the stream, the bytes go to the (non-blocking) pipe with one
   * write(2) and nothing is allocated; what the pipe does not take (full: EAGAIN, or a
   * short write) is copied and queued on the stream, which then owns its copy.
   */
  writeView(chunk: Uint8Array): boolean {
    if (this.closing) return false;
    const fd = this.directOutFd;
    let n = 0;
    if (fd !== null && this.output.writableLength === 0 && !this.closeReason) {
      try {
        n = writeSync(fd, chunk);
      } catch {
        // EAGAIN: the pipe is full. Anything else: the stream's own write reports it.
      }
    }
    this.stats.bytesOut += n;
    if (n === chunk.length) {
      this.viewStats.direct++;
      this.stats.writes++;
      return true;
    }
    this.viewStats.copied++;
    // A copy even when the view is a Buffer (whose slice() would be another view).
    return this.write(new Uint8Array(chunk.subarray(n)));
  }

  protected startFlow(): void {
    this.wantFlow = true;
    if (this.fsInput) {
      this.fsInput.resume();
      return;
    }
    this.streamInput!.resume();
  }

  protected stopFlow(): void {
    this.wantFlow = false;
    this.fsInput?.pause();
    this.streamInput?.pause();
  }

  /** Flushes stdout and stops reading. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.finish({ code: 'LOCAL', message: 'closed locally' });
      this.stopFlow();
      this.fsInput?.stop();
      await new Promise<void>((r) => {
        if (this.output.writableLength === 0) return r();
        this.output.once('drain', () => r());
        this.output.once('error', () => r());
      });
    })();
    return this.closing;
  }
}
