/**
 * A small slice of bench/fuzz in the suite: every target, a few thousand inputs
 * (FUZZ_TEST_N overrides), zero exceptions, zero hangs, bounded heap.
 * The full run is `npm run bench:fuzz` (1,000,000 inputs per parser).
 */
import { describe, expect, it } from 'vitest';
import { runTarget } from '../../bench/fuzz/harness.js';
import { TARGETS } from '../../bench/fuzz/targets.js';

const N = Number(process.env.FUZZ_TEST_N ?? 0);
/** Inputs per target: the slow text parsers get fewer. */
function inputsFor(name: string): number {
  if (N > 0) return N;
  if (name.startsWith('config-')) return 1500;
  if (name.startsWith('engine-')) return 4000;
  return 8000;
}

describe('fuzz slice: no peer input crashes, hangs or leaks', () => {
  process.removeAllListeners('warning'); // the yaml package warns on complex keys
  for (const t of TARGETS) {
    it(`${t.name} (${t.what})`, () => {
      const r = runTarget(t, inputsFor(t.name), 0x5eed + t.name.length);
      const detail = r.failures
        .map((f) => `${f.kind}: ${f.message}\n${f.stack}\nhex ${f.hex}`)
        .join('\n\n');
      expect(r.exceptions, detail).toBe(0);
      expect(r.hangs, detail).toBe(0);
      expect(r.inputs).toBe(inputsFor(t.name));
      expect(r.peakHeapMb).toBeLessThan(512);
    });
  }
});
