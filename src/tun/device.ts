/**
 * TunDevice: a Linux TUN interface (IFF_TUN | IFF_NO_PI, layer 3, no packet
 * info header; optionally IFF_VNET_HDR, see "vnet mode" below) opened in the
 * caller's current network namespace.
 *
 * ```ts
 * const tun = TunDevice.open({ name: 'tsvpn%d' });   // kernel picks tsvpn0, tsvpn1, …
 * tun.name; tun.ifindex;
 * tun.onPackets((packets) => { for (const p of packets) engine.sendIp(p, now) }); // views, valid during the call
 * tun.write(ipPacket);                                 // false = dropped and counted
 *
 * const v = TunDevice.open({ name: 'tsvpn%d', vnetHdr: true }); // frames = virtio_net_hdr + IP packet
 * v.setOffload(true);                                  // partial checksums, TCP GSO super-packets
 * v.onPackets((frames) => …);  v.write(frame);  v.writeIp(ipPacket);
 * await tun.close();                                   // interface, its addresses and routes disappear
 * ```
 *
 * Reading: two readers (option `reader`, env TSVPN_TUN_READER for A/B).
 *
 * 'loop' (default): the fd sits in the main event loop's epoll set through a
 * libuv pipe handle; on readiness the main thread reads the fd until EAGAIN
 * and delivers one batch. No thread, no hand-off (see loop-reader.ts). Bounded:
 * nothing queues in this process; `rxStalls` counts wakeups that hit the
 * per-turn budget and left packets in the kernel queue for the next turn.
 *
 * 'worker' (fallback, and used when the pipe binding is missing): one worker
 * thread per device does poll() + read() into a SharedArrayBuffer ring and
 * wakes the main thread once per batch; the main thread hands out views of the
 * ring (no copy). Bounded by the ring's fixed size: when it is full the
 * kernel's queue holds, then drops, packets, counted in `rxStalls`. See
 * worker-reader.ts (main thread) and reader-worker.ts (thread).
 *
 * Writing goes straight to the fd from the main thread (one write() per
 * packet through koffi; TUN writes never block). A failed write is dropped
 * and counted.
 *
 * vnet mode (option `vnetHdr`, IFF_VNET_HDR, header size set to 10 with
 * TUNSETVNETHDRSZ): every frame read and written starts with a 10-byte
 * virtio_net_hdr (vnet-hdr.ts). `setOffload(true)` (TUNSETOFFLOAD with
 * TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) then lets the kernel hand us TCP
 * segments with a partial checksum (NEEDS_CSUM) and GSO super-packets of up
 * to ~64 KB, and take the same from us, like wireguard-go and tailscale do:
 * a bulk TCP flow costs one read() and one write() per ~62 KB instead of per
 * MTU-sized packet (test/tun/vnet.test.ts: 542 instead of 23177 reads for
 * 32 MiB). Frames from the network peer must pass validateVnetFrame() before
 * write(); a partial checksum bound for a peer without offload is finished
 * with completeChecksum(). `writeIp(packet)` writes a plain IP packet behind
 * an all-zero header: copied into a reused scratch buffer and written with
 * one write(), which a micro-benchmark found cheaper than writev() of header
 * and packet (koffi: ~1.0 vs ~1.8 µs per call of overhead for 1400 B;
 * fs.writevSync is slower still).
 *
 * Truncation. A TUN read() into a too-small buffer returns what fit and
 * silently loses the rest. Every read therefore offers maxPacket + 1 bytes
 * and a read that fills them is dropped and counted (`rxTruncated`), in both
 * readers. The loop reader's first read per wakeup is libuv's, into Node's
 * fixed 64 KiB buffer; so before offload goes on, the interface's
 * gso_max_size is capped (rtnetlink, read back) at VNET_GSO_MAX_SIZE = 63 KiB,
 * which keeps header + super-packet below 64 KiB. Only an MTU above
 * VNET_MAX_MTU (65525) could still make drops there — counted, never
 * delivered cut. Both readers support vnet mode (maxPacket 65545 by default).
 *
 * Lifetime. The reader starts with the first `onPackets()` call. While it runs,
 * the worker keeps the process alive (like a socket); `unref()` lets the
 * process exit anyway. `close()` stops the worker (eventfd wakeup, no
 * timeouts involved), then closes the fds; nothing is left running.
 *
 * Events: 'error' (TunError: the reader stopped on a device error, e.g. the
 * interface was deleted), 'close' (after close() completed or the reader died).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { libc } from '../sys/libc.js';
import { VNET_HDR_LEN } from '../wire/vnet-hdr.js';
import { errnoName, TunError } from './errors.js';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUNSETOFFLOAD } from './if-tun.js';
import { linkGso, setLinkGsoMaxSize } from './link-gso.js';
import { LoopReader, loopBindings, UV_READ_BUFFER } from './loop-reader.js';
import { openTunFd } from './open.js';
import { WorkerReader } from './worker-reader.js';

export { validateIfName } from './open.js';

/** fcntl(2): duplicate a descriptor, close-on-exec set. */
const F_DUPFD_CLOEXEC = 1030;

/**
 * gso_max_size set on a vnet-mode device before offload is turned on. The
 * kernel keeps every GSO packet it hands us shorter than this, so that a
 * frame (10-byte header + packet) always fits libuv's 64 KiB read buffer,
 * with 1 KiB to spare.
 */
export const VNET_GSO_MAX_SIZE = UV_READ_BUFFER - 1024;
/**
 * Largest MTU at which a vnet-mode frame (header + packet) still fits, with a
 * byte to spare, in libuv's 64 KiB read buffer (the loop reader's first read
 * of a wakeup): bigger packets are dropped there and counted in rxTruncated.
 */
export const VNET_MAX_MTU = UV_READ_BUFFER - 1 - VNET_HDR_LEN;

export interface TunOpenOptions {
  /** Interface name or pattern with one `%d`; default `tsvpn%d`. At most 15 bytes. */
  name?: string;
  /** Ring size in bytes between reader thread and main thread; default 4 MiB. */
  ringBytes?: number;
  /**
   * Largest packet read, header included in vnet mode; default 65535, or
   * 65545 in vnet mode. Longer ones are dropped and counted in rxTruncated.
   */
  maxPacket?: number;
  /** Most packets handed to one onPackets() call; default 256. */
  maxBatch?: number;
  /**
   * 'loop': readiness from the main event loop (libuv epoll), reads on the main
   * thread; 'worker': a reader thread and a shared ring. Default: env
   * TSVPN_TUN_READER, else 'loop' ('worker' when the loop reader is unavailable).
   */
  reader?: TunReaderKind;
  /**
   * vnet mode (IFF_VNET_HDR): every frame read or written starts with a
   * 10-byte virtio_net_hdr (vnet-hdr.ts), and setOffload() may ask the kernel
   * for partial checksums and TCP GSO super-packets. Default false.
   */
  vnetHdr?: boolean;
}

export type TunReaderKind = 'loop' | 'worker';

/** Compiled-in default reader (env TSVPN_TUN_READER overrides it). */
const DEFAULT_READER: TunReaderKind = 'loop';

export interface TunStats {
  /** Packets read from the interface (kernel → us). */
  rxPackets: number;
  rxBytes: number;
  /** Packets written to the interface (us → kernel). */
  txPackets: number;
  txBytes: number;
  /** Packets read but not delivered (no handler, or the device closed while they waited). */
  rxDrops: number;
  /**
   * worker: times the reader found the ring full; loop: wakeups that used up the
   * per-turn budget. Either way packets then wait in, or are dropped by, the kernel queue.
   */
  rxStalls: number;
  /** Writes that failed (device down, bad packet, closed): dropped. */
  txDrops: number;
  /** Read errors plus write errors other than the expected drop cases. */
  errors: number;
  /** Reader wakeups; rxPackets / wakeups = mean packets per wakeup. */
  wakeups: number;
  /** vnet mode: frames read that are GSO super-packets (gso_type ≠ NONE); each also counts in rxPackets. */
  rxGsoPackets: number;
  /** vnet mode: GSO super-packets written; each also counts in txPackets. */
  txGsoPackets: number;
  /** Reads that filled their buffer (longer than maxPacket, or ≥ 64 KiB on the loop reader's first read): dropped. */
  rxTruncated: number;
}

export type PacketsHandler = (packets: Uint8Array[]) => void;

const DEFAULT_NAME = 'tsvpn%d';
const EIO = 5;
const EAGAIN = 11;
const EINVAL = 22;

/** Copies a reader's counters into `s` (read errors add to the device's own errors). */
function readerCounters(rx: LoopReader | WorkerReader, s: TunStats): void {
  s.rxStalls = rx.stalls;
  s.wakeups = rx.wakeups;
  s.errors += rx.readErrors;
  s.rxTruncated = rx.truncated;
}

export class TunDevice extends EventEmitter {
  /** Actual interface name chosen by the kernel. */
  readonly name: string;
  /** Interface index in the current network namespace. */
  readonly ifindex: number;

  private fd: number;
  /** The running reader, loop or worker (set when onPackets() starts it). */
  private rx: LoopReader | WorkerReader | null = null;
  private started = false;
  private paused = false;
  /** The reader this device uses ('loop' may fall back to 'worker' at start). */
  reader: TunReaderKind;
  private readonly readerExplicit: boolean;
  private readonly slabBytes: number;
  private handler: PacketsHandler | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;
  private refed = true;
  private readonly ringBytes: number;
  private readonly maxPacket: number;
  private readonly maxBatch: number;
  /** True in vnet mode (IFF_VNET_HDR): frames carry a virtio_net_hdr. */
  readonly vnetHdr: boolean;
  private offloadOn = false;
  /** writeIp() in vnet mode: a zero header followed by the packet, reused. */
  private scratch: Uint8Array | null = null;
  private readonly st: TunStats = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxDrops: 0,
    rxStalls: 0,
    txDrops: 0,
    errors: 0,
    wakeups: 0,
    rxGsoPackets: 0,
    txGsoPackets: 0,
    rxTruncated: 0,
  };

  private constructor(fd: number, name: string, ifindex: number, opts: TunOpenOptions) {
    super();
    this.fd = fd;
    this.name = name;
    this.ifindex = ifindex;
    this.vnetHdr = opts.vnetHdr === true;
    this.maxPacket = opts.maxPacket ?? 65535 + (this.vnetHdr ? VNET_HDR_LEN : 0);
    this.ringBytes = Math.max(opts.ringBytes ?? 4 << 20, 4 * (this.maxPacket + 8)) & ~3;
    this.maxBatch = opts.maxBatch ?? 256;
    // One batch is read into the slab and framed before the next read can be paused
    // (backpressure): in vnet mode, where eight super-packets fill 512 KiB, keep a batch
    // well inside the framer's 1 MiB output bound even after HDLC escaping.
    this.slabBytes = Math.min(this.ringBytes, this.vnetHdr ? 512 << 10 : 1 << 20);
    const env = process.env.TSVPN_TUN_READER;
    const want = opts.reader ?? (env === 'loop' || env === 'worker' ? env : undefined);
    this.readerExplicit = want !== undefined;
    this.reader = want ?? DEFAULT_READER;
    if (this.reader === 'loop' && !this.readerExplicit && !loopBindings()) this.reader = 'worker';
  }

  /**
   * Creates the TUN interface in the current network namespace (down, no
   * address). With `vnetHdr` the device is in vnet mode, header size 10,
   * offload off. Throws TunError: TUN_INVALID_NAME, TUN_PERMISSION,
   * TUN_NO_DEVICE_NODE, TUN_NAME_TAKEN, TUN_SYSTEM.
   */
  static open(opts: TunOpenOptions = {}): TunDevice {
    const { fd, name, ifindex } = openTunFd(opts.name ?? DEFAULT_NAME, opts.vnetHdr);
    return new TunDevice(fd, name, ifindex, opts);
  }

  /** The TUN file descriptor (for diagnostics; do not read it yourself). */
  get fileDescriptor(): number {
    return this.fd;
  }

  get isClosed(): boolean {
    return this.closed || this.closing !== null;
  }

  /**
   * Sets the packet handler and starts the reader. `packets` are views of the
   * shared ring, valid only during the call: copy what you keep. Handlers are
   * called from the event loop in batches of up to `maxBatch`.
   */
  onPackets(handler: PacketsHandler): void {
    if (this.isClosed) throw new TunError('TUN_CLOSED', `${this.name}: device is closed`);
    this.handler = handler;
    if (!this.started) {
      this.started = true;
      if (this.reader === 'loop') this.startLoopReader();
      else this.startWorkerReader();
    }
  }

  /**
   * Stops handing out packets until resume() (backpressure): the reader stops
   * reading, and packets wait in (beyond txqueuelen: are dropped by) the kernel.
   */
  pause(): void {
    this.paused = true;
    this.rx?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.rx?.resume();
  }

  private startLoopReader(): void {
    const loop = new LoopReader(this.fd, this.maxPacket, this.maxBatch, this.slabBytes, {
      deliver: (batch, bytes) => this.deliver(batch, bytes),
      fail: (errno) => this.readerStopped(errno),
    });
    if (!this.refed) loop.unref();
    if (this.paused) loop.pause();
    try {
      loop.start();
    } catch (err) {
      if (this.readerExplicit)
        throw new TunError(
          'TUN_SYSTEM',
          `${this.name}: loop reader: ${(err as Error).message}`,
          undefined,
          {
            cause: err,
          },
        );
      this.reader = 'worker';
      this.startWorkerReader();
      return;
    }
    this.rx = loop;
  }

  private startWorkerReader(): void {
    const worker = new WorkerReader(this.fd, this.maxPacket, this.maxBatch, this.ringBytes, {
      deliver: (batch, bytes) => this.deliver(batch, bytes),
      fail: (errno) => this.readerStopped(errno),
      crashed: (err) => {
        this.st.errors++;
        this.fail(
          new TunError(
            'TUN_SYSTEM',
            `${this.name}: reader thread failed: ${err.message}`,
            undefined,
            { cause: err },
          ),
        );
      },
    });
    if (!this.refed) worker.unref();
    if (this.paused) worker.pause();
    // Set before start: close() then releases whatever a failed start left (eventfd).
    this.rx = worker;
    worker.start();
  }

  private readerStopped(errno: number): void {
    this.fail(
      new TunError(
        'TUN_SYSTEM',
        `${this.name}: reader stopped: ${errnoName(errno || EIO)}`,
        errnoName(errno || EIO),
      ),
    );
  }

  private deliver(batch: Uint8Array[], bytes: number): void {
    this.st.rxPackets += batch.length;
    this.st.rxBytes += bytes;
    if (this.vnetHdr)
      for (let i = 0; i < batch.length; i++) if (batch[i][1] !== 0) this.st.rxGsoPackets++;
    const h = this.handler;
    if (h && !this.closing) {
      try {
        h(batch);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    } else this.st.rxDrops += batch.length;
  }

  /** True while offload (partial checksums, TCP GSO) is on; see setOffload(). */
  get offload(): boolean {
    return this.offloadOn;
  }

  /**
   * vnet mode only (else TunError INVALID_ARGUMENT): `true` lets the kernel
   * hand us (and take from us) frames with a partial TCP/UDP checksum
   * (VIRTIO_NET_HDR_F_NEEDS_CSUM) and TCP GSO super-packets (TSO4/TSO6) up
   * to VNET_GSO_MAX_SIZE; `false` turns both off. Before turning offload on,
   * the interface's gso_max_size is lowered to VNET_GSO_MAX_SIZE (rtnetlink,
   * current namespace) and read back: if the kernel will not cap it (before
   * Linux 5.19) offload stays off and TunError TUN_SYSTEM is thrown. Sockets
   * pick the size up when they connect: call this before traffic flows.
   */
  setOffload(on: boolean): void {
    if (!this.vnetHdr)
      throw new TunError(
        'INVALID_ARGUMENT',
        `${this.name}: setOffload needs vnet mode (open with vnetHdr: true)`,
      );
    if (this.fd < 0 || this.isClosed)
      throw new TunError('TUN_CLOSED', `${this.name}: device is closed`);
    const c = libc();
    if (on) {
      let gso = 0;
      try {
        setLinkGsoMaxSize(this.ifindex, VNET_GSO_MAX_SIZE);
        gso = linkGso(this.ifindex).gsoMaxSize;
      } catch (err) {
        const e = errnoName((err as { errno?: number }).errno ?? EIO);
        throw new TunError(
          'TUN_SYSTEM',
          `${this.name}: set gso_max_size ${VNET_GSO_MAX_SIZE}: ${e}`,
          e,
          { cause: err },
        );
      }
      if (gso === 0 || gso > VNET_GSO_MAX_SIZE)
        throw new TunError(
          'TUN_SYSTEM',
          `${this.name}: gso_max_size is ${gso} after setting ${VNET_GSO_MAX_SIZE} (kernel before 5.19?): offload left off`,
        );
    }
    const bits = on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
    if (c.ioctlValue(this.fd, TUNSETOFFLOAD, bits) < 0) {
      const e = errnoName(c.errno());
      throw new TunError(
        'TUN_SYSTEM',
        `${this.name}: TUNSETOFFLOAD 0x${bits.toString(16)}: ${e}`,
        e,
      );
    }
    this.offloadOn = on;
  }

  /**
   * Writes one packet to the interface: in vnet mode a frame (virtio_net_hdr
   * + IP packet; validate frames from the peer with validateVnetFrame first),
   * else an IP packet. false = dropped (counted in txDrops).
   */
  write(packet: Uint8Array): boolean {
    if (this.writeRaw(packet, packet.length)) {
      if (this.vnetHdr && packet[1] !== 0) this.st.txGsoPackets++;
      return true;
    }
    return false;
  }

  /**
   * Writes one plain IP packet. In vnet mode it goes out behind an all-zero
   * header (no offload, checksums complete), copied into a reused scratch
   * buffer: one write() (measured cheaper than writev of header + packet, see
   * the file header). Outside vnet mode the same as write().
   */
  writeIp(packet: Uint8Array): boolean {
    if (!this.vnetHdr) return this.writeRaw(packet, packet.length);
    if (packet.length > 65535) {
      this.st.txDrops++;
      return false;
    }
    if (!this.scratch) this.scratch = new Uint8Array(VNET_HDR_LEN + 65535);
    this.scratch.set(packet, VNET_HDR_LEN);
    return this.writeRaw(this.scratch, VNET_HDR_LEN + packet.length);
  }

  private writeRaw(buf: Uint8Array, len: number): boolean {
    if (this.fd < 0 || this.closing) {
      this.st.txDrops++;
      return false;
    }
    const c = libc();
    const n = c.write(this.fd, buf, len);
    if (n >= 0) {
      this.st.txPackets++;
      this.st.txBytes += n;
      return true;
    }
    this.st.txDrops++;
    const errno = c.errno();
    // EIO: interface down; EAGAIN: no room; EINVAL: not an IP packet (or a bad header). Drops, not errors.
    if (errno !== EIO && errno !== EAGAIN && errno !== EINVAL) this.st.errors++;
    return false;
  }

  /** Writes several packets; returns how many were accepted. */
  writeMany(packets: readonly Uint8Array[]): number {
    let ok = 0;
    for (let i = 0; i < packets.length; i++) if (this.write(packets[i])) ok++;
    return ok;
  }

  stats(): TunStats {
    const s = { ...this.st };
    if (this.rx) readerCounters(this.rx, s);
    return s;
  }

  /** Keep the process alive while the reader runs (default). */
  ref(): this {
    this.refed = true;
    this.rx?.ref();
    return this;
  }

  /** Let the process exit even though the reader runs. */
  unref(): this {
    this.refed = false;
    this.rx?.unref();
    return this;
  }

  /**
   * Stops the reader and closes the fd: the kernel deletes the interface with
   * its addresses and routes. Idempotent; resolves when nothing is left running.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private fail(err: TunError): void {
    if (this.closing) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    void this.close();
  }

  private async doClose(): Promise<void> {
    const rx = this.rx;
    // The last close of a TUN fd unregisters the interface, and the kernel waits for RCU
    // grace periods there: 10-20 ms on a busy machine (perf trace: close() 14.4 ms), which on
    // the event loop stalls every other session of a gateway. So the last reference is
    // closed on libuv's thread pool (fs.close) instead.
    let last = -1;
    if (rx) {
      // Closing the loop reader's pipe handle closes the TUN fd too (libuv owns it): a
      // duplicate keeps the device open until the pool closes it.
      if (rx.ownsFd) {
        last = libc().fcntlInt(this.fd, F_DUPFD_CLOEXEC, 0);
        this.fd = -1;
      }
      await rx.close();
      readerCounters(rx, this.st);
      this.st.rxDrops += rx.dropped;
      this.rx = null;
    }
    this.closed = true;
    this.handler = null;
    if (this.fd >= 0) {
      last = this.fd;
      this.fd = -1;
    }
    if (last >= 0) await new Promise<void>((resolve) => fs.close(last, () => resolve()));
    this.emit('close');
  }
}
