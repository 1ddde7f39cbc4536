import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  formatPrefix4,
  inAnyPrefix4,
  parseIpv4,
  parsePrefix4,
  prefix4Contains,
  prefix4Within,
} from '../../src/wire/ip.js';

const p = (t: string) => {
  const r = parsePrefix4(t);
  if (r === null) throw new Error(`test prefix ${t}`);
  return r;
};
const a = (t: string) => {
  const r = parseIpv4(t);
  if (r === null) throw new Error(`test address ${t}`);
  return r;
};

describe('wire/ip: IPv4 addresses and prefixes as numbers', () => {
  it('does IPv4 integer and CIDR math', () => {
    // (moved from test/runtime/address-pool.test.ts with the pool's own helpers)
    expect(formatIpv4(a('198.18.255.1'))).toBe('198.18.255.1');
    expect(prefix4Contains(p('198.18.0.0/15'), a('198.19.1.1'))).toBe(true);
    expect(prefix4Contains(p('198.18.0.0/15'), a('198.20.0.1'))).toBe(false);
    expect(prefix4Contains(p('0.0.0.0/0'), a('1.2.3.4'))).toBe(true);
  });

  it('parses dotted quads to numbers and back', () => {
    expect(parseIpv4('10.64.0.1')).toBe(0x0a400001);
    expect(parseIpv4(' 255.255.255.255 ')).toBe(0xffffffff);
    expect(formatIpv4(0x0a400001)).toBe('10.64.0.1');
  });

  it('returns null, never throws, on anything that is not a dotted quad', () => {
    for (const bad of [
      '',
      '10.0.0',
      '10.0.0.256',
      '1.2.3.4.5',
      'a.b.c.d',
      '10.0.0.1/8',
      '::1',
      '1..2.3',
    ])
      expect(parseIpv4(bad), bad).toBeNull();
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/ab',
      'x/8',
      '10.0.0.0/8/8',
    ])
      expect(parsePrefix4(bad), bad).toBeNull();
  });

  it('clears host bits of a prefix (or refuses them when strict); a bare address is /32', () => {
    expect(formatPrefix4(p('10.1.2.3/8'))).toBe('10.0.0.0/8');
    expect(parsePrefix4('10.1.2.3/8', true)).toBeNull();
    expect(formatPrefix4(p('192.0.2.7'))).toBe('192.0.2.7/32');
  });

  it('answers containment and nesting with numbers', () => {
    expect(prefix4Within(p('10.0.0.0/8'), p('10.1.0.0/16'))).toBe(true);
    expect(prefix4Within(p('10.1.0.0/16'), p('10.0.0.0/8'))).toBe(false);
    expect(prefix4Within(p('10.0.0.0/8'), p('11.0.0.0/16'))).toBe(false);
    expect(inAnyPrefix4([p('10.0.0.0/8'), p('192.0.2.7')], a('192.0.2.7'))).toBe(true);
    expect(inAnyPrefix4([p('10.0.0.0/8'), p('192.0.2.7')], a('192.0.2.8'))).toBe(false);
    expect(inAnyPrefix4([], a('10.0.0.1'))).toBe(false);
  });
});
