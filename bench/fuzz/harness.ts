/**
 * Runs one fuzz target for N inputs in this thread: every exception (or broken
 * invariant) is counted and its input kept as hex; each input is timed and one
 * slower than the hang limit is run once more to tell a real hang from a GC
 * pause or JIT warm-up; heap use is sampled.
 */
import { Rng } from './rng.js';
import type { FuzzInput, FuzzTarget } from './types.js';

/** An input slower than this (twice in a row) counts as a hang. */
export const HANG_MS = 50;
const HEAP_SAMPLE_EVERY = 1024;
const KEEP_FAILURES = 5;

export interface FuzzFailure {
  index: number;
  kind: 'exception' | 'hang';
  message: string;
  stack: string;
  hex: string;
}

export interface FuzzResult {
  name: string;
  what: string;
  inputs: number;
  exceptions: number;
  hangs: number;
  slowestMs: number;
  peakHeapMb: number;
  elapsedMs: number;
  failures: FuzzFailure[];
}

export interface RunHooks {
  /** Called before each input (the worker copies it to shared memory for the watchdog). */
  beforeInput?(index: number, input: FuzzInput): void;
  /** Called every few thousand inputs with progress. */
  progress?(done: number, heapMb: number): void;
}

export function toHex(input: FuzzInput, max = 4096): string {
  const b =
    typeof input === 'string'
      ? Buffer.from(input, 'latin1')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const h = b.subarray(0, max).toString('hex');
  return b.length > max ? `${h}… (${b.length} bytes)` : h;
}

export function runTarget(
  target: FuzzTarget,
  n: number,
  seed: number,
  hooks: RunHooks = {},
): FuzzResult {
  const rng = new Rng(seed);
  const runner = target.create(seed);
  const res: FuzzResult = {
    name: target.name,
    what: target.what,
    inputs: 0,
    exceptions: 0,
    hangs: 0,
    slowestMs: 0,
    peakHeapMb: process.memoryUsage().heapUsed / 1e6,
    elapsedMs: 0,
    failures: [],
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const input = runner.next(rng);
    hooks.beforeInput?.(i, input);
    let dt = 0;
    const s = performance.now();
    try {
      runner.run(input);
      dt = performance.now() - s;
    } catch (e) {
      dt = performance.now() - s;
      res.exceptions++;
      if (res.failures.length < KEEP_FAILURES) {
        const err = e as Error;
        res.failures.push({
          index: i,
          kind: 'exception',
          message: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`,
          stack: String(err?.stack ?? '')
            .split('\n')
            .slice(0, 8)
            .join('\n'),
          hex: toHex(input),
        });
      }
    }
    if (dt > HANG_MS) {
      // Once more: a GC pause or first-call compilation does not repeat.
      const s2 = performance.now();
      try {
        runner.run(input);
      } catch {
        /* counted above if it threw the first time */
      }
      const dt2 = performance.now() - s2;
      if (dt2 > HANG_MS) {
        res.hangs++;
        if (res.failures.length < KEEP_FAILURES) {
          res.failures.push({
            index: i,
            kind: 'hang',
            message: `input took ${dt.toFixed(1)} ms, then ${dt2.toFixed(1)} ms`,
            stack: '',
            hex: toHex(input),
          });
        }
      }
    }
    if (dt > res.slowestMs) res.slowestMs = dt;
    res.inputs++;
    if ((i & (HEAP_SAMPLE_EVERY - 1)) === 0) {
      const h = process.memoryUsage().heapUsed / 1e6;
      if (h > res.peakHeapMb) res.peakHeapMb = h;
      if ((i & 16383) === 0) hooks.progress?.(i, h);
    }
  }
  const h = process.memoryUsage().heapUsed / 1e6;
  if (h > res.peakHeapMb) res.peakHeapMb = h;
  res.elapsedMs = performance.now() - t0;
  return res;
}
