/** Test helpers for src/hdlc: hex, the interop captures, and an independent reference codec. */
import { readFileSync } from 'node:fs';
import { PPPD_CAPTURES, requireCaptures } from '../support/pppd-captures.js';

/** `"7e ff 03"` or `"7eff03"` → bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** The pppd captures in test/fixtures/pppd (with a trailing slash). Missing ones fail loudly. */
export const INTEROP_DIR: string = `${PPPD_CAPTURES}/`;

export function requireInterop(): string {
  requireCaptures();
  return INTEROP_DIR;
}

export const SCENARIOS = ['defaults', 'rejects', 'mru-accm', 'pap', 'chap', 'ask-address'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type Direction = 'a-to-b.hex' | 'b-to-a.hex';

/** Bytes of one capture file (format: interop/README.md). */
export function readCapture(scenario: Scenario, file: Direction): Uint8Array {
  const text = readFileSync(`${requireInterop()}${scenario}/${file}`, 'utf8');
  return Uint8Array.from(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );
}

/** One frame of a capture as it was on the wire. */
export interface WireFrame {
  /** Unstuffed octets between the flags, FCS included. */
  raw: Uint8Array;
  /** The frame had its own opening flag (`7e 7e` before it, or start of file). */
  ownFlag: boolean;
}

/** Independent reference split: at every 7e, unescape 7d, drop empty frames. */
export function splitWire(bytes: Uint8Array): WireFrame[] {
  const frames: WireFrame[] = [];
  let cur: number[] = [];
  let esc = false;
  let emptyBefore = true; // start of file counts as an opening flag
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x7e) {
      if (cur.length > 0) {
        frames.push({ raw: Uint8Array.from(cur), ownFlag: emptyBefore });
        emptyBefore = false;
      } else if (i > 0) {
        emptyBefore = true;
      }
      cur = [];
      esc = false;
    } else if (b === 0x7d) {
      esc = true;
    } else {
      cur.push(esc ? b ^ 0x20 : b);
      esc = false;
    }
  }
  return frames;
}

/** Bitwise CRC-16/X-25 running value, straight from RFC 1662 §C.2's definition. */
export function refFcs16(data: Uint8Array, fcs = 0xffff): number {
  let c = fcs;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  }
  return c;
}

/** Bitwise CRC-32 running value (RFC 1662 §C.3), unsigned. */
export function refFcs32(data: Uint8Array, fcs = 0xffffffff): number {
  let c = fcs >>> 0;
  for (const b of data) {
    c = (c ^ b) >>> 0;
    for (let k = 0; k < 8; k++) c = c & 1 ? ((c >>> 1) ^ 0xedb88320) >>> 0 : c >>> 1;
  }
  return c >>> 0;
}

export interface RefOptions {
  accm: number;
  acfc: boolean;
  pfc: boolean;
  extra?: number[];
}

/** Reference encoder of one frame's body (no flags): header, info, FCS, all stuffed. */
export function refStuffedBody(protocol: number, info: Uint8Array, o: RefOptions): number[] {
  const plain: number[] = [];
  if (!o.acfc) plain.push(0xff, 0x03);
  if (o.pfc && protocol < 0x100) plain.push(protocol);
  else plain.push(protocol >> 8, protocol & 0xff);
  plain.push(...info);
  const f = refFcs16(Uint8Array.from(plain)) ^ 0xffff;
  plain.push(f & 0xff, f >> 8);
  const out: number[] = [];
  for (const b of plain) {
    const esc =
      b === 0x7e || b === 0x7d || (b < 0x20 && (o.accm >>> b) & 1) || o.extra?.includes(b);
    if (esc) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Collects (protocol, copy of info) from a deframer. */
export function collector(): {
  frames: { protocol: number; info: Uint8Array }[];
  onFrame: (p: number, i: Uint8Array) => void;
} {
  const frames: { protocol: number; info: Uint8Array }[] = [];
  return { frames, onFrame: (protocol, info) => frames.push({ protocol, info: info.slice() }) };
}
