/** IPv6CP Configuration Option codecs (RFC 5072 §4), each defined once. */

import { readU16, u16Bytes } from '../ppp/bytes.js';
import { type OptionCodec, optionTable } from '../ppp/options.js';
import { formatLinkLocalPppd } from './ipv6.js';

/** IPv6CP option types. */
export const Ipv6cpOpt = {
  /** RFC 5072 §4.1 Interface-Identifier. */
  InterfaceId: 1,
  /** RFC 5072 §4.2 IPv6-Compression-Protocol (rejected). */
  Compression: 2,
} as const;

/** §4.1 Interface-Identifier, 8 octets, printed as pppd's `addr fe80::…`. */
export const interfaceIdCodec: OptionCodec<Uint8Array> = {
  type: Ipv6cpOpt.InterfaceId,
  name: 'addr',
  parse: (d) => (d.length === 8 ? d : null),
  emit: (v) => Uint8Array.from(v),
  format: (v) => ({ text: `addr ${formatLinkLocalPppd(v)}`, used: 8 }),
};

/** §4.2 IPv6-Compression-Protocol. */
export const ipv6CompressionCodec: OptionCodec<number> = {
  type: Ipv6cpOpt.Compression,
  name: 'compress',
  parse: (d) => (d.length >= 2 ? readU16(d, 0) : null),
  emit: (v) => u16Bytes(v),
  format: (v) => ({ text: `compress 0x${v.toString(16)}`, used: 2 }),
};

/** All IPv6CP option codecs. */
export const IPV6CP_OPTIONS = optionTable([interfaceIdCodec, ipv6CompressionCodec]);
