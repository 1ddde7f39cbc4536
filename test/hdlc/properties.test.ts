/** Property tests (fast-check): round trips, hostile input, bounds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FCS16_GOOD, fcs16, HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { refStuffedBody } from './support.js';

/** Valid PPP protocol numbers (RFC 1661 §2): odd low byte, even high byte. */
const protocolArb = fc
  .tuple(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x7f }))
  .map(([hi, lo]) => ((hi << 1) << 8) | ((lo << 1) | 1));

/** Extra escapes pppd accepts: not 0x20-0x3f, not 0x5e. */
const extraArb = fc.uniqueArray(
  fc.integer({ min: 0, max: 255 }).filter((b) => !(b >= 0x20 && b <= 0x3f) && b !== 0x5e),
  { maxLength: 6 },
);

const payloadArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 1600 }),
  // Biased towards octets that need escaping.
  fc
    .array(fc.constantFrom(0x7e, 0x7d, 0x00, 0x11, 0x13, 0x20, 0x5e, 0x5d, 0xff, 0x41), {
      minLength: 1,
      maxLength: 600,
    })
    .map((a) => Uint8Array.from(a)),
);

/** Splits `bytes` at sorted cut points derived from `cuts`. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('HDLC properties', () => {
  it('encode → decode round-trips any frames, options and chunk splits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(protocolArb, payloadArb, fc.boolean()), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        fc.boolean(),
        extraArb,
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, accm, acfc, pfc, extra, cuts) => {
          const f = new HdlcFramer({ accm, acfc, pfc, extraEscapes: extra });
          for (const [p, info, ld] of frames) expect(f.writeFrame(p, info, ld)).toBe(true);
          const wire = f.take()!;
          // The framer matches the reference stuffing exactly.
          const want: number[] = [0x7e];
          for (const [p, info, ld] of frames) {
            const o = ld
              ? { accm: 0xffffffff, acfc: false, pfc: false, extra }
              : { accm, acfc, pfc, extra };
            want.push(...refStuffedBody(p, info, o), 0x7e);
          }
          expect(Array.from(wire)).toEqual(want);
          // The receiver may map any control characters the sender escapes.
          const got: [number, number[]][] = [];
          const d = new HdlcDeframer((p, info) => got.push([p, Array.from(info)]), {
            accm,
            maxInfo: 1600,
          });
          for (const part of split(wire, cuts)) d.push(part);
          expect(got).toEqual(frames.map(([p, info]) => [p, Array.from(info)]));
          expect(
            d.stats.badFcs +
              d.stats.tooShort +
              d.stats.badHeader +
              d.stats.aborted +
              d.stats.tooLong,
          ).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never throws on random or mutated streams and never delivers a frame with a wrong FCS', () => {
    const good = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
    for (let i = 0; i < 6; i++)
      good.writeFrame(
        0x21,
        new Uint8Array(40 + i * 30).map((_, k) => (k * 13 + i) & 0xff),
      );
    const base = good.take()!;
    const streamArb = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc
        .array(fc.constantFrom(0x7e, 0x7d, 0xff, 0x03, 0x21, 0x00, 0x11), { maxLength: 400 })
        .map((a) => Uint8Array.from(a)),
      fc
        .array(
          fc.tuple(
            fc.nat(base.length - 1),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'drop', 'dup'),
          ),
          {
            minLength: 1,
            maxLength: 8,
          },
        )
        .map((edits) => {
          const b = Array.from(base);
          for (const [at, v, op] of edits) {
            const k = at % b.length;
            if (op === 'set') b[k] = v;
            else if (op === 'drop') b.splice(k, 1);
            else b.splice(k, 0, b[k]);
          }
          return Uint8Array.from(b);
        }),
    );
    fc.assert(
      fc.property(
        streamArb,
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (stream, accm, maxInfo, cuts) => {
          const d = new HdlcDeframer(
            (protocol, info) => {
              expect(info.length).toBeLessThanOrEqual(maxInfo);
              expect(protocol & 1).toBe(1);
              expect(protocol & 0x100).toBe(0);
              // Re-frame what we got: without ff 03 it must check out (header forms vary).
              const pfc = protocol < 0x100;
              const plain = Uint8Array.from([
                ...(pfc ? [protocol] : [protocol >> 8, protocol & 0xff]),
                ...info,
              ]);
              const f = fcs16(plain) ^ 0xffff;
              expect(fcs16(Uint8Array.from([...plain, f & 0xff, f >> 8]))).toBe(FCS16_GOOD);
            },
            { accm, maxInfo },
          );
          for (const part of split(stream, cuts)) expect(() => d.push(part)).not.toThrow();
          const s = d.stats;
          expect(
            s.framesOk + s.badFcs + s.tooLong + s.tooShort + s.aborted + s.badHeader,
          ).toBeLessThanOrEqual(stream.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivered frames carry exactly the bytes whose FCS was good (checked on the unstuffed frame)', () => {
    // Stream of valid frames with random single-octet corruption: every delivered frame
    // must equal one of the frames that was sent (CRC-16 catches all single-octet errors).
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (infos, at, flip) => {
          const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
          for (const info of infos) f.writeFrame(0x21, info);
          const wire = f.take()!;
          const k = at % wire.length;
          wire[k] ^= flip;
          const sent = new Set(infos.map((i) => Array.from(i).join(',')));
          const d = new HdlcDeframer(
            (_p, info) => expect(sent.has(Array.from(info).join(','))).toBe(true),
            { accm: 0, maxInfo: 300 },
          );
          d.push(wire);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a bounded framer never holds more than maxPending and counts every refusal', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 5000 }),
        fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (maxPending, infos, accm) => {
          const f = new HdlcFramer({ accm, maxPending });
          let refused = 0;
          for (const info of infos) {
            if (!f.writeFrame(0x21, info)) refused++;
            expect(f.pendingBytes).toBeLessThanOrEqual(maxPending);
          }
          expect(f.stats.drops).toBe(refused);
          expect(f.stats.frames).toBe(infos.length - refused);
          const out = f.take();
          expect(out?.length ?? 0).toBe(f.stats.bytes);
        },
      ),
      { numRuns: 200 },
    );
  });
});
