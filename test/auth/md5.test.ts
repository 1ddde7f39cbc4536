import { describe, expect, it } from 'vitest';
import { md5 } from '../../src/auth/index.js';
import { fromHex, hex } from './capture.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('md5', () => {
  // RFC 1321 §A.5 test suite.
  const vectors: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    [
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
      'd174ab98d277d9f5a5611c2c9f419d9f',
    ],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      '57edf4a22be3c955ac49da2e2107b67a',
    ],
  ];
  for (const [input, digest] of vectors) {
    it(`matches the RFC 1321 vector for "${input.slice(0, 20)}"`, () => {
      expect(hex(md5(enc(input)))).toBe(digest);
    });
  }

  it('handles lengths around the 56/64-byte padding boundary', () => {
    // Known digests of 'a' repeated n times.
    expect(hex(md5(enc('a'.repeat(55))))).toBe('ef1772b6dff9a122358552954ad0df65');
    expect(hex(md5(enc('a'.repeat(56))))).toBe('3b0c8ac703f828b04c6c197006d17218');
    expect(hex(md5(enc('a'.repeat(64))))).toBe('014842d480b571495a4a0363793f7367');
  });

  it('verifies the CHAP response captured from pppd 2.4.9', () => {
    const input = new Uint8Array([
      0xc0,
      ...enc('s3cret'),
      ...fromHex('ec3ea8cbaf862afe64f0e64aeb233339'),
    ]);
    expect(hex(md5(input))).toBe('d93e58505cfde6159051556398b62b4e');
  });
});
