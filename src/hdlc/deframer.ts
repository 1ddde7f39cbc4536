/**
 * Streaming HDLC-like deframer, RFC 1662 §3-§4: accepts bytes in arbitrary chunks,
 * removes octet stuffing, checks the FCS-16 and the address/control/protocol header, and
 * hands each good frame to a callback. Peer input never throws: every bad frame is
 * counted in {@link HdlcDeframer.stats} and dropped.
 *
 * Unescaping happens in place in one work buffer: each input slice is copied after the
 * partial frame carried over from the previous slice, and unescaped octets are written
 * behind the read position (unstuffing only shrinks data). A frame without escapes is
 * never moved at all.
 */
import { checkAccm, rxSpecialTable, type ScanMode, scanModeFor } from './accm.js';
import {
  ALL_STATIONS,
  DEFAULT_ACCM,
  DEFAULT_MRU,
  ESCAPE,
  ESCAPE_XOR,
  FLAG,
  UI,
} from './constants.js';
import { LITTLE_ENDIAN, wordView } from './endian.js';
import { HdlcError, HdlcErrorCode } from './errors.js';
import { FCS16_GOOD, FCS16_INIT, fcs16, fcs16Words } from './fcs16.js';
import { findSpecial } from './scan.js';

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

/** Largest slice of input unescaped in one pass; bounds the work buffer. */
const SLICE = 64 * 1024;
/** Address, control and a 2-byte protocol field. */
const MAX_HEADER = 4;
/** FCS-16 length. */
const FCS_LEN = 2;
/** Runs shorter than this are moved with a byte loop rather than `copyWithin`. */
const BULK_MIN = 24;
/** After this many ordinary octets in a row, look for the next special octet in bulk. */
const QUIET = 16;
/** Largest maxInfo accepted: a 16-bit length can describe nothing bigger. */
const MAX_INFO_LIMIT = 65535;

export class HdlcDeframer {
  readonly stats: DeframerStats;
  private readonly onFrame: FrameHandler;
  private maxInfo: number;
  /** Largest unescaped frame (header + info + FCS) kept while receiving. */
  private maxFrame: number;
  private accm: number;
  /** Special octets on receive (flag, escape, mapped control characters); updated in place. */
  private readonly table: Uint8Array;
  private mode: ScanMode;
  private work: Uint8Array;
  private words: Int32Array | null;
  /** Octets of the partial frame carried over at `work[0, len)`. */
  private len: number;
  /** The last octet seen was an unconsumed Control Escape. */
  private escaped: boolean;
  /** Dropping an over-long frame: skip everything up to the next flag. */
  private hunting: boolean;
  /** Inside push(): guards against re-entry and defers buffer reallocation and reset. */
  private busy: boolean;
  private resetPending: boolean;
  private reallocPending: boolean;

  constructor(onFrame: FrameHandler, opts: DeframerOptions = {}) {
    this.stats = { framesOk: 0, badFcs: 0, tooLong: 0, tooShort: 0, aborted: 0, badHeader: 0 };
    this.onFrame = onFrame;
    this.maxInfo = DEFAULT_MRU;
    this.maxFrame = MAX_HEADER + DEFAULT_MRU + FCS_LEN;
    this.accm = DEFAULT_ACCM;
    this.table = rxSpecialTable(DEFAULT_ACCM);
    this.mode = scanModeFor(DEFAULT_ACCM, 0, LITTLE_ENDIAN);
    this.work = new Uint8Array(0);
    this.words = null;
    this.len = 0;
    this.escaped = false;
    this.hunting = false;
    this.busy = false;
    this.resetPending = false;
    this.reallocPending = false;
    this.configure(opts);
    if (this.work.length === 0) this.realloc();
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
        `maxInfo must be an integer in 0..65535, got ${maxInfo}`,
      );
    }
    this.accm = accm;
    rxSpecialTable(accm, this.table);
    this.mode = scanModeFor(accm, 0, LITTLE_ENDIAN);
    this.maxInfo = maxInfo;
    const want = MAX_HEADER + maxInfo + FCS_LEN;
    if (this.work.length >= want + SLICE) {
      this.maxFrame = want;
    } else if (this.busy) {
      this.reallocPending = true;
    } else if (this.work.length > 0) {
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
      const n = chunk.length;
      for (let off = 0; off < n && !this.resetPending; off += SLICE) {
        this.pushSlice(chunk, off, Math.min(off + SLICE, n));
        if (this.reallocPending) this.realloc();
      }
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

  /** Sizes the work buffer for maxInfo, keeping a carried partial frame. */
  private realloc(): void {
    this.reallocPending = false;
    const want = MAX_HEADER + this.maxInfo + FCS_LEN;
    const size = (want + SLICE + 8) & ~7;
    if (this.work.length !== size) {
      const next = new Uint8Array(size);
      const keep = this.len <= want ? this.len : 0;
      next.set(this.work.subarray(0, keep));
      this.len = keep;
      this.work = next;
      this.words = wordView(next);
    }
    this.maxFrame = want;
  }

  /** Processes `chunk[s, e)`, at most SLICE octets. */
  private pushSlice(chunk: Uint8Array, s: number, e: number): void {
    if (this.hunting) {
      const f = chunk.indexOf(FLAG, s);
      if (f < 0 || f >= e) return;
      this.hunting = false;
      this.escaped = false;
      this.len = 0;
      s = f + 1;
      if (s === e) return;
    }
    const work = this.work;
    const words = this.words;
    const table = this.table;
    const base = this.len;
    work.set(s === 0 && e === chunk.length ? chunk : chunk.subarray(s, e), base);
    const end = base + (e - s);
    let mode = this.mode;
    let limit = this.maxFrame;
    let frameStart = 0;
    let w = base;
    let r = base;
    let escaped = this.escaped;
    let quiet = QUIET;
    while (r < end) {
      if (quiet >= QUIET && !escaped) {
        // Bulk: find the next special octet, move the run of ordinary octets before it.
        const j = findSpecial(work, words, r, end, table, mode);
        const run = j - r;
        if (w - frameStart + run > limit) {
          r = j;
          w = frameStart + limit + 1;
        } else {
          if (w === r) {
            w = j;
          } else if (run >= BULK_MIN) {
            work.copyWithin(w, r, j);
            w += run;
          } else {
            while (r < j) work[w++] = work[r++];
          }
          r = j;
          quiet = 0;
          if (r >= end) break;
        }
      }
      if (w - frameStart > limit) {
        // Over-long: count it once and skip to the next flag without copying (§4.3).
        this.stats.tooLong++;
        while (r < end && work[r] !== FLAG) r++;
        if (r >= end) {
          this.hunting = true;
          this.len = 0;
          this.escaped = false;
          return;
        }
        r++;
        frameStart = w = r;
        escaped = false;
        quiet = QUIET;
        continue;
      }
      const b = work[r++];
      if (table[b] === 0) {
        work[w++] = escaped ? b ^ ESCAPE_XOR : b;
        escaped = false;
        quiet++;
      } else if (b === FLAG) {
        const fs = frameStart;
        const fe = w;
        frameStart = w = r;
        quiet = QUIET;
        if (escaped) {
          escaped = false;
          this.stats.aborted++;
        } else if (fe > fs) {
          this.deliver(work, words, fs, fe);
          if (this.resetPending) return;
          mode = this.mode;
          limit = this.maxFrame;
        }
      } else if (b === ESCAPE) {
        escaped = true;
        quiet = 0;
      }
      // Anything else is a control character mapped in the receive ACCM: discarded (§4.2).
    }
    // Carry the partial frame to the front for the next slice.
    const m = w - frameStart;
    if (m > 0 && frameStart !== 0) work.copyWithin(0, frameStart, w);
    this.len = m;
    this.escaped = escaped;
  }

  /** Checks one unstuffed frame at `work[start, end)` and delivers it if good. */
  private deliver(work: Uint8Array, words: Int32Array | null, start: number, end: number): void {
    const stats = this.stats;
    if (end - start < 4) {
      stats.tooShort++;
      return;
    }
    const residue =
      words === null ? fcs16(work, start, end) : fcs16Words(work, words, start, end, FCS16_INIT);
    if (residue !== FCS16_GOOD) {
      stats.badFcs++;
      return;
    }
    const infoEnd = end - FCS_LEN;
    let p = start;
    if (work[p] === ALL_STATIONS) {
      if (work[p + 1] !== UI) {
        stats.badHeader++;
        return;
      }
      p += 2;
    }
    if (p >= infoEnd) {
      stats.tooShort++;
      return;
    }
    let protocol = work[p];
    if ((protocol & 1) !== 0) {
      p += 1;
    } else {
      if (p + 1 >= infoEnd) {
        stats.tooShort++;
        return;
      }
      const lo = work[p + 1];
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
    this.onFrame(protocol, work.subarray(p, infoEnd));
  }
}
