/**
 * HDLC-like framer, RFC 1662 §3-§4: builds complete frames (address/control, protocol,
 * information, FCS-16, flags) with octet stuffing into one reused, bounded output buffer
 * that the runtime drains with {@link HdlcFramer.take}, several frames per chunk.
 * Where WebAssembly SIMD is available (Node 20), frames are stuffed and checksummed by the
 * kernel in wasm/ and the output buffer lives in its memory; elsewhere, and for frames with
 * pppd-style extra escapes, by the JavaScript loops in stuff.ts (same bytes).
 */
import {
  checkAccm,
  checkEscapes,
  pairStuffTable,
  ScanMode,
  scanModeFor,
  txEscapeTable,
} from './accm.js';
import {
  ALL_STATIONS,
  DEFAULT_ACCM,
  DEFAULT_MAX_PENDING,
  ESCAPE,
  ESCAPE_XOR,
  FLAG,
  UI,
} from './constants.js';
import { HdlcError, HdlcErrorCode } from './errors.js';
import { escapeInto } from './escape.js';
import { FCS16_INIT, fcs16 } from './fcs16.js';
import { type FcsCarry, stuffWords } from './stuff.js';
import { createTxKernel, KernelLayout, type TxKernel, writeEscapeSet } from './wasm/kernel.js';

export interface FramerOptions {
  /** Transmit ACCM, i.e. the peer's receive ACCM (RFC 1662 §7.1); default 0xffffffff. */
  accm?: number;
  /** Octets always escaped, like pppd's `escape` option (not 0x20-0x3f or 0x5e). */
  extraEscapes?: Iterable<number>;
  /** Address-and-Control-Field-Compression: omit `ff 03` (RFC 1661 §6.6); default false. */
  acfc?: boolean;
  /** Protocol-Field-Compression: 1-byte protocol below 0x100 (RFC 1661 §6.5); default false. */
  pfc?: boolean;
  /** Bound on un-taken output bytes; a frame that would exceed it is dropped. Default 1 MiB. */
  maxPending?: number;
}

/** Framer counters. */
export interface FramerStats {
  /** Frames appended to the pending output. */
  frames: number;
  /** Encoded bytes appended (flags, escapes and FCS included). */
  bytes: number;
  /** Frames refused because `maxPending` would have been exceeded. */
  drops: number;
}

/** Initial output capacity (bounded by maxPending). */
const INITIAL_CAPACITY = 64 * 1024;

/** False only while {@link framerWithoutWasm} constructs a framer. */
let wasmAllowed = true;

/**
 * A framer that never uses the WebAssembly kernel (its JavaScript loops only), as on a
 * runtime without wasm SIMD. Internal: for tests and benchmarks comparing the two paths.
 */
export function framerWithoutWasm(opts: FramerOptions = {}): HdlcFramer {
  wasmAllowed = false;
  try {
    return new HdlcFramer(opts);
  } finally {
    wasmAllowed = true;
  }
}

/**
 * Appends frames to a pending output buffer. An opening flag is written only when the
 * pending output is empty; back-to-back frames share one flag, like Linux `ppp_async`
 * (RFC 1662 §3.1 allows one flag to close a frame and open the next).
 */
export class HdlcFramer {
  readonly stats: FramerStats;
  private accm: number;
  private acfc: boolean;
  private pfc: boolean;
  private maxPending: number;
  private extra: Uint8Array;
  /** Escape table and scan mode for frames sent with the negotiated options. */
  private table: Uint8Array;
  private mode: ScanMode;
  /** Pair table for `table` when control characters are mapped (see stuff.ts), else null. */
  private pairs: Int32Array | null;
  /** Escape table and scan mode for LCP codes 1-7 (ACCM 0xffffffff plus extra escapes). */
  private lcpTable: Uint8Array;
  private lcpMode: ScanMode;
  private buf: Uint8Array;
  /** DataView over `buf` for the word-at-a-time path. */
  private outView: DataView;
  private len: number;
  /** Header and information field of the frame being written, read a word at a time. */
  private stage: Uint8Array;
  private stageView: DataView;
  private readonly carry: FcsCarry;
  /** Scratch for the address/control/protocol header of the frame being written. */
  private readonly hdr: Uint8Array;
  /**
   * The WebAssembly kernel (wasm/kernel.ts), or null: then `buf` is a plain array. With a
   * kernel, `buf` is a view over its memory at `KernelLayout.OUT` and frames without extra
   * escapes are staged at `wstage` (a view at `KernelLayout.STAGE`) and framed there.
   */
  private readonly kernel: TxKernel | null;
  private wstage: Uint8Array;

  constructor(opts: FramerOptions = {}) {
    this.stats = { frames: 0, bytes: 0, drops: 0 };
    this.accm = DEFAULT_ACCM;
    this.acfc = false;
    this.pfc = false;
    this.maxPending = DEFAULT_MAX_PENDING;
    this.extra = new Uint8Array(0);
    this.table = txEscapeTable(DEFAULT_ACCM, this.extra);
    this.mode = ScanMode.Table;
    this.pairs = null;
    this.lcpTable = this.table;
    this.lcpMode = ScanMode.Table;
    this.buf = new Uint8Array(0);
    this.outView = new DataView(this.buf.buffer);
    this.len = 0;
    this.stage = new Uint8Array(2048);
    this.stageView = new DataView(this.stage.buffer);
    this.carry = { fcs: 0 };
    this.hdr = new Uint8Array(4);
    this.kernel = wasmAllowed ? createTxKernel() : null;
    this.wstage = this.stage;
    if (this.kernel !== null) this.grow(0);
    this.configure(opts);
  }

  /** Changes options for frames written from now on; pending output is kept as it is. */
  configure(opts: Partial<FramerOptions>): void {
    const accm = opts.accm === undefined ? this.accm : checkAccm(opts.accm, 'accm');
    const extra = opts.extraEscapes === undefined ? this.extra : checkEscapes(opts.extraEscapes);
    const maxPending = opts.maxPending === undefined ? this.maxPending : opts.maxPending;
    if (!Number.isInteger(maxPending) || maxPending < 16 || maxPending > 0x40000000) {
      throw new HdlcError(
        HdlcErrorCode.BadOption,
        `maxPending must be an integer in 16..2^30, got ${maxPending}`,
      );
    }
    this.accm = accm;
    this.extra = extra;
    this.acfc = opts.acfc === undefined ? this.acfc : opts.acfc === true;
    this.pfc = opts.pfc === undefined ? this.pfc : opts.pfc === true;
    this.maxPending = maxPending;
    this.table = txEscapeTable(accm, extra);
    this.mode = scanModeFor(accm, extra.length);
    this.pairs = this.mode === ScanMode.FlagsCtl ? pairStuffTable(accm) : null;
    this.lcpTable = txEscapeTable(DEFAULT_ACCM, extra);
    this.lcpMode = scanModeFor(DEFAULT_ACCM, extra.length);
    if (this.kernel !== null) {
      writeEscapeSet(this.kernel.memory, KernelLayout.ESCAPES, this.table);
      writeEscapeSet(this.kernel.memory, KernelLayout.LCP_ESCAPES, this.lcpTable);
    }
    const want = Math.min(INITIAL_CAPACITY, maxPending);
    if (this.buf.length < want) this.grow(want);
  }

  /** Bytes waiting to be taken. */
  get pendingBytes(): number {
    return this.len;
  }

  /**
   * Appends one complete frame (flag if the output is empty, header, escaped information,
   * FCS-16 LSB first, closing flag; RFC 1662 §3.1, §4.2, §C.2).
   * `linkDefaults` forces `ff 03`, a 2-byte protocol and ACCM 0xffffffff, as required for
   * LCP codes 1-7 (RFC 1661 §6.5, §6.6; RFC 1662 §7.1).
   * Returns false, and counts a drop, when `maxPending` would be exceeded.
   * Throws an {@link HdlcError} for a protocol number RFC 1661 §2 does not allow.
   */
  writeFrame(protocol: number, info: Uint8Array, linkDefaults = false): boolean {
    if ((protocol & 0xffff) !== protocol || (protocol & 0x0101) !== 0x0001) {
      throw new HdlcError(HdlcErrorCode.BadProtocol, `invalid PPP protocol number ${protocol}`);
    }
    if (!(info instanceof Uint8Array)) {
      throw new HdlcError(HdlcErrorCode.BadInfo, 'info must be a Uint8Array');
    }
    const table = linkDefaults ? this.lcpTable : this.table;
    const n = info.length;
    const start = this.len;
    // Header length, then the worst case: opening flag, every octet of header, info and
    // FCS escaped, closing flag (+8: the word loops and the wasm kernel may store up to 8
    // octets past their last octet).
    const hn =
      (linkDefaults || !this.acfc ? 2 : 0) +
      (!linkDefaults && this.pfc && protocol < 0x100 ? 1 : 2);
    const total = hn + n;
    const worst = 2 * (total + 2) + 2;
    if (start + worst > this.maxPending) return this.writeExact(protocol, hn, info, table);
    if (start + worst + 8 > this.buf.length) this.grow(start + worst + 8);
    // Stage header and information field together: one pass, no allocation, and the
    // caller's array is read once with a bulk copy.
    const mode = linkDefaults ? this.lcpMode : this.mode;
    const kernel = this.kernel;
    if (kernel !== null && mode !== ScanMode.Table && total <= KernelLayout.STAGE_CAP) {
      // WebAssembly: FCS, stuffing, FCS octets and closing flag in one call.
      const ws = this.wstage;
      putHeader(ws, protocol, hn);
      ws.set(info, hn);
      let o = start;
      if (o === 0) this.buf[o++] = FLAG;
      const out = KernelLayout.OUT;
      const tbl = linkDefaults ? KernelLayout.LCP_ESCAPES : KernelLayout.ESCAPES;
      o = kernel.frame(KernelLayout.STAGE, total, out + o, tbl) - out;
      this.stats.frames++;
      this.stats.bytes += o - start;
      this.len = o;
      return true;
    }
    if (this.stage.length < total) this.growStage(total);
    const stage = this.stage;
    putHeader(stage, protocol, hn);
    stage.set(info, hn);
    const buf = this.buf;
    let o = start;
    if (o === 0) buf[o++] = FLAG;
    let fcs: number;
    if (mode === ScanMode.Table) {
      fcs = fcs16(stage, 0, total, FCS16_INIT);
      o = escapeInto(buf, o, stage, 0, total, table);
    } else {
      const carry = this.carry;
      carry.fcs = FCS16_INIT;
      o = stuffWords(
        buf,
        this.outView,
        o,
        stage,
        this.stageView,
        0,
        total,
        table,
        mode === ScanMode.FlagsCtl,
        linkDefaults ? null : this.pairs,
        carry,
      );
      fcs = carry.fcs;
    }
    o = this.finish(o, fcs, table);
    this.stats.frames++;
    this.stats.bytes += o - start;
    this.len = o;
    return true;
  }

  /**
   * All pending bytes as one Uint8Array the caller owns (possibly several frames), or
   * null when nothing is pending. The internal buffer is kept for reuse.
   */
  take(): Uint8Array | null {
    if (this.len === 0) return null;
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }

  /**
   * Like {@link take} without the copy: a view of the internal buffer, valid only until
   * the next frame is written (for a consumer that copies or sends before returning).
   */
  takeView(): Uint8Array | null {
    if (this.len === 0) return null;
    const out = this.buf.subarray(0, this.len);
    this.len = 0;
    return out;
  }

  /** Near the bound: count the exact encoded size first, then write octet by octet. */
  private writeExact(protocol: number, hn: number, info: Uint8Array, table: Uint8Array): boolean {
    const start = this.len;
    const hdr = this.hdr;
    putHeader(hdr, protocol, hn);
    const fcs = fcs16(info, 0, info.length, fcs16(hdr, 0, hn, FCS16_INIT));
    const sent = fcs ^ 0xffff;
    const size =
      (start === 0 ? 1 : 0) +
      hn +
      countSpecial(hdr, hn, table) +
      info.length +
      countSpecial(info, info.length, table) +
      2 +
      table[sent & 0xff] +
      table[sent >>> 8] +
      1;
    if (start + size > this.maxPending) {
      this.stats.drops++;
      return false;
    }
    if (start + size > this.buf.length) this.grow(start + size);
    const buf = this.buf;
    let o = start;
    if (o === 0) buf[o++] = FLAG;
    o = escapeInto(buf, o, hdr, 0, hn, table);
    o = escapeInto(buf, o, info, 0, info.length, table);
    o = this.finish(o, fcs, table);
    this.stats.frames++;
    this.stats.bytes += o - start;
    this.len = o;
    return true;
  }

  /** Writes the complemented FCS, LSB first and escaped, and the closing flag. */
  private finish(o: number, fcs: number, table: Uint8Array): number {
    const buf = this.buf;
    const f = fcs ^ 0xffff;
    const lo = f & 0xff;
    const hi = f >>> 8;
    if (table[lo] === 0) {
      buf[o++] = lo;
    } else {
      buf[o++] = ESCAPE;
      buf[o++] = lo ^ ESCAPE_XOR;
    }
    if (table[hi] === 0) {
      buf[o++] = hi;
    } else {
      buf[o++] = ESCAPE;
      buf[o++] = hi ^ ESCAPE_XOR;
    }
    buf[o++] = FLAG;
    return o;
  }

  /** Grows the staging buffer; bounded, as a frame that fits maxPending has total < maxPending / 2. */
  private growStage(total: number): void {
    this.stage = new Uint8Array((Math.max(total, this.stage.length * 2) + 7) & ~7);
    this.stageView = new DataView(this.stage.buffer);
  }

  /** Grows the output buffer to at least `need` bytes (maxPending plus a word of slack at most). */
  private grow(need: number): void {
    const cap = Math.min(Math.max(need, this.buf.length * 2), this.maxPending);
    const size = (Math.max(cap, need) + 7) & ~7;
    const kernel = this.kernel;
    if (kernel !== null) {
      // Pending bytes stay where they are; the old views are detached by the growth.
      const mem = kernel.memory;
      const have = mem.buffer.byteLength;
      const want = KernelLayout.OUT + size;
      if (want > have) mem.grow(Math.ceil((want - have) / 65536));
      this.buf = new Uint8Array(mem.buffer, KernelLayout.OUT, size);
      this.outView = new DataView(mem.buffer, KernelLayout.OUT, size);
      this.wstage = new Uint8Array(mem.buffer, KernelLayout.STAGE, KernelLayout.STAGE_CAP);
      return;
    }
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.outView = new DataView(next.buffer);
  }
}

/** Writes `ff 03` (if hn is 3 or 4) and a 1- or 2-byte protocol field into `to`. */
function putHeader(to: Uint8Array, protocol: number, hn: number): void {
  let k = 0;
  if (hn >= 3) {
    to[k++] = ALL_STATIONS;
    to[k++] = UI;
  }
  if (hn === 1 || hn === 3) {
    to[k] = protocol;
  } else {
    to[k] = protocol >>> 8;
    to[k + 1] = protocol & 0xff;
  }
}

function countSpecial(data: Uint8Array, n: number, table: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < n; i++) c += table[data[i]];
  return c;
}
