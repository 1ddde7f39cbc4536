/**
 * Our own stdin/stdout as the transport, for `ts-vpn serve` at the far end of an
 * SSH exec channel. sshd feeds the command through pipes; we enlarge them to 1 MiB
 * (F_SETPIPE_SZ) because sshd writes in tiny pieces into a full 64 KiB pipe and
 * throughput collapses (DESIGN.md, performance facts). Stdin is read in large chunks.
 */
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { asBuffer, BaseTransport } from './base.js';
import { getPipeSize, setPipeSize } from './pipe-size.js';
import type { TransportInfo } from './types.js';

export interface StdioOptions {
  /** Defaults 0 and 1. */
  inFd?: number;
  outFd?: number;
  /** Pipe size to request for both fds (default 1 MiB; 0 = leave alone). */
  pipeSize?: number;
  /** Read size (default 256 KiB). */
  readChunk?: number;
}

export class StdioTransport extends BaseTransport {
  readonly info: TransportInfo;
  /** Pipe sizes after set-up (null when the fd is not a pipe). */
  readonly pipeSizes: { in: number | null; out: number | null };
  private readonly input: ReadStream;
  private readonly output: WriteStream;
  private flowAttached = false;
  private closing: Promise<void> | null = null;

  constructor(opts: StdioOptions = {}) {
    super();
    const inFd = opts.inFd ?? 0;
    const outFd = opts.outFd ?? 1;
    const size = opts.pipeSize ?? 1 << 20;
    if (size > 0) {
      setPipeSize(inFd, size);
      setPipeSize(outFd, size);
    }
    this.pipeSizes = { in: getPipeSize(inFd), out: getPipeSize(outFd) };
    this.info = { kind: 'stdio', remote: 'stdio' };
    // fs streams use blocking reads/writes in the libuv thread pool: the fds stay in
    // blocking mode (sshd shares them) and each read takes up to readChunk bytes.
    this.input = createReadStream('', { fd: inFd, highWaterMark: opts.readChunk ?? 256 * 1024, autoClose: false });
    this.input.pause();
    this.output = createWriteStream('', { fd: outFd, highWaterMark: 1 << 20, autoClose: false });
    this.output.on('drain', () => this.emit('drain'));
    this.output.on('error', (err) => this.finish({ code: 'ERROR', message: `stdout: ${err.message}`, error: err }));
    this.input.on('end', () => this.finish({ code: 'EOF', message: 'stdin closed' }));
    this.input.on('error', (err) => this.finish({ code: 'ERROR', message: `stdin: ${err.message}`, error: err }));
  }

  write(chunk: Uint8Array): boolean {
    if (this.closeReason || this.closing) return false;
    this.stats.writes++;
    this.stats.bytesOut += chunk.length;
    const ok = this.output.write(asBuffer(chunk));
    if (!ok) this.stats.backpressured++;
    return ok;
  }

  protected startFlow(): void {
    if (!this.flowAttached) {
      this.flowAttached = true;
      this.input.on('data', (d) => this.emitData(d as Buffer));
    }
    this.input.resume();
  }

  protected stopFlow(): void {
    this.input.pause();
  }

  /** Flushes stdout and stops reading. The fds stay open (they belong to the process). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.finish({ code: 'LOCAL', message: 'closed locally' });
      this.input.pause();
      await new Promise<void>((r) => {
        if (this.output.writableLength === 0) return r();
        this.output.once('drain', () => r());
        this.output.once('error', () => r());
      });
      this.input.destroy();
    })();
    return this.closing;
  }
}
