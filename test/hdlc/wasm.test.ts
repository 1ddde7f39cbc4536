/**
 * The WebAssembly transmit kernel (src/hdlc/wasm) against the JavaScript loops it replaces:
 * identical bytes and counters for any frames and options, and the same FCS-16.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { framerWithoutWasm } from '../../src/hdlc/framer.js';
import { type FramerOptions, fcs16, HdlcFramer } from '../../src/hdlc/index.js';
import { createTxKernel, KernelLayout } from '../../src/hdlc/wasm/kernel.js';
import { refStuffedBody } from './support.js';

const protocolArb = fc
  .tuple(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x7f }))
  .map(([hi, lo]) => ((hi << 1) << 8) | ((lo << 1) | 1));

const extraArb = fc.uniqueArray(
  fc.integer({ min: 0, max: 255 }).filter((b) => !(b >= 0x20 && b <= 0x3f) && b !== 0x5e),
  { maxLength: 4 },
);

/** ACCMs: none, all, XON/XOFF, and any. */
const accmArb = fc.oneof(
  fc.constantFrom(0, 0xffffffff, 0x000a0000, 0x80000001),
  fc.integer({ min: 0, max: 0xffffffff }),
);

const payloadArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1600, size: 'max' }),
  fc
    .array(fc.constantFrom(0x7e, 0x7d, 0x00, 0x01, 0x11, 0x13, 0x1f, 0x20, 0x5e, 0xff, 0x41), {
      minLength: 0,
      maxLength: 300,
      size: 'max',
    })
    .map((a) => Uint8Array.from(a)),
);

function usesWasm(f: HdlcFramer): boolean {
  return (f as unknown as { kernel: unknown }).kernel !== null;
}

/** Byte equality without a per-element deep compare (megabytes of output). */
function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}

function pair(opts: FramerOptions): [HdlcFramer, HdlcFramer] {
  return [new HdlcFramer(opts), framerWithoutWasm(opts)];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('WebAssembly transmit kernel', () => {
  it('kernel-bytes.ts is what kernel.wat assembles to (scripts/build-wasm.mjs --check)', () => {
    const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is available on Node 20 (wasm SIMD), and framerWithoutWasm really avoids it', () => {
    expect(createTxKernel()).not.toBeNull();
    expect(usesWasm(new HdlcFramer())).toBe(true);
    expect(usesWasm(framerWithoutWasm())).toBe(false);
  });

  it('computes the same FCS-16 as fcs16() at every length and start value', () => {
    const k = createTxKernel()!;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 0xffff }),
        (data, c) => {
          new Uint8Array(k.memory.buffer, KernelLayout.STAGE, data.length).set(data);
          expect(k.fcs(KernelLayout.STAGE, data.length, c)).toBe(fcs16(data, 0, data.length, c));
        },
      ),
    );
  });

  it('frames 0x7e/0x7d/control-heavy 16-octet blocks like the reference, every ACCM', () => {
    // Every escape pattern of a 16-octet block occurs across these.
    for (const accm of [0, 0xffffffff, 0x000a0000]) {
      const f = new HdlcFramer({ accm, acfc: true, pfc: true });
      for (let m = 0; m < 4096; m += 7) {
        const info = new Uint8Array(47);
        for (let i = 0; i < info.length; i++)
          info[i] = (m >>> (i % 12)) & 1 ? 0x7e - (i & 1) : i + 0x11;
        f.writeFrame(0x21, info);
        const out = f.take()!;
        const want = [0x7e, ...refStuffedBody(0x21, info, { accm, acfc: true, pfc: true }), 0x7e];
        expect(Array.from(out)).toEqual(want);
      }
    }
  });

  it('writes identical bytes and counters to the JS framer for any frames and options', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(protocolArb, payloadArb, fc.boolean()), { minLength: 1, maxLength: 8 }),
        accmArb,
        fc.boolean(),
        fc.boolean(),
        fc.oneof(fc.constant([] as number[]), extraArb),
        fc.option(fc.integer({ min: 16, max: 8000 }), { nil: undefined }),
        fc.array(fc.boolean(), { maxLength: 8 }),
        (frames, accm, acfc, pfc, extra, maxPending, takes) => {
          const opts = { accm, acfc, pfc, extraEscapes: extra, maxPending };
          const [w, j] = pair(opts);
          frames.forEach(([p, info, ld], i) => {
            expect(w.writeFrame(p, info, ld)).toBe(j.writeFrame(p, info, ld));
            expect(w.pendingBytes).toBe(j.pendingBytes);
            if (takes[i]) expect(w.take()).toEqual(j.take());
          });
          expect(w.take()).toEqual(j.take());
          expect(w.stats).toEqual(j.stats);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps pending output across reconfiguration and memory growth', () => {
    const [w, j] = pair({ accm: 0, acfc: true, pfc: true, maxPending: 4 << 20 });
    const info = new Uint8Array(1500);
    for (let i = 0; i < info.length; i++) info[i] = (i * 131) & 0xff;
    for (let k = 0; k < 3500; k++) {
      if (k === 700)
        for (const f of [w, j]) f.configure({ accm: 0xffffffff, extraEscapes: [0xff] });
      if (k === 1400) for (const f of [w, j]) f.configure({ accm: 0x000a0000, extraEscapes: [] });
      info[k % 1500] ^= 0x7e;
      expect(w.writeFrame(0x21, info, k % 97 === 0)).toBe(j.writeFrame(0x21, info, k % 97 === 0));
    }
    expect(w.stats).toEqual(j.stats);
    expect(w.stats.drops).toBeGreaterThan(0);
    expect(same(w.take(), j.take())).toBe(true);
  });

  it('frames information fields larger than the wasm stage through the JS loops', () => {
    const [w, j] = pair({ accm: 0, maxPending: 1 << 20 });
    const info = new Uint8Array(KernelLayout.STAGE_CAP + 100);
    for (let i = 0; i < info.length; i++) info[i] = (i * 7919) >>> 3;
    expect(w.writeFrame(0x0021, info)).toBe(true);
    expect(j.writeFrame(0x0021, info)).toBe(true);
    expect(same(w.take(), j.take())).toBe(true);
  });
});
