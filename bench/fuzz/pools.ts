/**
 * Structured inputs drawn from fast-check arbitraries once per runner (fc.sample
 * with a seed), then picked at random and often mutated: valid-looking control
 * packets with option TLVs of the known types, PAP/CHAP packets with
 * length-prefixed fields, IP packets with a plausible header.
 */
import fc from 'fast-check';
import { emitControlPacket } from '../../src/ppp/packet.js';

/** Option types worth hitting: LCP 1-8/17-19, IPCP 1-3/129-132, IPv6CP 1-2, CCP 18/21/24/26. */
const optType = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2, 3, 129, 130, 131, 132, 17, 18, 19, 21, 24, 26) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const optData = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 10 }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(0, 2, 4, 8)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 253 }) },
);
const option = fc.record({ type: optType, data: optData });

/** The options field of a Configure-* packet: TLVs, sometimes with a broken length. */
export const optionsArb = fc
  .record({
    opts: fc.array(option, { maxLength: 8 }),
    breakAt: fc.integer({ min: -4, max: 40 }),
    breakTo: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ opts, breakAt, breakTo }) => {
    let n = 0;
    for (const o of opts) n += 2 + o.data.length;
    const out = new Uint8Array(n);
    let off = 0;
    const lens: number[] = [];
    for (const o of opts) {
      out[off] = o.type;
      out[off + 1] = 2 + o.data.length;
      lens.push(off + 1);
      out.set(o.data, off + 2);
      off += 2 + o.data.length;
    }
    if (breakAt >= 0 && breakAt < lens.length) out[lens[breakAt]] = breakTo;
    return out;
  });

const code = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 3, arbitrary: fc.integer({ min: 5, max: 13 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** A control packet (code id length data) with options or raw data; length sometimes wrong. */
export const controlArb = fc
  .record({
    code,
    id: fc.integer({ min: 0, max: 255 }),
    options: optionsArb,
    raw: fc.uint8Array({ maxLength: 40 }),
    useOptions: fc.boolean(),
    lengthDelta: fc.oneof(
      { weight: 8, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: -6, max: 6 }) },
    ),
    padding: fc.uint8Array({ maxLength: 4 }),
  })
  .map((p) => {
    const data = p.useOptions || p.code <= 4 ? p.options : p.raw;
    const pkt = emitControlPacket(p.code, p.id, data);
    const len = (pkt.length + p.lengthDelta) & 0xffff;
    pkt[2] = len >>> 8;
    pkt[3] = len & 0xff;
    const out = new Uint8Array(pkt.length + p.padding.length);
    out.set(pkt);
    out.set(p.padding, pkt.length);
    return out;
  });

const field = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc
    .constantFrom('alice', 's3cret-fuzz', 'gw', '', '\n', '"\\')
    .map((s) => new TextEncoder().encode(s)),
);

/** PAP/CHAP packets: code 1-4 (sometimes others), length-prefixed first field, a second field. */
export const authArb = fc
  .record({
    code: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 1, max: 4 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    id: fc.integer({ min: 0, max: 255 }),
    a: field,
    b: field,
    shape: fc.integer({ min: 0, max: 4 }),
    lenByte: fc.integer({ min: 0, max: 255 }),
  })
  .map((p) => {
    let data: Uint8Array;
    if (p.shape === 0)
      data = Uint8Array.from([...p.a]); // plain message
    else if (p.shape === 1)
      data = Uint8Array.from([p.a.length, ...p.a, ...p.b]); // CHAP value + name
    else if (p.shape === 2)
      data = Uint8Array.from([p.a.length, ...p.a, p.b.length, ...p.b]); // PAP user + password
    else if (p.shape === 3)
      data = Uint8Array.from([p.lenByte, ...p.a, p.b.length, ...p.b]); // broken length
    else data = Uint8Array.from([16, ...p.a.subarray(0, 16), ...p.b]); // CHAP MD5-sized value
    return emitControlPacket(p.code, p.id, data);
  });

/** IPv4/IPv6 packets with a plausible first nibble and length field, random body. */
export const ipArb = fc
  .record({
    v: fc.constantFrom(4, 6, 4, 6, 0, 5, 15),
    len: fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 1600 }),
      fc.constantFrom(1500, 1501, 1280, 20, 40, 65535),
    ),
    seed: fc.integer(),
  })
  .map(({ v, len, seed }) => {
    const n = Math.min(len, 2000);
    const b = new Uint8Array(n);
    let x = seed | 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x;
    }
    if (n > 0) b[0] = (v << 4) | (v === 4 ? 5 : b[0] & 0xf);
    if (v === 4 && n >= 4) {
      b[2] = n >>> 8;
      b[3] = n & 0xff;
    }
    if (v === 6 && n >= 6) {
      b[4] = (n - 40) >>> 8;
      b[5] = (n - 40) & 0xff;
    }
    return b;
  });

/** `count` samples of `arb`, reproducible by `seed`. */
export function pool<T>(arb: fc.Arbitrary<T>, count: number, seed: number): T[] {
  return fc.sample(arb, { numRuns: count, seed });
}
