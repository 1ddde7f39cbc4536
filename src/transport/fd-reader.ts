/**
 * Blocking reads of one fd in the libuv thread pool, one read in flight at a time.
 *
 * Unlike `fs.createReadStream`, nothing is ever buffered out of sight: a chunk that
 * completes while the consumer is paused is held (one at most) and handed over on
 * `resume()`, and an EAGAIN (someone made the fd non-blocking) is reported to the owner
 * with no data lost, so the owner can switch to another way of reading.
 */
import { read } from 'node:fs';

export interface FdReaderHandlers {
  data(chunk: Buffer): void;
  /** Read returned 0: end of file / the writer closed the pipe. */
  end(): void;
  /** The fd is non-blocking and empty: the owner should read it another way. */
  wouldBlock(): void;
  error(err: NodeJS.ErrnoException): void;
}

export class FdReader {
  private reading = false;
  private flowing = false;
  private stopped = false;
  private held: Buffer | null = null;

  constructor(
    private readonly fd: number,
    private readonly chunkSize: number,
    private readonly on: FdReaderHandlers,
  ) {}

  resume(): void {
    if (this.stopped) return;
    this.flowing = true;
    const held = this.held;
    if (held !== null) {
      this.held = null;
      this.on.data(held);
    }
    this.readNext();
  }

  pause(): void {
    this.flowing = false;
  }

  /** No more callbacks (a read already in flight completes and is dropped). */
  stop(): void {
    this.stopped = true;
    this.flowing = false;
    this.held = null;
  }

  private readNext(): void {
    if (this.reading || !this.flowing || this.stopped) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(this.chunkSize);
    read(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.reading = false;
      if (this.stopped) return;
      if (err) {
        if (err.code === 'EINTR') return this.readNext();
        this.stopped = true;
        if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK') this.on.wouldBlock();
        else this.on.error(err);
        return;
      }
      if (n === 0) {
        this.stopped = true;
        this.on.end();
        return;
      }
      const chunk = buf.subarray(0, n);
      if (!this.flowing) {
        this.held = chunk;
        return;
      }
      this.on.data(chunk);
      this.readNext();
    });
  }
}
