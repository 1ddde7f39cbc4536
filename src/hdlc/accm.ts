/**
 * Async-Control-Character-Map handling (RFC 1662 §7.1, LCP option 2): which
 * octets a transmitter escapes and which a receiver treats as special. Tables are 256
 * octets, non-zero for a special octet, so the hot loops do one lookup per octet.
 */
import { ESCAPE, FLAG } from './constants.js';
import { HdlcError, HdlcErrorCode } from './errors.js';

/** Which stuffing loop a transmit escape table allows (see stuff.ts). */
export const ScanMode = {
  /** Octet by octet: extra escapes are configured, so specials may be any value. */
  Table: 0,
  /** Only 0x7e and 0x7d are special (ACCM 0): word test for those two values. */
  Flags: 1,
  /** 0x7e, 0x7d and some control characters: word test for those and for any octet < 0x20. */
  FlagsCtl: 2,
} as const;

export type ScanMode = (typeof ScanMode)[keyof typeof ScanMode];

/** Validates an ACCM (an unsigned 32-bit integer; bit n set = character n is mapped). */
export function checkAccm(accm: number, what: string): number {
  if (!Number.isInteger(accm) || accm < 0 || accm > 0xffffffff) {
    throw new HdlcError(
      HdlcErrorCode.BadOption,
      `${what}: ACCM must be a 32-bit unsigned integer, got ${accm}`,
    );
  }
  return accm >>> 0;
}

/**
 * Validates pppd-style extra escapes (`escape` option). Like pppd, refuses 0x20-0x3f (their
 * escaped form is a control character a receiver may discard) and 0x5e (escaped, it reads
 * as the abort sequence `7d 7e`).
 */
export function checkEscapes(extra: Iterable<number>): Uint8Array {
  const out: number[] = [];
  for (const b of extra) {
    if (!Number.isInteger(b) || b < 0 || b > 0xff || (b >= 0x20 && b <= 0x3f) || b === 0x5e) {
      throw new HdlcError(HdlcErrorCode.BadOption, `extraEscapes: cannot escape ${b}`);
    }
    out.push(b);
  }
  return Uint8Array.from(out);
}

/**
 * Transmit table (RFC 1662 §4.2): the flag, the control escape, every control character
 * whose bit is set in `accm`, and every extra escape.
 */
export function txEscapeTable(accm: number, extra: Uint8Array): Uint8Array {
  const t = new Uint8Array(256);
  fillControl(t, accm);
  t[FLAG] = 1;
  t[ESCAPE] = 1;
  for (let i = 0; i < extra.length; i++) t[extra[i]] = 1;
  return t;
}

/**
 * Receive table: the flag, the control escape, and the control characters set in the
 * receive ACCM, which are discarded when they arrive unescaped (RFC 1662 §4.2).
 */
export function rxSpecialTable(accm: number, into: Uint8Array = new Uint8Array(256)): Uint8Array {
  into.fill(0);
  fillControl(into, accm);
  into[FLAG] = 1;
  into[ESCAPE] = 1;
  return into;
}

/** The cheapest {@link ScanMode} that finds every octet {@link txEscapeTable} marks. */
export function scanModeFor(accm: number, extraCount: number): ScanMode {
  if (extraCount > 0) return ScanMode.Table;
  return accm === 0 ? ScanMode.Flags : ScanMode.FlagsCtl;
}

function fillControl(t: Uint8Array, accm: number): void {
  for (let c = 0; c < 32; c++) if ((accm >>> c) & 1) t[c] = 1;
}

/** Pair tables already built, by ACCM (few distinct ACCMs are ever used). */
const pairCache = new Map<number, Int32Array>();
const PAIR_CACHE_MAX = 4;

/**
 * For a transmit ACCM without extra escapes: the stuffed form of every 2-octet value
 * `lo | hi << 8`, little-endian in an int32 (2 to 4 octets: `lo` or `7d lo^20`, then the
 * same for `hi`). Lets the stuffing loop turn two octets into one table lookup and one
 * word store where control characters make escapes frequent. 256 KiB, cached by ACCM.
 */
export function pairStuffTable(accm: number): Int32Array {
  const hit = pairCache.get(accm);
  if (hit) return hit;
  const t = txEscapeTable(accm, new Uint8Array(0));
  const enc = new Int32Array(65536);
  for (let v = 0; v < 65536; v++) {
    const lo = v & 0xff;
    const hi = v >>> 8;
    let w = t[lo] ? ESCAPE | ((lo ^ 0x20) << 8) : lo;
    const sh = t[lo] ? 16 : 8;
    w |= (t[hi] ? ESCAPE | ((hi ^ 0x20) << 8) : hi) << sh;
    enc[v] = w;
  }
  if (pairCache.size >= PAIR_CACHE_MAX) pairCache.delete(pairCache.keys().next().value as number);
  pairCache.set(accm, enc);
  return enc;
}
