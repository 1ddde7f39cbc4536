/** Loads the pppd 2.4.9 captures in test/fixtures/pppd (see its README). */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HdlcDeframer } from '../../../src/hdlc/index.js';
import { PPPD_CAPTURES, requireCaptures } from '../../support/pppd-captures.js';

/** Where the captures live: in the repository. */
export const INTEROP_DIR = PPPD_CAPTURES;

export const SCENARIOS = ['defaults', 'rejects', 'mru-accm', 'pap', 'chap', 'ask-address'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** True, or throws: the captures are part of the repository, so a test never skips for them. */
export function interopAvailable(): boolean {
  requireCaptures();
  return true;
}

export function readHex(file: string): Uint8Array {
  const text = readFileSync(file, 'utf8');
  return Uint8Array.from(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );
}

export interface Frame {
  protocol: number;
  info: Uint8Array;
}

/** Splits raw line bytes into frames (accepts raw control characters). */
export function deframe(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  const d = new HdlcDeframer(
    (protocol, info) => out.push({ protocol, info: Uint8Array.from(info) }),
    {
      accm: 0,
      maxInfo: 1600,
    },
  );
  d.push(bytes);
  return out;
}

export interface Capture {
  aToB: Uint8Array;
  bToA: Uint8Array;
  aLog: string[];
  bLog: string[];
  options: string;
}

export function loadCapture(name: Scenario): Capture {
  const dir = join(INTEROP_DIR, name);
  const lines = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n');
  return {
    aToB: readHex(join(dir, 'a-to-b.hex')),
    bToA: readHex(join(dir, 'b-to-a.hex')),
    aLog: lines('a.log'),
    bLog: lines('b.log'),
    options: readFileSync(join(dir, 'options.txt'), 'utf8'),
  };
}

/** `sent [...]` lines of a log, bracketed part only. */
export function sentLines(log: string[]): string[] {
  return log.filter((l) => l.startsWith('sent [')).map((l) => l.slice('sent '.length));
}
