/** Golden vectors for the IPCP, IPv6CP and CCP option codecs. */

import { describe, expect, it } from 'vitest';
import { IPCP_OPTIONS } from '../../src/ncp/ipcp-options.js';
import { formatLinkLocal } from '../../src/ncp/ipv6.js';
import { IPV6CP_OPTIONS } from '../../src/ncp/ipv6cp-options.js';
import { fromHex } from '../../src/ppp/bytes.js';
import { CCP_OPTIONS } from '../../src/ppp/ccp.js';
import { formatOption, type OptionTable } from '../../src/ppp/options.js';

const VECTORS: [string, OptionTable, number, string, string][] = [
  ['addr', IPCP_OPTIONS, 3, '0a 40 00 01', '<addr 10.64.0.1>'],
  ['addr 0', IPCP_OPTIONS, 3, '00 00 00 00', '<addr 0.0.0.0>'],
  ['ms-dns1', IPCP_OPTIONS, 129, '0a 40 00 35', '<ms-dns1 10.64.0.53>'],
  ['ms-dns2', IPCP_OPTIONS, 131, '0a 40 00 35', '<ms-dns2 10.64.0.53>'],
  ['ms-wins', IPCP_OPTIONS, 130, '0a 00 00 01', '<ms-wins 10.0.0.1>'],
  ['addrs', IPCP_OPTIONS, 1, '0a 00 00 01 0a 00 00 02', '<addrs 10.0.0.1 10.0.0.2>'],
  ['compress VJ', IPCP_OPTIONS, 2, '00 2d 0f 01', '<compress VJ 0f 01>'],
  ['ipv6 addr', IPV6CP_OPTIONS, 1, '70 4e dd cc e2 96 10 78', '<addr fe80::704e:ddcc:e296:1078>'],
  [
    'ipv6 addr padded',
    IPV6CP_OPTIONS,
    1,
    '00 01 00 02 00 03 00 04',
    '<addr fe80::0001:0002:0003:0004>',
  ],
  ['deflate', CCP_OPTIONS, 26, '78 00', '<deflate 15>'],
  ['deflate(old#)', CCP_OPTIONS, 24, '78 00', '<deflate(old#) 15>'],
  ['bsd', CCP_OPTIONS, 21, '2f', '<bsd v1 15>'],
];

describe('NCP option codecs', () => {
  for (const [name, table, type, hex, text] of VECTORS) {
    it(`${name}: parse, print and emit`, () => {
      const data = fromHex(hex);
      const codec = table.get(type)!;
      const v = codec.parse(data);
      expect(v).not.toBeNull();
      expect(codec.emit(v)).toEqual(data);
      expect(formatOption(table, type, data)).toBe(` ${text}`);
    });
  }

  it('formats link-local addresses canonically for events', () => {
    expect(formatLinkLocal(fromHex('00 00 00 00 00 00 00 01'))).toBe('fe80::1');
    expect(formatLinkLocal(fromHex('70 4e dd cc e2 96 10 78'))).toBe('fe80::704e:ddcc:e296:1078');
  });
});
