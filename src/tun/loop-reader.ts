/**
 * The event-loop TUN reader: readiness comes from libuv's own epoll, no thread.
 *
 * Node has no public API to poll a character device (`net.Socket({fd})`
 * refuses it: libuv guesses FILE). But libuv's pipe handle accepts any
 * non-blocking fd (`uv_pipe_open`), so a `pipe_wrap.Pipe` opened on the TUN fd
 * puts it in the main loop's epoll set. libuv then read()s it; a TUN read()
 * returns exactly one packet, so packet boundaries hold (test/tun/boundary.test.ts).
 * libuv reads into a fixed buffer of ours (`useUserBuffer`, what net.Socket's
 * `onread: { buffer }` uses), not into a fresh 64 KiB ArrayBuffer per read: no
 * allocation per wakeup (without that binding method, Node's buffer is used).
 *
 * libuv stops after a short read (always, for a packet in a 64 KiB buffer):
 * one packet per loop turn. So on that wakeup we drain the fd ourselves with
 * read() through koffi (non-blocking, until EAGAIN) into one slab, and deliver
 * everything as one batch: the engine writes the batch as one SSH write, as with
 * the worker ring. Per wakeup at most `16 × maxBatch` packets, then we yield
 * to the loop; epoll is level-triggered, so the rest comes next turn.
 *
 * Bounded: nothing is queued in this process. While the consumer is paused
 * (readStop) or the main thread is busy, packets wait in, and beyond
 * txqueuelen are dropped by, the kernel's queue.
 *
 * Truncation. A TUN read() into a buffer smaller than the packet copies what
 * fits and returns that length: the rest is lost, silently. So every read
 * offers one byte more than `maxPacket` and a read that fills its buffer is
 * dropped and counted (`truncated`), never delivered; libuv's own read (the
 * first packet of a wakeup) goes to a buffer of the same size. Should Node's
 * 64 KiB stream buffer be used instead (no `useUserBuffer`), a packet of 65536
 * bytes or more is dropped there the same way. In vnet mode the device keeps GSO
 * super-packets below that (gso_max_size, see device.ts), so only an MTU above
 * VNET_MAX_MTU could make such drops.
 *
 * `process.binding()` is deprecated (DEP0111) but only warns under
 * `--pending-deprecation`; when it is missing the device falls back to the
 * worker reader. Closing the handle closes the fd (libuv owns it once opened).
 */
import { EAGAIN, EINTR, libc, type ReadFn } from '../sys/libc.js';
import { ReaderRefs } from './reader-refs.js';

interface PipeHandle {
  open(fd: number): number;
  readStart(): number;
  readStop(): number;
  close(cb?: () => void): void;
  ref(): void;
  unref(): void;
  /** Must always be a function (Node asserts on anything else). */
  onread: (ab: ArrayBuffer | undefined) => void;
  /**
   * libuv reads into this buffer (at offset 0) instead of a fresh 64 KiB ArrayBuffer per
   * read (what net.Socket's `onread: { buffer }` option uses); onread then gets no ArrayBuffer.
   */
  useUserBuffer?(buf: Uint8Array): void;
}

interface Bindings {
  Pipe: new (type: number) => PipeHandle;
  SOCKET: number;
  state: Int32Array;
  kReadBytes: number;
  kOffset: number;
}

let bindings: Bindings | null | undefined;

/** The pipe_wrap/stream_wrap bindings, or null when this Node does not expose them. */
export function loopBindings(): Bindings | null {
  if (bindings !== undefined) return bindings;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> })
      .binding;
    const pw = binding('pipe_wrap') as {
      Pipe: Bindings['Pipe'];
      constants: { SOCKET: number };
    };
    const sw = binding('stream_wrap') as {
      streamBaseState: Int32Array;
      kReadBytesOrError: number;
      kArrayBufferOffset: number;
    };
    if (typeof pw.Pipe !== 'function' || !(sw.streamBaseState instanceof Int32Array))
      bindings = null;
    else
      bindings = {
        Pipe: pw.Pipe,
        SOCKET: pw.constants.SOCKET,
        state: sw.streamBaseState,
        kReadBytes: sw.kReadBytesOrError,
        kOffset: sw.kArrayBufferOffset,
      };
  } catch {
    bindings = null;
  }
  return bindings;
}

export interface LoopReaderSink {
  /** One batch of views (valid during the call); `bytes` is their total length. */
  deliver(batch: Uint8Array[], bytes: number): void;
  /** The reader stopped on a device error (errno; 5 = EIO for EOF/hang-up). */
  fail(errno: number): void;
}

const UV_EOF = -4095;
/** Size of the buffer Node gives libuv for a stream read (libuv suggests 64 KiB). */
export const UV_READ_BUFFER = 64 * 1024;

export class LoopReader extends ReaderRefs {
  private handle: PipeHandle | null = null;
  private reading = false;
  private paused = false;
  private readonly slab: Uint8Array;
  /** Where libuv puts the first packet of a wakeup (maxPacket + 1: a full read was truncated). */
  private readonly first: Uint8Array;
  /** libuv reads into `first` (else into an ArrayBuffer of its own per read, 64 KiB). */
  private userBuffer = false;
  private readonly read: ReadFn;
  private readonly errno: () => number;
  /** onread calls with data (= epoll wakeups that found packets). */
  wakeups = 0;
  /** Wakeups that used up their budget (packets were left for the next turn). */
  budgetExhausted = 0;
  readErrors = 0;
  /** Reads that filled their buffer (packet longer than maxPacket, or ≥ 64 KiB on libuv's read): dropped. */
  truncated = 0;
  /** Packets read but never delivered at close: none, nothing queues in this reader. */
  readonly dropped = 0;

  constructor(
    private readonly fd: number,
    private readonly maxPacket: number,
    private readonly maxBatch: number,
    slabBytes: number,
    private readonly sink: LoopReaderSink,
  ) {
    super();
    this.slab = new Uint8Array(Math.max(slabBytes, 2 * (maxPacket + 8)));
    this.first = new Uint8Array(maxPacket + 1);
    this.read = libc().read;
    this.errno = libc().errno;
  }

  /** Opens the pipe handle on the fd and starts reading. Throws when the bindings are missing or uv_pipe_open fails. */
  start(): void {
    const b = loopBindings();
    if (!b) throw new Error('process.binding("pipe_wrap") is not available');
    const h = new b.Pipe(b.SOCKET);
    const r = h.open(this.fd);
    if (r !== 0) {
      h.close();
      throw new Error(`uv_pipe_open: ${r}`);
    }
    h.onread = (ab) => this.onread(ab, b);
    // No allocation per wakeup: the first packet goes to a buffer of ours too.
    if (typeof h.useUserBuffer === 'function') {
      h.useUserBuffer(this.first);
      this.userBuffer = true;
    }
    this.handle = h;
    if (!this.refed) h.unref();
    if (!this.paused) this.readStart();
  }

  pause(): void {
    this.paused = true;
    if (this.handle && this.reading) {
      this.handle.readStop();
      this.reading = false;
    }
  }

  resume(): void {
    this.paused = false;
    if (this.handle && !this.reading) this.readStart();
  }

  protected loopHolder(): { ref(): void; unref(): void } | null {
    return this.handle;
  }

  /** Stops reading and closes the handle, which closes the fd. Resolves in the loop's close phase. */
  close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (!h) return Promise.resolve();
    h.onread = () => {};
    if (this.reading) h.readStop();
    this.reading = false;
    return new Promise((resolve) => h.close(resolve));
  }

  /** Same as budgetExhausted (the name the worker reader shares). */
  get stalls(): number {
    return this.budgetExhausted;
  }

  /** True once the handle owns (and will close) the fd. */
  get ownsFd(): boolean {
    return this.handle !== null;
  }

  private readStart(): void {
    const h = this.handle;
    if (!h) return;
    const r = h.readStart();
    if (r !== 0) this.stop(-r);
    else this.reading = true;
  }

  private stop(errno: number): void {
    if (this.handle && this.reading) this.handle.readStop();
    this.reading = false;
    this.sink.fail(errno);
  }

  private onread(ab: ArrayBuffer | undefined, b: Bindings): void {
    const nread = b.state[b.kReadBytes];
    if (nread < 0) {
      this.readErrors += nread === UV_EOF ? 0 : 1;
      this.stop(nread === UV_EOF ? 5 : -nread);
      return;
    }
    if (nread === 0 || (!ab && !this.userBuffer)) return;
    this.wakeups++;
    if (nread > this.maxPacket || (!this.userBuffer && nread >= UV_READ_BUFFER)) {
      this.truncated++;
      this.drain(null);
    } else if (this.userBuffer) this.drain(this.first.subarray(0, nread));
    else this.drain(new Uint8Array(ab!, b.state[b.kOffset], nread));
  }

  /** Delivers `first` plus whatever the fd holds now, in batches of up to maxBatch. */
  private drain(first: Uint8Array | null): void {
    const { slab, maxPacket, maxBatch, fd, read } = this;
    // One byte more than the largest packet: a read that fills it was truncated.
    const room = maxPacket + 1;
    let budget = 16 * maxBatch;
    let batch: Uint8Array[] = first ? [first] : [];
    let bytes = first ? first.length : 0;
    let off = 0;
    for (;;) {
      let errno = 0;
      if (budget <= 0) {
        this.budgetExhausted++;
        break;
      }
      if (batch.length >= maxBatch || slab.length - off < room) {
        if (batch.length > 0) this.sink.deliver(batch, bytes);
        if (!this.reading) return; // paused or closed by the handler
        batch = [];
        bytes = 0;
        off = 0;
      }
      const n = Number(read(fd, slab.subarray(off, off + room), room));
      if (n > maxPacket) {
        this.truncated++;
        budget--;
        continue;
      }
      if (n > 0) {
        batch.push(slab.subarray(off, off + n));
        bytes += n;
        off += (n + 7) & ~7;
        budget--;
        continue;
      }
      if (n < 0) {
        errno = this.errno();
        if (errno === EINTR) continue;
      }
      if (batch.length > 0) this.sink.deliver(batch, bytes);
      if (n === 0) this.stop(5);
      else if (errno !== EAGAIN && this.reading) {
        this.readErrors++;
        this.stop(errno);
      }
      return;
    }
    if (batch.length > 0) this.sink.deliver(batch, bytes);
  }
}
