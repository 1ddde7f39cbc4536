/** Small big-endian helpers over Uint8Array (network byte order, RFC 1700). */

/** Reads a 16-bit big-endian value at `off` (caller checks bounds). */
export function readU16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Reads a 32-bit big-endian value at `off` as an unsigned number. */
export function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Writes a 16-bit big-endian value. */
export function writeU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Writes a 32-bit big-endian value. */
export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** 4 bytes holding `v` big-endian. */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v);
  return b;
}

/** 2 bytes holding `v` big-endian. */
export function u16Bytes(v: number): Uint8Array {
  const b = new Uint8Array(2);
  writeU16(b, 0, v);
  return b;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenation into a fresh buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Lowercase hex pairs separated by spaces: `80 fd 01`. */
export function hexSpaced(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    if (i > start) s += ' ';
    s += b[i].toString(16).padStart(2, '0');
  }
  return s;
}

/** Lowercase hex without separators: `ec3ea8cb`. */
export function hexCompact(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/** Parses `a b c d` hex-pair text (whitespace separated) into bytes. */
export function fromHex(text: string): Uint8Array {
  const parts = text.split(/\s+/).filter(Boolean);
  const out = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number.parseInt(parts[i], 16);
  return out;
}

/** ASCII/UTF-8-less text encoding: one byte per char code (Latin-1). */
export function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Bytes as a Latin-1 string (each byte one char). */
/**
 * Peer text for a log line or a reason, as pppd's `%v` prints it: bytes >= 0x80
 * as `M-` plus the low 7 bits, control characters as `^X` (tab too), so a
 * peer cannot forge log lines or send terminal escapes.
 */
export function visibleString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    let c = b[i];
    if (c >= 0x80) {
      s += 'M-';
      c -= 0x80;
    }
    s += c < 0x20 || c === 0x7f ? `^${String.fromCharCode(c ^ 0x40)}` : String.fromCharCode(c);
  }
  return s;
}

export function latin1String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
