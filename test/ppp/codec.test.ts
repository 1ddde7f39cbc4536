/** Golden vectors for the control packet and option TLV codecs, and pppd printing helpers. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/ppp/bytes.js';
import { dumpTail, quoteString } from '../../src/ppp/format.js';
import { emitOptions, parseOptions } from '../../src/ppp/options.js';
import { emitControlPacket, parseControlPacket } from '../../src/ppp/packet.js';
import { isValidProtocol, protocolLongName, protocolName } from '../../src/ppp/protocols.js';

describe('control packet codec (RFC 1661 §5)', () => {
  it('parses and emits a Terminate-Request', () => {
    const bytes = fromHex('05 02 00 10 55 73 65 72 20 72 65 71 75 65 73 74');
    const r = parseControlPacket(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet.code).toBe(5);
    expect(r.packet.id).toBe(2);
    expect(new TextDecoder().decode(r.packet.data)).toBe('User request');
    expect(emitControlPacket(5, 2, r.packet.data)).toEqual(bytes);
  });

  it('ignores padding beyond Length', () => {
    const r = parseControlPacket(fromHex('06 02 00 04 00 00 00'));
    expect(r.ok && r.packet.data.length).toBe(0);
  });

  it('rejects a short header, a Length below 4, and a truncated packet', () => {
    expect(parseControlPacket(fromHex('01 01 00'))).toEqual({ ok: false, error: 'short-header' });
    expect(parseControlPacket(fromHex('01 01 00 03'))).toEqual({ ok: false, error: 'bad-length' });
    expect(parseControlPacket(fromHex('01 01 00 08 01'))).toEqual({
      ok: false,
      error: 'truncated',
    });
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void parseControlPacket(b)));
  });
});

describe('option TLVs (RFC 1661 §6)', () => {
  it('splits and joins options', () => {
    const field = fromHex('02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02');
    const opts = parseOptions(field)!;
    expect(opts.map((o) => [o.type, o.data.length])).toEqual([
      [2, 4],
      [5, 4],
      [7, 0],
      [8, 0],
    ]);
    expect(emitOptions(opts)).toEqual(field);
  });

  it('returns null for a length below 2 or past the end', () => {
    expect(parseOptions(fromHex('01 01'))).toBeNull();
    expect(parseOptions(fromHex('01 05 00'))).toBeNull();
    expect(parseOptions(fromHex('07'))).toBeNull();
    expect(parseOptions(new Uint8Array(0))).toEqual([]);
  });

  it('never throws, and what parses re-emits identically', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const o = parseOptions(b);
        if (o !== null) expect(emitOptions(o)).toEqual(b);
      }),
    );
  });
});

describe('pppd printing helpers', () => {
  it('quotes strings like pppd', () => {
    expect(quoteString(Uint8Array.from([0x41, 0x22, 0x5c, 0x0a, 0x01]))).toBe('"A\\"\\\\\\n\\001"');
  });
  it('dumps at most 32 bytes then ...', () => {
    expect(dumpTail(new Uint8Array(33), 0)).toBe(`${' 00'.repeat(32)} ...`);
    expect(dumpTail(Uint8Array.of(0x80, 0xfd), 0)).toBe(' 80 fd');
  });
  it('names protocols', () => {
    expect(protocolName(0x8057)).toBe('IPV6CP');
    expect(protocolName(0x1234)).toBe('0x1234');
    expect(protocolLongName(0x80fd)).toBe('Compression Control Protocol');
    expect(isValidProtocol(0xc021)).toBe(true);
    expect(isValidProtocol(0xc020)).toBe(false);
  });
});
