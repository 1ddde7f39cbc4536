/**
 * MD5 (RFC 1321) in pure TypeScript, for CHAP-MD5 (RFC 1994 §4.1).
 *
 * CHAP hashes a few dozen bytes per authentication, so clarity wins over
 * speed here; no `node:crypto` so the auth core stays sans-IO and portable.
 */

/** Per-round left-rotate amounts (RFC 1321 §3.4). */
const S = new Uint8Array([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
  20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6,
  10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);

/** T[i] = floor(abs(sin(i + 1)) * 2^32) (RFC 1321 §3.4). */
const T = new Uint32Array(64);
for (let i = 0; i < 64; i++) T[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) >>> 0;

/** Returns the 16-byte MD5 digest of `data`. */
export function md5(data: Uint8Array): Uint8Array {
  const len = data.length;
  // Pad: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little endian.
  const padded = new Uint8Array((((len + 8) >>> 6) + 1) << 6);
  padded.set(data);
  padded[len] = 0x80;
  const bitLenLo = (len << 3) >>> 0;
  const bitLenHi = Math.floor(len / 0x20000000) >>> 0;
  const end = padded.length;
  padded[end - 8] = bitLenLo & 0xff;
  padded[end - 7] = (bitLenLo >>> 8) & 0xff;
  padded[end - 6] = (bitLenLo >>> 16) & 0xff;
  padded[end - 5] = (bitLenLo >>> 24) & 0xff;
  padded[end - 4] = bitLenHi & 0xff;
  padded[end - 3] = (bitLenHi >>> 8) & 0xff;
  padded[end - 2] = (bitLenHi >>> 16) & 0xff;
  padded[end - 1] = (bitLenHi >>> 24) & 0xff;

  let a0 = 0x67452301;
  let b0 = 0xefcdab89;
  let c0 = 0x98badcfe;
  let d0 = 0x10325476;
  const m = new Uint32Array(16);

  for (let off = 0; off < end; off += 64) {
    for (let j = 0; j < 16; j++) {
      const p = off + j * 4;
      m[j] =
        (padded[p] | (padded[p + 1] << 8) | (padded[p + 2] << 16) | (padded[p + 3] << 24)) >>> 0;
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + T[i] + m[g]) >>> 0;
      const s = S[i];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }

  const out = new Uint8Array(16);
  const words = [a0, b0, c0, d0];
  for (let w = 0; w < 4; w++) {
    const v = words[w];
    out[w * 4] = v & 0xff;
    out[w * 4 + 1] = (v >>> 8) & 0xff;
    out[w * 4 + 2] = (v >>> 16) & 0xff;
    out[w * 4 + 3] = (v >>> 24) & 0xff;
  }
  return out;
}
