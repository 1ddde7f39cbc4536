import { describe, expect, it } from 'vitest';
import {
  formatIp,
  formatIpv4,
  formatIpv6,
  formatPrefix4,
  hostBitsSet,
  inAnyPrefix4,
  ipv4Bytes,
  ipv4FromBytes,
  linkLocalBytes,
  networkBytes,
  parseIp,
  parseIpPrefix,
  parseIpv4,
  parseIpv6,
  parsePrefix4,
  prefix4Contains,
  prefix4Within,
  prefixContains,
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

describe('wire/ip: either family as bytes (the parser tun/addr and config/net now use)', () => {
  it('refuses leading zeros in a dotted quad, as inet_pton does (010 could be octal)', () => {
    expect(parseIpv4('010.0.0.1')).toBeNull();
    expect(parseIpv4('1.2.3.04')).toBeNull();
    expect(parseIpv4('0.0.0.0')).toBe(0);
  });

  it('parses IPv6 text (compressed, full, with a dotted-quad tail) and formats it per RFC 5952', () => {
    const six = (t: string) => {
      const b = parseIpv6(t);
      if (b === null) throw new Error(`test address ${t}`);
      return formatIpv6(b);
    };
    expect(six('fe80::1')).toBe('fe80::1');
    expect(six('::')).toBe('::');
    expect(six('2001:DB8::1')).toBe('2001:db8::1');
    expect(six('::ffff:1.2.3.4')).toBe('::ffff:102:304');
    expect(six('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
    expect(six('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(six('1:0:0:2::')).toBe('1:0:0:2::');
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      ':1::',
      '1::2::3',
      '00001::',
      'fe80::1%eth0',
      '1.2.3.4',
      'g::1',
      '',
    ])
      expect(parseIpv6(bad), bad).toBeNull();
  });

  it('gives either family as bytes, prefixes with their length, and containment across bytes', () => {
    expect(parseIp('10.0.0.1')).toEqual({ family: 4, bytes: Uint8Array.of(10, 0, 0, 1) });
    expect(parseIp('::1')?.family).toBe(6);
    expect(parseIp('nope')).toBeNull();
    const p6 = parseIpPrefix('fd00::/8');
    expect(p6?.prefixLen).toBe(8);
    expect(parseIpPrefix('10.0.0.1')?.prefixLen).toBe(32);
    expect(parseIpPrefix('10.0.0.0/33')).toBeNull();
    expect(parseIpPrefix('::/129')).toBeNull();
    const host = parseIpPrefix('10.0.0.1/24');
    expect(host && hostBitsSet(host)).toBe(true);
    expect(host && formatIp(networkBytes(host.bytes, host.prefixLen))).toBe('10.0.0.0');
    const fd = parseIp('fd12::1');
    expect(p6 && fd && prefixContains(p6, fd)).toBe(true);
    const v4 = parseIp('10.0.0.1');
    expect(p6 && v4 && prefixContains(p6, v4)).toBe(false);
    expect(formatIp(ipv4Bytes(0x0a400001))).toBe('10.64.0.1');
    expect(ipv4FromBytes(Uint8Array.of(0, 10, 64, 0, 1), 1)).toBe(0x0a400001);
    expect(formatIp(Uint8Array.of(1, 2))).toBe('<0102>');
  });

  it('makes the fe80::/64 link-local address of an 8-octet interface identifier', () => {
    const b = linkLocalBytes(Uint8Array.of(0x70, 0x4e, 0xdd, 0xcc, 0xe2, 0x96, 0x10, 0x78));
    expect(b && formatIpv6(b)).toBe('fe80::704e:ddcc:e296:1078');
    expect(linkLocalBytes(new Uint8Array(7))).toBeNull();
  });
});
