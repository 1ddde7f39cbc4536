/** Golden vectors for every LCP option codec: bytes → value → text, and value → bytes. */

import { describe, expect, it } from 'vitest';
import {
  gsoOption,
  gsoOptionValue,
  LCP_OPTIONS,
  LcpOpt,
  TSVPN_OUI,
  vendorCodec,
} from '../../src/lcp/options.js';
import { fromHex } from '../../src/ppp/bytes.js';
import { formatOption } from '../../src/ppp/options.js';

const VECTORS: [string, number, string, string][] = [
  // name, type, data hex, pppd text
  ['mru', LcpOpt.MRU, '01 28', '<mru 296>'],
  ['asyncmap', LcpOpt.ACCM, '00 0a 00 00', '<asyncmap 0xa0000>'],
  ['asyncmap 0', LcpOpt.ACCM, '00 00 00 00', '<asyncmap 0x0>'],
  ['auth pap', LcpOpt.AuthProtocol, 'c0 23', '<auth pap>'],
  ['auth chap', LcpOpt.AuthProtocol, 'c2 23 05', '<auth chap MD5>'],
  ['auth chap ms-v2', LcpOpt.AuthProtocol, 'c2 23 81', '<auth chap MS-v2>'],
  ['auth eap', LcpOpt.AuthProtocol, 'c2 27', '<auth eap>'],
  ['magic', LcpOpt.MagicNumber, '0d 08 17 0b', '<magic 0xd08170b>'],
  ['pcomp', LcpOpt.PFC, '', '<pcomp>'],
  ['accomp', LcpOpt.ACFC, '', '<accomp>'],
  ['quality', LcpOpt.QualityProtocol, 'c0 25 00 00 00 64', '<quality lqr 00 00 00 64>'],
  ['callback', LcpOpt.Callback, '06', '<callback CBCP>'],
  ['mrru', LcpOpt.MRRU, '05 dc', '<mrru 1500>'],
  ['vendor gso', LcpOpt.Vendor, '02 54 56 01 ff ff', '<vendor 02:54:56 kind 1 gso 65535>'],
  ['vendor gso 1500', LcpOpt.Vendor, '02 54 56 01 05 dc', '<vendor 02:54:56 kind 1 gso 1500>'],
  ['vendor other', LcpOpt.Vendor, '00 00 0c 03 aa bb', '<vendor 00:00:0c kind 3 aa bb>'],
  ['vendor no value', LcpOpt.Vendor, '00 e0 fc 07', '<vendor 00:e0:fc kind 7>'],
  // Our OUI and kind with a value that is not 2 octets: printed as a generic vendor option.
  ['vendor gso odd', LcpOpt.Vendor, '02 54 56 01 ff', '<vendor 02:54:56 kind 1 ff>'],
];

describe('LCP option codecs', () => {
  for (const [name, type, hex, text] of VECTORS) {
    it(`${name}: parse, print and emit`, () => {
      const data = fromHex(hex);
      const codec = LCP_OPTIONS.get(type)!;
      const value = codec.parse(data);
      expect(value).not.toBeNull();
      expect(formatOption(LCP_OPTIONS, type, data)).toBe(` ${text}`);
      if (name !== 'quality') expect(codec.emit(value)).toEqual(data);
    });
  }

  it('prints a malformed or unknown option as hex like pppd', () => {
    expect(formatOption(LCP_OPTIONS, LcpOpt.MRU, fromHex('05'))).toBe(' < 01 03 05>');
    expect(formatOption(LCP_OPTIONS, 0x42, fromHex('aa bb'))).toBe(' < 42 04 aa bb>');
    expect(formatOption(LCP_OPTIONS, LcpOpt.PFC, fromHex('00'))).toBe(' < 07 03 00>');
    // RFC 2153 §2.1: Length >= 6 (OUI and Kind).
    expect(formatOption(LCP_OPTIONS, LcpOpt.Vendor, fromHex('02 54 56'))).toBe(
      ' < 00 05 02 54 56>',
    );
  });

  it('recognises only our OUI 02:54:56 (locally administered) with kind 1 and a 2-octet value', () => {
    expect(TSVPN_OUI >>> 16).toBe(0x02);
    expect((TSVPN_OUI >>> 16) & 0x02).toBe(0x02); // U/L bit: locally administered
    expect((TSVPN_OUI >>> 16) & 0x01).toBe(0); // individual, not group
    expect(gsoOptionValue(fromHex('02 54 56 01 ff ff'))).toBe(65535);
    expect(gsoOptionValue(fromHex('02 54 56 01 ff'))).toBe(-1);
    expect(gsoOptionValue(fromHex('02 54 56 02 ff ff'))).toBe(-1);
    expect(gsoOptionValue(fromHex('02 54 57 01 ff ff'))).toBe(-1);
    expect(gsoOptionValue(fromHex(''))).toBe(-1);
    expect(vendorCodec.emit(gsoOption(65535))).toEqual(fromHex('02 54 56 01 ff ff'));
  });
});
