/**
 * Framing benchmark: src/hdlc against the naive octet-at-a-time baseline (naive.ts), in
 * one process, same inputs. Each case runs many short rounds (about 4 ms each), ours and
 * naive interleaved, and keeps each side's best round, so that other load on the machine
 * disturbs the ratio as little as possible. Throughput is MB/s of payload (information
 * field octets); encode includes draining the framer every 64 KiB, decode is fed 64 KiB
 * chunks. All framers are checked to emit identical bytes before timing. `enc js` is our
 * framer without its WebAssembly kernel (the fallback where wasm SIMD is missing); `dec js`
 * the same for the deframer.
 */
import { deframerWithoutWasm } from '../../src/hdlc/deframer.js';
import { framerWithoutWasm } from '../../src/hdlc/framer.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { NaiveDeframer, NaiveFramer } from './naive.js';

export interface BenchCase {
  name: string;
  size: number;
  fill: 'random' | 'zeros' | 'flags';
  accm: number;
}

export interface BenchResult {
  c: BenchCase;
  encOurs: number;
  /** Our framer without the WebAssembly kernel (its JS fallback), same run. */
  encJs: number;
  encNaive: number;
  decOurs: number;
  /** Our deframer without the WebAssembly kernel (its JS fallback), same run. */
  decJs: number;
  decNaive: number;
}

export interface BenchOptions {
  /** Tiny iteration counts: checks the plumbing, not the speed. */
  quick?: boolean;
  /** Only cases whose `name accm` contains this (development aid; the summary needs all). */
  only?: string;
  /** Rounds per case (default 60; 1 in quick mode). */
  rounds?: number;
  /** Where lines go; default console.log. */
  print?: (line: string) => void;
}

interface Framer {
  writeFrame(protocol: number, info: Uint8Array): boolean;
  take(): Uint8Array | null;
  readonly pendingBytes: number;
}

interface Deframer {
  push(chunk: Uint8Array): void;
}

const PROTOCOL_IPV4 = 0x21;
/** Framer output is drained at this size, like a transport write. */
const DRAIN = 64 * 1024;
/** Decoder input chunk size, like a transport read. */
const CHUNK = 64 * 1024;

export const CASES: BenchCase[] = (() => {
  const out: BenchCase[] = [];
  for (const accm of [0, 0xffffffff]) {
    for (const size of [64, 576, 1500, 65535])
      out.push({ name: `random ${size}`, size, fill: 'random', accm });
    out.push({ name: 'zeros 1500', size: 1500, fill: 'zeros', accm });
    out.push({ name: 'all-7e 1500', size: 1500, fill: 'flags', accm });
  }
  return out;
})();

/** Deterministic xorshift32 so every run frames the same bytes. */
function payloads(c: BenchCase, count: number): Uint8Array[] {
  let s = 0x9e3779b9 ^ c.size;
  const list: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const p = new Uint8Array(c.size);
    if (c.fill === 'flags') p.fill(0x7e);
    else if (c.fill === 'random') {
      for (let i = 0; i < p.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        p[i] = s & 0xff;
      }
    }
    list.push(p);
  }
  return list;
}

function encodeRound(f: Framer, frames: Uint8Array[], minMs: number): number {
  let bytes = 0;
  let sink = 0;
  const t0 = performance.now();
  let el = 0;
  do {
    for (let i = 0; i < frames.length; i++) {
      f.writeFrame(PROTOCOL_IPV4, frames[i]);
      bytes += frames[i].length;
      if (f.pendingBytes >= DRAIN) sink += f.take()!.length;
    }
    el = performance.now() - t0;
  } while (el < minMs);
  sink += f.take()?.length ?? 0;
  if (sink === 0) throw new Error('framer produced nothing');
  return bytes / el / 1000;
}

function decodeRound(
  d: Deframer,
  chunks: Uint8Array[],
  perPass: number,
  minMs: number,
  got: { n: number },
): number {
  let bytes = 0;
  const t0 = performance.now();
  let el = 0;
  do {
    for (let i = 0; i < chunks.length; i++) d.push(chunks[i]);
    bytes += perPass;
    el = performance.now() - t0;
  } while (el < minMs);
  if (got.n !== bytes)
    throw new Error(`decoder delivered ${got.n} payload bytes, expected ${bytes}`);
  got.n = 0;
  return bytes / el / 1000;
}

function stream(c: BenchCase, frames: Uint8Array[]): { chunks: Uint8Array[]; perPass: number } {
  const f = new HdlcFramer({ accm: c.accm, acfc: true, pfc: true, maxPending: 1 << 26 });
  let perPass = 0;
  // About 1 MiB of wire bytes per pass.
  while (f.pendingBytes < 1 << 20) {
    for (const p of frames) {
      f.writeFrame(PROTOCOL_IPV4, p);
      perPass += p.length;
    }
  }
  const wire = f.take()!;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < wire.length; i += CHUNK) chunks.push(wire.slice(i, i + CHUNK));
  return { chunks, perPass };
}

/** Checks that both implementations agree on the bytes before timing them. */
function crossCheck(c: BenchCase, frames: Uint8Array[]): void {
  const ours = new HdlcFramer({ accm: c.accm, acfc: true, pfc: true });
  const js = framerWithoutWasm({ accm: c.accm, acfc: true, pfc: true });
  const naive = new NaiveFramer({ accm: c.accm, acfc: true, pfc: true });
  for (const p of frames.slice(0, 4)) {
    ours.writeFrame(PROTOCOL_IPV4, p);
    js.writeFrame(PROTOCOL_IPV4, p);
    naive.writeFrame(PROTOCOL_IPV4, p);
  }
  const a = ours.take()!;
  const j = js.take()!;
  const b = naive.take()!;
  if (a.length !== b.length || a.some((x, i) => x !== b[i] || x !== j[i])) {
    throw new Error(`${c.name}: ours, JS fallback and naive framers disagree`);
  }
}

function measure(c: BenchCase, rounds: number, minMs: number): BenchResult {
  const frames = payloads(c, c.fill === 'random' ? 64 : 1);
  crossCheck(c, frames);
  const { chunks, perPass } = stream(c, frames);
  const opts = { accm: c.accm, acfc: true, pfc: true };
  const got = { n: 0 };
  const onFrame = (_p: number, info: Uint8Array): void => {
    got.n += info.length;
  };
  const encOurs = new HdlcFramer(opts);
  const encJs = framerWithoutWasm(opts);
  const encNaive = new NaiveFramer(opts);
  const dopts = { accm: c.accm, maxInfo: Math.max(1500, c.size) };
  const decOurs = new HdlcDeframer(onFrame, dopts);
  const decJs = deframerWithoutWasm(onFrame, dopts);
  const decNaive = new NaiveDeframer(onFrame, dopts);
  const r: BenchResult = {
    c,
    encOurs: 0,
    encJs: 0,
    encNaive: 0,
    decOurs: 0,
    decJs: 0,
    decNaive: 0,
  };
  for (let k = 0; k < rounds; k++) {
    // Alternate who goes first so neither always runs on a warmer machine.
    if (k % 2 === 0) {
      r.encOurs = Math.max(r.encOurs, encodeRound(encOurs, frames, minMs));
      r.encJs = Math.max(r.encJs, encodeRound(encJs, frames, minMs));
      r.encNaive = Math.max(r.encNaive, encodeRound(encNaive, frames, minMs));
      r.decOurs = Math.max(r.decOurs, decodeRound(decOurs, chunks, perPass, minMs, got));
      r.decJs = Math.max(r.decJs, decodeRound(decJs, chunks, perPass, minMs, got));
      r.decNaive = Math.max(r.decNaive, decodeRound(decNaive, chunks, perPass, minMs, got));
    } else {
      r.encNaive = Math.max(r.encNaive, encodeRound(encNaive, frames, minMs));
      r.encJs = Math.max(r.encJs, encodeRound(encJs, frames, minMs));
      r.encOurs = Math.max(r.encOurs, encodeRound(encOurs, frames, minMs));
      r.decNaive = Math.max(r.decNaive, decodeRound(decNaive, chunks, perPass, minMs, got));
      r.decJs = Math.max(r.decJs, decodeRound(decJs, chunks, perPass, minMs, got));
      r.decOurs = Math.max(r.decOurs, decodeRound(decOurs, chunks, perPass, minMs, got));
    }
  }
  if (
    decOurs.stats.framesOk === 0 ||
    decOurs.stats.badFcs !== 0 ||
    JSON.stringify({ ...decOurs.stats, framesOk: 0 }) !==
      JSON.stringify({ ...decJs.stats, framesOk: 0 })
  )
    throw new Error(`${c.name}: decode failed`);
  return r;
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, '0');
}

function fmt(x: number, w: number, digits = 0): string {
  return x.toFixed(digits).padStart(w);
}

/** Runs every case, prints the table and the summary line, returns the results. */
export function runBench(opts: BenchOptions = {}): BenchResult[] {
  const print = opts.print ?? ((line: string) => console.log(line));
  const rounds = opts.rounds ?? (opts.quick ? 1 : 60);
  // Many short rounds, interleaved and best kept: robust against other load on the machine.
  const minMs = opts.quick ? 1 : 4;
  const cases = CASES.filter((c) => !opts.only || `${c.name} ${hex8(c.accm)}`.includes(opts.only));
  // Warm both implementations on every case first so the JIT sees all shapes.
  for (const c of cases) measure(c, 1, opts.quick ? 0 : 5);
  const results = cases.map((c) => measure(c, rounds, minMs));
  print(
    'payload MB/s (best of rounds), ours vs naive octet loop, same run; js = ours without the wasm kernel',
  );
  print(
    `${'case'.padEnd(13)} ${'accm'.padEnd(8)} | ${'enc ours'.padStart(9)} ${'enc js'.padStart(7)} ${'enc naive'.padStart(9)} ${'ratio'.padStart(6)} | ${'dec ours'.padStart(9)} ${'dec js'.padStart(7)} ${'dec naive'.padStart(9)} ${'ratio'.padStart(6)}`,
  );
  print('-'.repeat(98));
  for (const r of results) {
    print(
      `${r.c.name.padEnd(13)} ${hex8(r.c.accm)} | ${fmt(r.encOurs, 9)} ${fmt(r.encJs, 7)} ${fmt(r.encNaive, 9)} ${fmt(r.encOurs / r.encNaive, 6, 2)} | ${fmt(r.decOurs, 9)} ${fmt(r.decJs, 7)} ${fmt(r.decNaive, 9)} ${fmt(r.decOurs / r.decNaive, 6, 2)}`,
    );
  }
  const main =
    results.find((r) => r.c.size === 1500 && r.c.fill === 'random' && r.c.accm === 0) ?? results[0];
  let worst = Number.POSITIVE_INFINITY;
  for (const r of results) worst = Math.min(worst, r.encOurs / r.encNaive, r.decOurs / r.decNaive);
  print(
    `summary: enc1500=${(main.encOurs / main.encNaive).toFixed(2)} dec1500=${(main.decOurs / main.decNaive).toFixed(2)} worst=${worst.toFixed(2)}`,
  );
  return results;
}
