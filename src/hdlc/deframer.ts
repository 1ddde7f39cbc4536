/**
 * Streaming HDLC-like deframer, RFC 1662 §3-§4: accepts bytes in arbitrary chunks,
 * removes octet stuffing, checks the FCS-16 and the address/control/protocol header, and
 * hands each good frame to a callback. Peer input never throws: every bad frame is
 * counted in {@link HdlcDeframer.stats} and dropped.
 *
 * The input is read 8 octets at a time through a DataView; blocks without a flag, escape
 * or mapped control character are copied to the frame buffer as two 32-bit words, blocks
 * of four escape pairs become one word, and only the other blocks go through the octet
 * state machine (which takes an escape and its octet in one step). The FCS runs once per frame over the unstuffed,
 * aligned frame buffer, a word at a time.
 *
 * Where WebAssembly SIMD is available (wasm/kernel.wat), the frame buffer lives in the
 * kernel's memory and the word loop is replaced by the kernel's `unstuff`: the chunk is
 * copied into wasm memory (64 KiB at a time) and 16-octet blocks are unstuffed there, up to
 * the next flag or mapped control character; the FCS runs in wasm too. The octet state
 * machine below stays in JavaScript for flags, aborts, `7d 7d`, discarded control
 * characters, the last octets before the frame limit and chunk ends, so the edge cases are
 * decided by one piece of code either way (checked by test/hdlc/wasm-rx.test.ts).
 */
import { checkAccm, rxSpecialTable } from './accm.js';
import {
  ALL_STATIONS,
  DEFAULT_ACCM,
  DEFAULT_MRU,
  ESCAPE,
  ESCAPE_XOR,
  FLAG,
  UI,
} from './constants.js';
import { wordView } from './endian.js';
import { HdlcError, HdlcErrorCode } from './errors.js';
import { FCS16_GOOD, FCS16_INIT, fcs16, fcs16Words } from './fcs16.js';
import { createRxKernel, type RxKernel, RxLayout, writeEscapeSet } from './wasm/kernel.js';

export interface DeframerOptions {
  /** Largest information field accepted (bytes after the protocol field); default 1500. */
  maxInfo?: number;
  /** Receive ACCM: unescaped control characters set here are discarded (RFC 1662 §4.2); default 0xffffffff. */
  accm?: number;
}

/** `info` is a view valid only during the call: copy it to keep it. */
export type FrameHandler = (protocol: number, info: Uint8Array) => void;

/** Deframer counters; a frame is counted in exactly one of them. */
export interface DeframerStats {
  /** Good frames delivered to the handler. */
  framesOk: number;
  /** Frames whose FCS residue was not 0xf0b8 (RFC 1662 §C.2). */
  badFcs: number;
  /** Frames longer than maxInfo (plus header and FCS); not buffered past the limit. */
  tooLong: number;
  /** Frames under 4 octets, or without a complete protocol field (RFC 1662 §4.3). */
  tooShort: number;
  /** Frames ended by the abort sequence `7d 7e` (RFC 1662 §4.3). */
  aborted: number;
  /** Frames with `ff` not followed by `03`, or a 2-byte protocol with an even low octet (RFC 1661 §2). */
  badHeader: number;
}

/** Address, control and a 2-byte protocol field. */
const MAX_HEADER = 4;
/** FCS-16 length. */
const FCS_LEN = 2;
/**
 * Largest maxInfo accepted: a 16-bit length (an MRU, an IP total length) plus up to 64
 * octets of encapsulation in front of it (the engine's MRU slack, the 10-octet
 * virtio_net_hdr of GSO frames).
 */
const MAX_INFO_LIMIT = 65535 + 64;

/** False only while {@link deframerWithoutWasm} constructs a deframer. */
let wasmAllowed = true;

/**
 * A deframer that never uses the WebAssembly kernel (its JavaScript loops only), as on a
 * runtime without wasm SIMD. Internal: for tests and benchmarks comparing the two paths.
 */
export function deframerWithoutWasm(
  onFrame: FrameHandler,
  opts: DeframerOptions = {},
): HdlcDeframer {
  wasmAllowed = false;
  try {
    return new HdlcDeframer(onFrame, opts);
  } finally {
    wasmAllowed = true;
  }
}

export class HdlcDeframer {
  readonly stats: DeframerStats;
  private readonly onFrame: FrameHandler;
  private maxInfo: number;
  /** Largest unstuffed frame (header + info + FCS) kept while receiving. */
  private maxFrame: number;
  private accm: number;
  /** Special octets on receive (flag, escape, mapped control characters); updated in place. */
  private readonly table: Uint8Array;
  /** The receive ACCM maps some control character: the word test must look for them too. */
  private ctl: boolean;
  /** The frame being received, unstuffed, at `frame[0, len)`. */
  private frame: Uint8Array;
  /**
   * Octets of frame buffer that maxInfo may use: `frame.length` for the JS loops; with the
   * kernel (whose buffer is fixed at the largest size) what the JS loops would have, so
   * that a reconfiguration takes effect at the same octet either way.
   */
  private capacity: number;
  private frameView: DataView;
  private frameWords: Int32Array | null;
  private len: number;
  /** DataView over the ArrayBuffer of the last chunk (reused while it matches). */
  private inView: DataView;
  /** The last octet seen was an unconsumed Control Escape. */
  private escaped: boolean;
  /** Dropping an over-long frame: skip everything up to the next flag. */
  private hunting: boolean;
  /** Inside push(): guards against re-entry and defers buffer reallocation and reset. */
  private busy: boolean;
  private resetPending: boolean;
  private reallocPending: boolean;
  /**
   * The WebAssembly kernel, or null. With a kernel, `frame` is a fixed view of
   * {@link RxLayout.FRAME_CAP} octets over its memory and `wasmIn` one over its input area.
   */
  private readonly kernel: RxKernel | null;
  private readonly wasmIn: Uint8Array;
  private readonly wasmResult: Int32Array;

  constructor(onFrame: FrameHandler, opts: DeframerOptions = {}) {
    this.stats = { framesOk: 0, badFcs: 0, tooLong: 0, tooShort: 0, aborted: 0, badHeader: 0 };
    this.onFrame = onFrame;
    this.maxInfo = DEFAULT_MRU;
    this.maxFrame = MAX_HEADER + DEFAULT_MRU + FCS_LEN;
    this.accm = DEFAULT_ACCM;
    this.table = rxSpecialTable(DEFAULT_ACCM);
    this.ctl = true;
    this.frame = new Uint8Array(0);
    this.frameView = new DataView(this.frame.buffer);
    this.frameWords = null;
    this.capacity = 0;
    this.len = 0;
    this.inView = new DataView(new ArrayBuffer(0));
    this.escaped = false;
    this.hunting = false;
    this.busy = false;
    this.resetPending = false;
    this.reallocPending = false;
    this.kernel = wasmAllowed ? createRxKernel() : null;
    if (this.kernel !== null) {
      const buf = this.kernel.memory.buffer;
      this.frame = new Uint8Array(buf, RxLayout.FRAME, RxLayout.FRAME_CAP);
      this.frameView = new DataView(buf, RxLayout.FRAME, RxLayout.FRAME_CAP);
      this.wasmIn = new Uint8Array(buf, RxLayout.IN, RxLayout.IN_CAP);
      this.wasmResult = new Int32Array(buf, RxLayout.RESULT, 1);
    } else {
      this.wasmIn = new Uint8Array(0);
      this.wasmResult = new Int32Array(1);
    }
    this.configure(opts);
    if (this.capacity === 0) this.realloc();
  }

  /**
   * Changes options. An ACCM change applies from the next octet, also when called from
   * inside the frame handler; a larger maxInfo takes full effect once the current push ends.
   */
  configure(opts: Partial<DeframerOptions>): void {
    const accm = opts.accm === undefined ? this.accm : checkAccm(opts.accm, 'accm');
    const maxInfo = opts.maxInfo === undefined ? this.maxInfo : opts.maxInfo;
    if (!Number.isInteger(maxInfo) || maxInfo < 0 || maxInfo > MAX_INFO_LIMIT) {
      throw new HdlcError(
        HdlcErrorCode.BadOption,
        `maxInfo must be an integer in 0..${MAX_INFO_LIMIT}, got ${maxInfo}`,
      );
    }
    this.accm = accm;
    rxSpecialTable(accm, this.table);
    if (this.kernel !== null) writeEscapeSet(this.kernel.memory, RxLayout.ESCAPES, this.table);
    this.ctl = accm !== 0;
    this.maxInfo = maxInfo;
    const want = MAX_HEADER + maxInfo + FCS_LEN;
    if (this.capacity >= want + 8) {
      this.maxFrame = want;
    } else if (this.busy) {
      this.reallocPending = true;
    } else if (this.capacity > 0) {
      this.realloc();
    }
  }

  /** Feeds received bytes. Never throws on any input; bad frames are counted and dropped. */
  push(chunk: Uint8Array): void {
    if (this.busy) {
      throw new HdlcError(HdlcErrorCode.Reentrant, 'push() called from inside the frame handler');
    }
    this.busy = true;
    try {
      this.run(chunk);
    } catch (err) {
      // Only the frame handler can throw: start afresh and let the caller see it.
      this.clear();
      throw err;
    } finally {
      this.busy = false;
      if (this.resetPending) this.clear();
      if (this.reallocPending) this.realloc();
    }
  }

  /**
   * Forgets any partial frame (counters are kept). Called from inside the frame handler,
   * it also drops the rest of the chunk being pushed.
   */
  reset(): void {
    if (this.busy) this.resetPending = true;
    else this.clear();
  }

  private clear(): void {
    this.len = 0;
    this.escaped = false;
    this.hunting = false;
    this.resetPending = false;
  }

  /**
   * Sizes the frame buffer for maxInfo (+8 for word stores), keeping a partial frame. The
   * kernel's buffer already has the largest size.
   */
  private realloc(): void {
    this.reallocPending = false;
    const want = MAX_HEADER + this.maxInfo + FCS_LEN;
    const size = (want + 8 + 7) & ~7;
    if (this.capacity < size) {
      this.capacity = size;
      if (this.kernel !== null) {
        this.maxFrame = want;
        return;
      }
      const next = new Uint8Array(size);
      next.set(this.frame.subarray(0, this.len));
      this.frame = next;
      this.frameView = new DataView(next.buffer);
      this.frameWords = wordView(next);
    }
    this.maxFrame = want;
  }

  private run(chunk: Uint8Array): void {
    if (this.kernel !== null) this.runWasm(chunk, this.kernel);
    else this.runJs(chunk);
  }

  /**
   * {@link runJs} with the word loop replaced by the kernel's `unstuff` (see the file
   * comment); the octet loop is the same, except that it hands back to the kernel after a flag.
   */
  private runWasm(chunk: Uint8Array, kernel: RxKernel): void {
    const n = chunk.length;
    const wasmIn = this.wasmIn;
    const result = this.wasmResult;
    let limit = this.maxFrame;
    let ctl = this.ctl;
    let w = this.len;
    let escaped = this.escaped;
    /** chunk[ps, pe) is in wasmIn[0, pe - ps). */
    let ps = 0;
    let pe = 0;
    let i = 0;
    while (i < n) {
      if (!this.hunting && n - i >= 16 && w + 16 <= limit) {
        if (i < ps || i + 16 > pe) {
          ps = i;
          pe = Math.min(n, i + RxLayout.IN_CAP);
          wasmIn.set(chunk.subarray(ps, pe));
        }
        const r = kernel.unstuff(
          RxLayout.IN + (i - ps),
          pe - i,
          RxLayout.FRAME + w,
          RxLayout.FRAME + limit,
          (escaped ? 1 : 0) | (ctl ? 2 : 0),
        );
        i = (r >>> 1) - RxLayout.IN + ps;
        escaped = (r & 1) === 1;
        w = result[0] - RxLayout.FRAME;
      }
      // Up to one block octet by octet (an escape and its octet in one step), or to a flag.
      i = this.step(chunk, i, Math.min(i + 16, n), true, w, escaped);
      if (i < 0) return;
      w = this.len;
      escaped = this.escaped;
      // The handler may have reconfigured us (the frame buffer stays put).
      ctl = this.ctl;
      limit = this.maxFrame;
    }
    if (this.hunting) this.huntReset();
  }

  private runJs(chunk: Uint8Array): void {
    const n = chunk.length;
    let view = this.inView;
    if (view.buffer !== chunk.buffer) {
      view = new DataView(chunk.buffer);
      this.inView = view;
    }
    const base = chunk.byteOffset;
    let frame = this.frame;
    let fv = this.frameView;
    let ctl = this.ctl;
    let limit = this.maxFrame;
    let w = this.len;
    let escaped = this.escaped;
    const lastBlock = n - 8;
    let i = 0;
    while (i < n) {
      // Blocks of 8 octets without a flag or a mapped control character (RFC 1662 §4.2).
      let esc = escaped ? 1 : 0;
      while (!this.hunting && i <= lastBlock && w + 8 <= limit) {
        const x0 = view.getInt32(base + i, true);
        const x1 = view.getInt32(base + i + 4, true);
        const a0 = x0 ^ 0x7e7e7e7e;
        const a1 = x1 ^ 0x7e7e7e7e;
        let hf = ((a0 - 0x01010101) & ~a0) | ((a1 - 0x01010101) & ~a1);
        if (ctl) hf |= ((x0 - 0x20202020) & ~x0) | ((x1 - 0x20202020) & ~x1);
        if ((hf & 0x80808080) !== 0) break;
        const b0 = x0 ^ 0x7d7d7d7d;
        const b1 = x1 ^ 0x7d7d7d7d;
        if (esc === 0) {
          if (((((b0 - 0x01010101) & ~b0) | ((b1 - 0x01010101) & ~b1)) & 0x80808080) === 0) {
            // No escape: two word copies.
            fv.setInt32(w, x0, true);
            fv.setInt32(w + 4, x1, true);
            w += 8;
            i += 8;
            continue;
          }
          if ((x0 & 0x00ff00ff) === 0x007d007d && (x1 & 0x00ff00ff) === 0x007d007d) {
            // Four escape pairs [7d a 7d b][7d c 7d d]: one word.
            const v =
              ((x0 >>> 8) & 0xff) |
              ((x0 >>> 16) & 0xff00) |
              ((x1 << 8) & 0xff0000) |
              (x1 & 0xff000000);
            fv.setInt32(w, v ^ 0x20202020, true);
            w += 4;
            i += 8;
            continue;
          }
        }
        // Escapes mixed with data: branch-free, one octet per step. An escape not itself
        // escaped is dropped (w stays) and flips the next octet; `7d 7d` gives 0x5d.
        for (let s = 0; s < 64; s += 8) {
          const b = (s < 32 ? x0 >>> s : x1 >>> (s - 32)) & 0xff;
          frame[w] = b ^ (esc << 5);
          const e = (b === ESCAPE ? 1 : 0) & (esc ^ 1);
          w += e ^ 1;
          esc = e;
        }
        i += 8;
      }
      escaped = esc === 1;
      // About one block octet by octet (an escape and its octet in one step); it ends on a
      // token boundary, so the word loop resumes in step with escape pairs.
      i = this.step(chunk, i, Math.min(i + 8, n), false, w, escaped);
      if (i < 0) return;
      w = this.len;
      escaped = this.escaped;
      // The handler may have reconfigured us.
      frame = this.frame;
      fv = this.frameView;
      ctl = this.ctl;
      limit = this.maxFrame;
    }
    if (this.hunting) this.huntReset();
  }

  /** While hunting there is no frame: length 0, no pending escape. */
  private huntReset(): void {
    this.len = 0;
    this.escaped = false;
  }

  /**
   * What follows the block loop of both runs: while hunting (after an over-long frame),
   * a skip to the next flag without copying (RFC 1662 §4.3), else {@link octets} from the
   * run's frame length `w` and escape state. Leaves both in `this.len` / `this.escaped`
   * (0 / false while hunting); returns the next index, or -1 when the frame handler asked
   * for a reset.
   */
  private step(
    chunk: Uint8Array,
    i: number,
    stop: number,
    toFlag: boolean,
    w: number,
    escaped: boolean,
  ): number {
    if (this.hunting) {
      this.huntReset();
      const f = chunk.indexOf(FLAG, i);
      if (f < 0) return chunk.length;
      this.hunting = false;
      return f + 1;
    }
    this.len = w;
    this.escaped = escaped;
    return this.octets(chunk, i, stop, toFlag);
  }

  /**
   * The octet-by-octet step both runs share, from `i` up to `stop`: an escape and its
   * octet in one step, frames delivered at flags, mapped control characters discarded,
   * an over-long frame counted and `hunting` set. Frame length and escape state come
   * from and go back to `this.len` / `this.escaped`. With `toFlag` it returns right
   * after a flag (the wasm run hands back to its kernel there). Returns the next index,
   * or -1 when the frame handler asked for a reset.
   */
  private octets(chunk: Uint8Array, i: number, stop: number, toFlag: boolean): number {
    const n = chunk.length;
    const table = this.table;
    let frame = this.frame;
    let limit = this.maxFrame;
    let w = this.len;
    let escaped = this.escaped;
    while (i < stop) {
      let b = chunk[i++];
      if (table[b] !== 0) {
        if (b === ESCAPE) {
          if (escaped) {
            // `7d 7d` is an escaped 0x5d (pppd can be told to escape 0x5d); ppp_async agrees.
            b = ESCAPE ^ ESCAPE_XOR;
            escaped = false;
          } else if (i < n && table[chunk[i]] === 0) {
            b = chunk[i++] ^ ESCAPE_XOR;
            escaped = false;
          } else {
            escaped = true;
            continue;
          }
        } else if (b === FLAG) {
          if (escaped) {
            escaped = false;
            this.stats.aborted++;
          } else if (w > 0) {
            this.deliver(w);
          }
          w = 0;
          if (this.resetPending) return -1;
          // The handler may have reconfigured us.
          frame = this.frame;
          limit = this.maxFrame;
          if (toFlag) break;
          continue;
        } else {
          continue; // A control character mapped in the receive ACCM: discarded (§4.2).
        }
      } else if (escaped) {
        b ^= ESCAPE_XOR;
        escaped = false;
      }
      if (w < limit) {
        frame[w++] = b;
      } else {
        this.stats.tooLong++;
        this.hunting = true;
        break;
      }
    }
    this.len = w;
    this.escaped = escaped;
    return i;
  }

  /** Checks the unstuffed frame at `frame[0, end)` and delivers it if good. */
  private deliver(end: number): void {
    const stats = this.stats;
    const frame = this.frame;
    if (end < 4) {
      stats.tooShort++;
      return;
    }
    const words = this.frameWords;
    const kernel = this.kernel;
    const residue =
      kernel !== null
        ? kernel.fcs(RxLayout.FRAME, end, FCS16_INIT)
        : words === null
          ? fcs16(frame, 0, end)
          : fcs16Words(frame, words, 0, end, FCS16_INIT);
    if (residue !== FCS16_GOOD) {
      stats.badFcs++;
      return;
    }
    const infoEnd = end - FCS_LEN;
    let p = 0;
    if (frame[0] === ALL_STATIONS) {
      if (frame[1] !== UI) {
        stats.badHeader++;
        return;
      }
      p = 2;
    }
    if (p >= infoEnd) {
      stats.tooShort++;
      return;
    }
    let protocol = frame[p];
    if ((protocol & 1) !== 0) {
      p += 1;
    } else {
      if (p + 1 >= infoEnd) {
        stats.tooShort++;
        return;
      }
      const lo = frame[p + 1];
      if ((lo & 1) === 0) {
        stats.badHeader++;
        return;
      }
      protocol = (protocol << 8) | lo;
      p += 2;
    }
    if (infoEnd - p > this.maxInfo) {
      stats.tooLong++;
      return;
    }
    stats.framesOk++;
    this.onFrame(protocol, frame.subarray(p, infoEnd));
  }
}
