/** Minimal independent decoder of the interop captures (test-only; does not use src/hdlc). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCaptures } from '../support/pppd-captures.js';

export const INTEROP_DIR = requireCaptures();

export interface CapturedFrame {
  protocol: number;
  info: Uint8Array;
}

/** Frames of one `.hex` file: split at 7e, unescape, drop FCS, ff 03 and decode the protocol. */
export function readCapture(scenario: string, file: 'a-to-b.hex' | 'b-to-a.hex'): CapturedFrame[] {
  const text = readFileSync(join(INTEROP_DIR, scenario, file), 'utf8');
  const bytes = text
    .split(/\s+/)
    .filter(Boolean)
    .map((h) => Number.parseInt(h, 16));
  const frames: CapturedFrame[] = [];
  let cur: number[] = [];
  let esc = false;
  for (const b of bytes) {
    if (b === 0x7e) {
      if (cur.length >= 4) {
        let f = cur.slice(0, -2);
        if (f[0] === 0xff && f[1] === 0x03) f = f.slice(2);
        let protocol: number;
        if (f[0] & 1) {
          protocol = f[0];
          f = f.slice(1);
        } else {
          protocol = (f[0] << 8) | f[1];
          f = f.slice(2);
        }
        frames.push({ protocol, info: Uint8Array.from(f) });
      }
      cur = [];
      esc = false;
    } else if (b === 0x7d) esc = true;
    else {
      cur.push(esc ? b ^ 0x20 : b);
      esc = false;
    }
  }
  return frames;
}

/** The `sent [PROTO …]` lines of a log for one protocol name, as the bracket content after `PROTO `. */
export function sentLines(scenario: string, log: 'a.log' | 'b.log', proto: string): string[] {
  const text = readFileSync(join(INTEROP_DIR, scenario, log), 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^sent \[(\S+) (.*)\]$/.exec(line);
    if (m && m[1] === proto) out.push(m[2]);
  }
  return out;
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
