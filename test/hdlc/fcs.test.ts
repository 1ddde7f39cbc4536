import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcs16Words } from '../../src/hdlc/fcs16.js';
import {
  FCS16_GOOD,
  FCS16_INIT,
  FCS32_GOOD,
  FCS32_INIT,
  fcs16,
  fcs32,
} from '../../src/hdlc/index.js';
import { refFcs16, refFcs32 } from './support.js';

const CHECK = new TextEncoder().encode('123456789');

describe('fcs16 (RFC 1662 §C.2)', () => {
  it('gives the CRC-16/X-25 check value 0x906e for "123456789"', () => {
    expect(fcs16(CHECK) ^ 0xffff).toBe(0x906e);
    expect(FCS16_INIT).toBe(0xffff);
  });

  it('leaves the good residue 0xf0b8 over data plus its FCS, LSB first', () => {
    const f = fcs16(CHECK) ^ 0xffff;
    const framed = Uint8Array.from([...CHECK, f & 0xff, f >> 8]);
    expect(fcs16(framed)).toBe(FCS16_GOOD);
    expect(FCS16_GOOD).toBe(0xf0b8);
  });

  it('matches the bitwise definition for any data, start, end and seed', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffff }),
        (d, a, b, seed) => {
          const s = d.length ? a % (d.length + 1) : 0;
          const e = s + (d.length - s ? b % (d.length - s + 1) : 0);
          expect(fcs16(d, s, e, seed)).toBe(refFcs16(d.subarray(s, e), seed));
        },
      ),
    );
  });

  it('runs incrementally: fcs over a then b equals fcs over a‖b', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        const whole = Uint8Array.from([...a, ...b]);
        expect(fcs16(b, 0, b.length, fcs16(a))).toBe(fcs16(whole));
      }),
    );
  });

  it('word-at-a-time variant agrees at every alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.nat(7), (d, off) => {
        const buf = new Uint8Array(256);
        buf.set(d, off);
        const words = new Int32Array(buf.buffer);
        expect(fcs16Words(buf, words, off, off + d.length, FCS16_INIT)).toBe(refFcs16(d));
      }),
    );
  });

  it('clamps a range that runs past the data instead of reading garbage', () => {
    expect(fcs16(CHECK, -5, 100)).toBe(fcs16(CHECK));
  });
});

describe('fcs32 (RFC 1662 §C.3)', () => {
  it('gives the CRC-32 check value 0xcbf43926 for "123456789"', () => {
    expect((fcs32(CHECK) ^ 0xffffffff) >>> 0).toBe(0xcbf43926);
    expect(FCS32_INIT).toBe(0xffffffff);
  });

  it('leaves the good residue 0xdebb20e3 over data plus its FCS, LSB first', () => {
    const f = (fcs32(CHECK) ^ 0xffffffff) >>> 0;
    const framed = Uint8Array.from([
      ...CHECK,
      f & 0xff,
      (f >>> 8) & 0xff,
      (f >>> 16) & 0xff,
      f >>> 24,
    ]);
    expect(fcs32(framed)).toBe(FCS32_GOOD);
  });

  it('matches the bitwise definition and returns an unsigned value', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (d, seed) => {
          const got = fcs32(d, 0, d.length, seed);
          expect(got).toBe(refFcs32(d, seed));
          expect(got).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
