import { describe, expect, it } from 'vitest';
import { formatChap, formatPap, pppdString } from '../../src/auth/index.js';

const b = (...x: number[]) => new Uint8Array(x);

describe('pppd debug formatting', () => {
  it('escapes strings like pppd print_string', () => {
    expect(pppdString(new TextEncoder().encode('a"b\\c'))).toBe('"a\\"b\\\\c"');
    expect(pppdString(b(0x0a, 0x0d, 0x09, 0x00, 0x7f, 0xff))).toBe('"\\n\\r\\t\\000\\177\\377"');
  });

  it('never prints the PAP password', () => {
    const data = b(1, 0x61, 6, ...new TextEncoder().encode('s3cret'));
    const s = formatPap({ code: 1, id: 0x10, data });
    expect(s).toBe('AuthReq id=0x10 user="a" password=<hidden>');
    expect(s).not.toContain('s3cret');
  });

  it('prints trailing PAP bytes and malformed requests in hex', () => {
    expect(formatPap({ code: 2, id: 1, data: b(2, 0x6f, 0x6b, 0xaa) })).toBe(
      'AuthAck id=0x1 "ok" aa',
    );
    expect(formatPap({ code: 1, id: 1, data: b(9, 0x61) })).toBe('AuthReq id=0x1 09 61');
    expect(formatPap({ code: 3, id: 2, data: b() })).toBe('AuthNak id=0x2');
    expect(formatPap({ code: 7, id: 255, data: b(1) })).toBe('code=0x7 id=0xff 01');
  });

  it('prints CHAP packets like chap_print_pkt', () => {
    expect(formatChap({ code: 4, id: 3, data: new TextEncoder().encode('Access denied') })).toBe(
      'Failure id=0x3 "Access denied"',
    );
    expect(formatChap({ code: 3, id: 3, data: b() })).toBe('Success id=0x3 ""');
    expect(formatChap({ code: 1, id: 1, data: b(2, 0xab, 0xcd) })).toBe(
      'Challenge id=0x1 <abcd>, name = ""',
    );
    expect(formatChap({ code: 1, id: 1, data: b(5, 1) })).toBe('Challenge id=0x1');
    expect(formatChap({ code: 9, id: 1, data: b(1, 2) })).toBe('code=0x9 id=0x1 01 02');
  });
});

describe('secretsEqual', () => {
  it('compares secrets by their UTF-8 bytes', async () => {
    const { secretsEqual } = await import('../../src/auth/index.js');
    expect(secretsEqual('s3cret', 's3cret')).toBe(true);
    expect(secretsEqual('s3cret', 's3creT')).toBe(false);
    expect(secretsEqual('s3cret', 's3cret ')).toBe(false);
    expect(secretsEqual('', '')).toBe(true);
    expect(secretsEqual('é', 'e\u0301')).toBe(false);
  });
});
