/**
 * The worker-thread TUN reader, main-thread half (the thread half is
 * reader-worker.ts): the fallback when the loop reader (loop-reader.ts) is
 * unavailable, or chosen with `reader: 'worker'` / TSVPN_TUN_READER=worker.
 *
 * Node cannot poll an arbitrary character device through public APIs:
 * `net.Socket({fd})` refuses it (ERR_INVALID_FD_TYPE, libuv sees a FILE) and
 * fs reads on it run in the libuv threadpool, where a blocking read never
 * returns on close and a non-blocking one just fails with EAGAIN. So one
 * worker thread per device does poll() + read() through koffi on the
 * O_NONBLOCK fd, straight into a SharedArrayBuffer ring (ring.ts), and wakes
 * the main thread once per batch with Atomics.notify → Atomics.waitAsync.
 * Here the main thread hands out views of the ring (no copy), a bounded number
 * per turn of the event loop, and frees the room after the sink returns.
 *
 * Bounded: the ring has a fixed size; when it is full the worker stops reading
 * and the kernel's own queue (txqueuelen) holds, then drops, packets — visible
 * as TX drops of the interface in `ip -s link` and as `stalls` here.
 *
 * `close()` stops the worker (eventfd wakeup; a 2 s bound only for a worker
 * stuck in native code), counts packets published but never handed out
 * (`dropped`) and closes the eventfd. The TUN fd stays the device's.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { EFD_CLOEXEC, EFD_NONBLOCK, libc } from '../sys/libc.js';
import { errnoName, TunError } from './errors.js';
import type { LoopReaderSink } from './loop-reader.js';
import { ReaderRefs } from './reader-refs.js';
import { READER_WORKER_SOURCE, type ReaderWorkerData } from './reader-worker.js';
import {
  C_EXIT_ERRNO,
  C_HEAD,
  C_MAIN_IDLE,
  C_READ_ERRORS,
  C_SEQ,
  C_SLOTS,
  C_STALLS,
  C_STATE,
  C_TAIL,
  C_TAIL_SEQ,
  C_TRUNCATED,
  C_WAKEUPS,
  C_WORKER_BLOCKED,
  WRAP,
} from './ring.js';

export interface WorkerReaderSink extends LoopReaderSink {
  /** The worker thread itself failed (an exception in it, not a device error). */
  crashed(err: Error): void;
}

/** execArgv minus `--input-type=…` / `--input-type …` (see start). */
function withoutInputType(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--input-type=')) continue;
    if (argv[i] === '--input-type') {
      i++;
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

export class WorkerReader extends ReaderRefs {
  private wakeFd = -1;
  private worker: Worker | null = null;
  private ctrl: Int32Array | null = null;
  private data: Uint8Array | null = null;
  private data32: Int32Array | null = null;
  private paused = false;
  private draining = false;
  /** close() was called. */
  private stopping = false;
  /** close() completed. */
  private closed = false;
  /** Packets published to the ring but never handed out (counted at close). */
  dropped = 0;
  private readonly drainBound = (): void => this.drain();

  constructor(
    private readonly fd: number,
    private readonly maxPacket: number,
    private readonly maxBatch: number,
    private readonly ringBytes: number,
    private readonly sink: WorkerReaderSink,
  ) {
    super();
  }

  /** Times the worker found the ring full. */
  get stalls(): number {
    return this.ctrl ? Atomics.load(this.ctrl, C_STALLS) : 0;
  }

  get wakeups(): number {
    return this.ctrl ? Atomics.load(this.ctrl, C_WAKEUPS) : 0;
  }

  get readErrors(): number {
    return this.ctrl ? Atomics.load(this.ctrl, C_READ_ERRORS) : 0;
  }

  /** Reads that filled their buffer (packet longer than maxPacket): dropped. */
  get truncated(): number {
    return this.ctrl ? Atomics.load(this.ctrl, C_TRUNCATED) : 0;
  }

  /** Never: the TUN fd stays the device's to close. */
  get ownsFd(): boolean {
    return false;
  }

  /** Creates the eventfd, the ring and the worker thread. Throws TunError when eventfd fails. */
  start(): void {
    const c = libc();
    const wakeFd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0)
      throw new TunError('TUN_SYSTEM', `eventfd: ${errnoName(c.errno())}`, errnoName(c.errno()));
    this.wakeFd = wakeFd;
    const ctrl = new SharedArrayBuffer(C_SLOTS * 4);
    const data = new SharedArrayBuffer(this.ringBytes);
    this.ctrl = new Int32Array(ctrl);
    this.data = new Uint8Array(data);
    this.data32 = new Int32Array(data);
    const workerData: ReaderWorkerData = {
      koffiPath: createRequire(import.meta.url).resolve('koffi'),
      tunFd: this.fd,
      wakeFd,
      ctrl,
      data,
      maxPacket: this.maxPacket,
      batch: this.maxBatch,
    };
    const worker = new Worker(READER_WORKER_SOURCE, {
      eval: true,
      // The source is CommonJS: a parent run with `--input-type=module` (node -e) would
      // make the eval'd worker an ES module, where `require` does not exist.
      execArgv: withoutInputType(process.execArgv),
      workerData,
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    if (!this.refed) worker.unref();
    worker.on('error', (err) => this.sink.crashed(err));
    worker.on('exit', () => {
      this.worker = null;
      if (!this.stopping) {
        const errno = this.ctrl ? Atomics.load(this.ctrl, C_EXIT_ERRNO) : 0;
        this.drain();
        this.sink.fail(errno);
      }
    });
    this.arm();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.worker) setImmediate(this.drainBound);
  }

  protected loopHolder(): { ref(): void; unref(): void } | null {
    return this.worker;
  }

  /** Waits (asynchronously) for the worker to publish records. */
  private arm(): void {
    const ctrl = this.ctrl;
    if (!ctrl || this.closed) return;
    const seq = Atomics.load(ctrl, C_SEQ);
    Atomics.store(ctrl, C_MAIN_IDLE, 1);
    if (Atomics.load(ctrl, C_HEAD) !== Atomics.load(ctrl, C_TAIL) || this.stopping) {
      Atomics.store(ctrl, C_MAIN_IDLE, 0);
      setImmediate(this.drainBound);
      return;
    }
    // Atomics.waitAsync is in Node 20 (V8) but not in the ES2022 lib typings.
    const r = (
      Atomics as unknown as {
        waitAsync(
          a: Int32Array,
          i: number,
          v: number,
        ): { async: boolean; value: Promise<string> | string };
      }
    ).waitAsync(ctrl, C_SEQ, seq);
    if (r.async) (r.value as Promise<string>).then(this.drainBound);
    else setImmediate(this.drainBound);
  }

  /** Hands published records to the sink, a bounded number per turn of the event loop. */
  private drain(): void {
    const ctrl = this.ctrl;
    const data = this.data;
    const data32 = this.data32;
    if (!ctrl || !data || !data32 || this.closed || this.draining || this.paused) return;
    this.draining = true;
    const size = data.length;
    let tail = Atomics.load(ctrl, C_TAIL);
    let budget = 16 * this.maxBatch;
    try {
      while (budget > 0 && !this.paused) {
        const head = Atomics.load(ctrl, C_HEAD);
        if (head === tail) break;
        const batch: Uint8Array[] = [];
        let bytes = 0;
        while (tail !== head && batch.length < this.maxBatch) {
          if (tail === size) {
            tail = 0;
            continue;
          }
          const len = data32[tail >> 2];
          if (len === WRAP) {
            tail = 0;
            continue;
          }
          batch.push(data.subarray(tail + 4, tail + 4 + len));
          bytes += len;
          tail += 4 + ((len + 3) & ~3);
        }
        budget -= batch.length;
        this.sink.deliver(batch, bytes);
        // The views are dead from here on: give the room back to the worker.
        Atomics.store(ctrl, C_TAIL, tail);
        if (Atomics.load(ctrl, C_WORKER_BLOCKED) === 1) {
          Atomics.add(ctrl, C_TAIL_SEQ, 1);
          Atomics.notify(ctrl, C_TAIL_SEQ);
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.paused) return;
    if (budget <= 0) setImmediate(this.drainBound);
    else this.arm();
  }

  /**
   * Stops the worker, counts what it published but was never handed out in
   * `dropped`, and closes the eventfd. Resolves when the thread is gone.
   */
  async close(): Promise<void> {
    this.stopping = true;
    const ctrl = this.ctrl;
    const worker = this.worker;
    if (ctrl) {
      Atomics.store(ctrl, C_STATE, 1);
      Atomics.add(ctrl, C_TAIL_SEQ, 1);
      Atomics.notify(ctrl, C_TAIL_SEQ);
    }
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      if (this.wakeFd >= 0) {
        const one = new Uint8Array(8);
        one[0] = 1;
        try {
          fs.writeSync(this.wakeFd, one);
        } catch {
          /* counter full: a wakeup is pending anyway */
        }
      }
      // The worker wakes at once (eventfd); the 2 s bound only covers a worker stuck in native code.
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), 2000);
      });
      if ((await Promise.race([exited, stuck])) === 'stuck') await worker.terminate();
      clearTimeout(timer);
    }
    if (ctrl) {
      // Packets published but not handed out are dropped.
      const head = Atomics.load(ctrl, C_HEAD);
      let tail = Atomics.load(ctrl, C_TAIL);
      const size = this.ringBytes;
      while (this.data32 && tail !== head) {
        if (tail === size || this.data32[tail >> 2] === WRAP) {
          tail = 0;
          continue;
        }
        const len = this.data32[tail >> 2];
        this.dropped++;
        tail += 4 + ((len + 3) & ~3);
      }
      // Releases a pending Atomics.waitAsync so no promise outlives the reader.
      Atomics.add(ctrl, C_SEQ, 1);
      Atomics.notify(ctrl, C_SEQ);
    }
    this.closed = true;
    if (this.wakeFd >= 0) {
      fs.closeSync(this.wakeFd);
      this.wakeFd = -1;
    }
  }
}
