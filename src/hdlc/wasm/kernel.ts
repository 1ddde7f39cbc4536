/**
 * Loads the WebAssembly kernel (kernel.wat: SIMD octet stuffing and its removal,
 * slicing-by-16 FCS-16) synchronously from the bytes in kernel-bytes.ts, compiled once per
 * process. Each framer and each deframer gets its own instance and memory: the framer's pending output, and the
 * deframer's frame buffer, live in that memory. Returns null where WebAssembly or its SIMD
 * extension is missing; framer and deframer then use their JavaScript loops (same output,
 * checked by test/hdlc/wasm.test.ts and test/hdlc/wasm-rx.test.ts).
 */
import { FCS16_TABLES } from '../fcs16.js';
import { KERNEL_WASM_BASE64 } from './kernel-bytes.js';

/** Offsets in the kernel's memory (see kernel.wat). */
export const KernelLayout = {
  /** Escape set for the negotiated ACCM: 256-octet table, then two 16-octet ACCM masks. */
  ESCAPES: 8192,
  /** Escape set for link defaults (ACCM 0xffffffff, LCP codes 1-7). */
  LCP_ESCAPES: 8704,
  /** 256 compaction patterns of 16 octets (see kernel.wat). */
  COMPACT: 9216,
  /** Header and information field of the frame being written. */
  STAGE: 13312,
  /** Largest header + information field the stage holds (larger frames use the JS loops). */
  STAGE_CAP: 65536 + 16,
  /** Start of the pending output. */
  OUT: 13312 + 65536 + 16 + 48,
} as const;

/** Offsets in a receive instance's memory (see kernel.wat). */
export const RxLayout = {
  /** Receive set: 256-octet table, then the masks of mapped control characters 0-15, 16-31. */
  ESCAPES: 8192,
  /** 256 removal patterns of 16 octets (see kernel.wat). */
  REMOVE: 9216,
  /** Where `unstuff` leaves the new output offset (an int32). */
  RESULT: 13312,
  /** The frame being received. */
  FRAME: 13376,
  /** Frame capacity: the largest frame (header, 65535 + 64 octets, FCS) plus store slack. */
  FRAME_CAP: 65664,
  /** The part of the received chunk being scanned. */
  IN: 13376 + 65664,
  /** Input capacity. */
  IN_CAP: 65536,
} as const;

/** The subset of the WebAssembly JS API used here (lib.dom is not in this project's libs). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: object,
  ) => {
    exports: Record<string, unknown>;
  };
  validate(bytes: Uint8Array): boolean;
}

/** One instance of the kernel. */
export interface TxKernel {
  readonly memory: WasmMemory;
  /**
   * Frames the stage `[p, p + n)` into the output at `o` with the escape set at `tbl`:
   * stuffed octets, stuffed complemented FCS, closing flag. Needs 2n + 16 octets of room.
   */
  readonly frame: (p: number, n: number, o: number, tbl: number) => number;
  /** Running FCS-16 over `[p, p + n)` from `c` (tests). */
  readonly fcs: (p: number, n: number, c: number) => number;
}

/** One receive instance of the kernel. */
export interface RxKernel {
  readonly memory: WasmMemory;
  /**
   * Removes octet stuffing from `[p, p + n)` into `o` while that is simple (see kernel.wat);
   * `flags`: bit 0 an escape is pending, bit 1 the receive ACCM maps control characters.
   * Returns `newP << 1 | escapePending`; the new `o` is at {@link RxLayout.RESULT}.
   */
  readonly unstuff: (p: number, n: number, o: number, lim: number, flags: number) => number;
  /** Running FCS-16 over `[p, p + n)` from `c`. */
  readonly fcs: (p: number, n: number, c: number) => number;
}

let compiled: object | null | undefined;

function decodeBase64(s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const rev = new Uint8Array(128);
  for (let i = 0; i < 64; i++) rev[alphabet.charCodeAt(i)] = i;
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array((clean.length * 3) >>> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    acc = (acc << 6) | rev[clean.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

function compile(): object | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  try {
    const bytes = decodeBase64(KERNEL_WASM_BASE64);
    // validate() is false where SIMD is not supported.
    if (!api.validate(bytes)) return null;
    return new api.Module(bytes);
  } catch {
    return null;
  }
}

/**
 * The constant low part of a transmit and of a receive instance's memory (FCS tables,
 * then the compaction or removal patterns), computed once per process and copied into
 * each new instance with one `set()`: the WebAssembly.Module is compiled once too, so
 * a new session's framer and deframer cost two instantiations and two copies (the
 * gateway creates them per session; their memories hold per-link state, so they are
 * not shared).
 */
let txImage: Uint8Array | undefined;
let rxImage: Uint8Array | undefined;

/** A fresh instance of the compiled module, or null without wasm SIMD. */
function instantiate(): { exports: Record<string, unknown> } | null {
  if (compiled === undefined) compiled = compile();
  if (compiled === null) return null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly as WasmApi;
  try {
    return new api.Instance(compiled, {});
  } catch {
    return null;
  }
}

/** Slicing-by-16 FCS-16 tables at offset 0 (see kernel.wat). */
function fillFcsTables(mem: Uint8Array): void {
  const tables = new Uint16Array(mem.buffer, mem.byteOffset, 16 * 256);
  const t = FCS16_TABLES;
  for (let i = 0; i < 256 * 8; i++) tables[i] = t[i];
  for (let k = 8; k < 16; k++) {
    for (let i = 0; i < 256; i++) {
      const p = tables[(k - 1) * 256 + i];
      tables[k * 256 + i] = (p >>> 8) ^ t[p & 0xff];
    }
  }
}

function buildTxImage(): Uint8Array {
  const img = new Uint8Array(KernelLayout.COMPACT + 256 * 16);
  fillFcsTables(img);
  const compact = img.subarray(KernelLayout.COMPACT);
  for (let m = 0; m < 256; m++) {
    let k = m * 16;
    for (let i = 0; i < 8; i++) {
      compact[k++] = 2 * i;
      if ((m >>> i) & 1) compact[k++] = 2 * i + 1;
    }
    while (k < m * 16 + 16) compact[k++] = 0x80;
  }
  return img;
}

function buildRxImage(): Uint8Array {
  const img = new Uint8Array(RxLayout.REMOVE + 256 * 16);
  fillFcsTables(img);
  const remove = img.subarray(RxLayout.REMOVE);
  for (let m = 0; m < 256; m++) {
    let k = m * 16;
    for (let i = 0; i < 8; i++) if (((m >>> i) & 1) === 0) remove[k++] = i;
    while (k < m * 16 + 16) remove[k++] = 0x80;
  }
  return img;
}

/** A fresh transmit instance, or null without wasm SIMD. */
export function createTxKernel(): TxKernel | null {
  const inst = instantiate();
  if (inst === null) return null;
  const memory = inst.exports.mem as WasmMemory;
  txImage ??= buildTxImage();
  new Uint8Array(memory.buffer).set(txImage);
  return {
    memory,
    frame: inst.exports.frame as TxKernel['frame'],
    fcs: inst.exports.fcs as TxKernel['fcs'],
  };
}

/** A fresh receive instance, or null without wasm SIMD. */
export function createRxKernel(): RxKernel | null {
  const inst = instantiate();
  if (inst === null) return null;
  const memory = inst.exports.mem as WasmMemory;
  rxImage ??= buildRxImage();
  new Uint8Array(memory.buffer).set(rxImage);
  return {
    memory,
    unstuff: inst.exports.unstuff as RxKernel['unstuff'],
    fcs: inst.exports.fcs as RxKernel['fcs'],
  };
}

/**
 * Writes an escape set (see kernel.wat) for `table` at `at`: the table, then masks of the
 * control characters 0-15 and 16-31 it marks.
 */
export function writeEscapeSet(memory: WasmMemory, at: number, table: Uint8Array): void {
  const m = new Uint8Array(memory.buffer, at, 288);
  m.set(table);
  for (let c = 0; c < 32; c++) m[256 + c] = table[c] !== 0 ? 0xff : 0;
}
