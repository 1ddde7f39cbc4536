import { describe, expect, it } from 'vitest';
import { ClaimReader, MAX_CLAIM_LINE, parseClaims } from '../../src/gateway/claims.js';
import { claimLine } from '../../src/transport/streamlocal.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PPP = Uint8Array.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]);

describe('ClaimReader', () => {
  it('takes the claim line the client writes off the front, split anywhere, and passes PPP on', () => {
    const bytes = new Uint8Array([...enc(claimLine(['192.168.100.0/24', '10.9.0.0/16'])), ...PPP]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = new ClaimReader();
      const out = [...r.feed(bytes.subarray(0, cut)), ...r.feed(bytes.subarray(cut))];
      expect(out).toEqual([...PPP]);
      expect(r.result).toEqual({ routes: ['192.168.100.0/24', '10.9.0.0/16'], error: null });
    }
  });

  it('passes a stream that starts with PPP through untouched, at once', () => {
    const r = new ClaimReader();
    expect(r.feed(PPP)).toBe(PPP);
    expect(r.result).toEqual({ routes: [], error: null });
    expect(r.feed(enc('ts-vpn claim 10.0.0.0/8\n'))).toEqual(enc('ts-vpn claim 10.0.0.0/8\n'));
  });

  it('grants nothing for a bad or over-long line and hands its bytes to PPP', () => {
    const bad = new ClaimReader();
    const line = enc('ts-vpn claim 10.0.0.1/8\x1b[2K\n');
    expect(bad.feed(line)).toEqual(line);
    expect(bad.result?.routes).toEqual([]);
    expect(bad.result?.error).toMatch(/is not an IPv4 prefix/);
    const long = new ClaimReader();
    const big = enc(`ts-vpn claim ${'1'.repeat(MAX_CLAIM_LINE + 10)}`);
    expect(long.feed(big)).toEqual(big);
    expect(long.result?.error).toMatch(/longer than/);
  });

  it('parses prefixes strictly (host bits set, IPv6, words refused)', () => {
    expect(parseClaims(' 10.1.0.0/16  192.168.1.7 ')).toEqual({
      routes: ['10.1.0.0/16', '192.168.1.7/32'],
      error: null,
    });
    for (const w of ['10.1.0.1/16', 'fd00::/8', 'everything', '10.0.0.0/33'])
      expect(parseClaims(w).error).not.toBeNull();
  });
});
