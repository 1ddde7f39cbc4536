/**
 * The WebAssembly receive kernel (src/hdlc/wasm, `unstuff`) against the JavaScript deframer
 * it speeds up: identical frames and counters for any stream, options and chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deframerWithoutWasm } from '../../src/hdlc/deframer.js';
import { type DeframerOptions, HdlcDeframer } from '../../src/hdlc/index.js';
import { createRxKernel, RxLayout } from '../../src/hdlc/wasm/kernel.js';
import {
  type Direction,
  readCapture,
  refFcs16,
  refStuffedBody,
  SCENARIOS,
  type Scenario,
} from './support.js';

interface Seen {
  frames: string[];
  deframer: HdlcDeframer;
}

/** Feeds `parts` to a deframer and records each delivered frame as text. */
function feed(wasm: boolean, opts: DeframerOptions, parts: Uint8Array[]): Seen {
  const frames: string[] = [];
  const onFrame = (p: number, info: Uint8Array): void => {
    frames.push(`${p.toString(16)}:${Buffer.from(info).toString('hex')}`);
  };
  const deframer = wasm ? new HdlcDeframer(onFrame, opts) : deframerWithoutWasm(onFrame, opts);
  for (const part of parts) deframer.push(part);
  return { frames, deframer };
}

function usesWasm(d: HdlcDeframer): boolean {
  return (d as unknown as { kernel: unknown }).kernel !== null;
}

/** Both implementations agree on frames and counters; returns the wasm side's stats. */
function agree(opts: DeframerOptions, parts: Uint8Array[]): HdlcDeframer['stats'] {
  const w = feed(true, opts, parts);
  const j = feed(false, opts, parts);
  expect(w.frames).toEqual(j.frames);
  expect(w.deframer.stats).toEqual(j.deframer.stats);
  return w.deframer.stats;
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function ones(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

const protocolArb = fc.oneof(
  fc.constantFrom(0x21, 0x57, 0xc021, 0x8021, 0x0021),
  fc
    .tuple(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x7f }))
    .map(([hi, lo]) => ((hi << 1) << 8) | ((lo << 1) | 1)),
);

const accmArb = fc.oneof(
  fc.constantFrom(0, 0xffffffff, 0x000a0000, 0x80000001),
  fc.integer({ min: 0, max: 0xffffffff }),
);

/** Octets that matter to the receiver: flag, escape, control characters, their escaped forms. */
const specialArb = fc.constantFrom(
  0x7e,
  0x7d,
  0x5e,
  0x5d,
  0x00,
  0x01,
  0x11,
  0x13,
  0x1f,
  0x20,
  0x31,
  0x41,
  0xff,
  0x03,
);

const payloadArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1600, size: 'max' }),
  fc.array(specialArb, { maxLength: 200 }).map((a) => Uint8Array.from(a)),
  fc
    .tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 255 }))
    .map(([n, seed]) => Uint8Array.from({ length: n }, (_, i) => (i * 167 + seed) & 0xff)),
);

/** One piece of a received stream. */
const segmentArb = fc.oneof(
  // A frame, stuffed with any transmit ACCM, maybe with an escaped 0x5d (`7d 7d`).
  {
    weight: 6,
    arbitrary: fc
      .record({
        protocol: protocolArb,
        info: payloadArb,
        accm: accmArb,
        acfc: fc.boolean(),
        pfc: fc.boolean(),
        esc5d: fc.boolean(),
        fault: fc.constantFrom('none', 'none', 'none', 'badFcs', 'abort', 'noise', 'truncate'),
        at: fc.nat(),
        noise: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      })
      .map((f) => {
        const body = refStuffedBody(f.protocol, f.info, {
          accm: f.accm,
          acfc: f.acfc,
          pfc: f.pfc,
          extra: f.esc5d ? [0x5d] : [],
        });
        const at = f.at % (body.length + 1);
        if (f.fault === 'badFcs' && body.length > 0) body[at % body.length] ^= 0x04;
        if (f.fault === 'abort') body.splice(at, body.length - at, 0x7d);
        if (f.fault === 'noise') body.splice(at, 0, ...f.noise);
        if (f.fault === 'truncate') body.length = at;
        return [...body, 0x7e];
      }),
  },
  // Garbage, flags, escapes and control characters between frames.
  { weight: 2, arbitrary: fc.array(specialArb, { maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Array.from(a)) },
);

const streamArb = fc
  .array(segmentArb, { minLength: 1, maxLength: 12 })
  .map((segs) => Uint8Array.from([0x7e, ...segs.flat()]));

const optsArb = fc.record({
  accm: accmArb,
  maxInfo: fc.oneof(fc.constantFrom(0, 1, 10, 64, 1500, 65535 + 64), fc.nat({ max: 5000 })),
});

describe('WebAssembly receive kernel', () => {
  it('is available on Node 20 (wasm SIMD), and deframerWithoutWasm really avoids it', () => {
    expect(createRxKernel()).not.toBeNull();
    expect(usesWasm(new HdlcDeframer(() => {}))).toBe(true);
    expect(usesWasm(deframerWithoutWasm(() => {}))).toBe(false);
  });

  it('computes the FCS-16 residue like the bitwise reference in the receive layout', () => {
    const k = createRxKernel()!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        new Uint8Array(k.memory.buffer, RxLayout.FRAME, data.length).set(data);
        expect(k.fcs(RxLayout.FRAME, data.length, 0xffff)).toBe(refFcs16(data));
      }),
    );
  });

  it('delivers identical frames and counters to the JS deframer for random streams and splits', () => {
    fc.assert(
      fc.property(streamArb, optsArb, fc.array(fc.nat(), { maxLength: 12 }), (s, opts, cuts) => {
        const whole = agree(opts, [s]);
        expect(agree(opts, split(s, cuts))).toEqual(whole);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with the JS deframer when fed one octet at a time', () => {
    fc.assert(
      fc.property(streamArb, optsArb, (s, opts) => {
        agree(opts, ones(s.subarray(0, 3000)));
      }),
      { numRuns: 60 },
    );
  });

  it('agrees on 64 KiB frames, chunks larger than its input area and the frame limit', () => {
    const parts: number[] = [0x7e];
    for (const [n, accm] of [
      [65535, 0],
      [65535 + 64, 0xffffffff],
      [65535 + 65, 0],
      [40000, 0x000a0000],
      [1500, 0],
    ]) {
      const info = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
      parts.push(...refStuffedBody(0x21, info, { accm, acfc: true, pfc: true }), 0x7e);
    }
    const s = Uint8Array.from(parts);
    for (const maxInfo of [65535 + 64, 65535, 1500, 40000]) {
      for (const opts of [
        { accm: 0, maxInfo },
        { accm: 0xffffffff, maxInfo },
      ]) {
        const whole = agree(opts, [s]);
        expect(agree(opts, split(s, [70000, 70001, 70017, 140000]))).toEqual(whole);
        expect(agree(opts, split(s, [1, 65536, 65552, 131073]))).toEqual(whole);
      }
    }
    expect(agree({ accm: 0, maxInfo: 65535 + 64 }, [s]).framesOk).toBe(4);
  });

  it('agrees when the handler changes the ACCM and maxInfo mid-chunk', () => {
    fc.assert(
      fc.property(streamArb, accmArb, fc.nat({ max: 3000 }), (s, accm, maxInfo) => {
        const run = (wasm: boolean): string[] => {
          const out: string[] = [];
          let n = 0;
          const onFrame = (p: number, info: Uint8Array): void => {
            out.push(`${p}:${Buffer.from(info).toString('hex')}`);
            if (n++ % 2 === 0) d.configure({ accm: n % 4 === 1 ? accm : 0, maxInfo });
          };
          const d = wasm ? new HdlcDeframer(onFrame) : deframerWithoutWasm(onFrame);
          d.push(s);
          out.push(JSON.stringify(d.stats));
          return out;
        };
        expect(run(true)).toEqual(run(false));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes all 12 pppd captures identically, whole, in 7-octet and in 1-octet chunks', () => {
    for (const scenario of SCENARIOS as readonly Scenario[]) {
      for (const file of ['a-to-b.hex', 'b-to-a.hex'] as Direction[]) {
        const bytes = readCapture(scenario, file);
        for (const accm of [0, 0x000a0000, 0xffffffff]) {
          const whole = agree({ accm }, [bytes]);
          expect(agree({ accm }, ones(bytes))).toEqual(whole);
          const sevens: Uint8Array[] = [];
          for (let i = 0; i < bytes.length; i += 7) sevens.push(bytes.subarray(i, i + 7));
          expect(agree({ accm }, sevens)).toEqual(whole);
          if (accm === 0) expect(whole.badFcs).toBe(0);
        }
      }
    }
  });
});
