/**
 * IPCP Configuration Option codecs (RFC 1332 §3, RFC 1877 §1): each option's
 * parse, emit and pppd debug format, defined once.
 */

import { readU16, readU32, u16Bytes, u32Bytes } from '../ppp/bytes.js';
import { formatIpv4 } from '../ppp/ipv4.js';
import { type OptionCodec, optionTable } from '../ppp/options.js';

/** IPCP option types. */
export const IpcpOpt = {
  /** RFC 1332 §3.1 IP-Addresses (deprecated; rejected). */
  IpAddresses: 1,
  /** RFC 1332 §3.2 IP-Compression-Protocol (VJ; rejected). */
  IpCompression: 2,
  /** RFC 1332 §3.3 IP-Address. */
  IpAddress: 3,
  /** RFC 1877 §1.1 Primary DNS Server Address. */
  PrimaryDns: 129,
  /** RFC 1877 §1.2 Primary NBNS Server Address (rejected). */
  PrimaryNbns: 130,
  /** RFC 1877 §1.3 Secondary DNS Server Address. */
  SecondaryDns: 131,
  /** RFC 1877 §1.4 Secondary NBNS Server Address (rejected). */
  SecondaryNbns: 132,
} as const;

/** Van Jacobson compressed TCP/IP protocol number in option 2 (RFC 1332 §4). */
export const IPCP_VJ = 0x002d;

/** A 4-octet IPv4 address option with a given pppd label. */
function addressCodec(type: number, label: string): OptionCodec<number> {
  return {
    type,
    name: label,
    parse: (d) => (d.length === 4 ? readU32(d, 0) : null),
    emit: (v) => u32Bytes(v),
    format: (v) => ({ text: `${label} ${formatIpv4(v)}`, used: 4 }),
  };
}

/** §3.3 IP-Address: `<addr 10.64.0.1>`. */
export const ipAddressCodec = addressCodec(IpcpOpt.IpAddress, 'addr');
/** RFC 1877 primary DNS: `<ms-dns1 10.64.0.53>`. */
export const primaryDnsCodec = addressCodec(IpcpOpt.PrimaryDns, 'ms-dns1');
/** RFC 1877 secondary DNS: `<ms-dns2 10.64.0.53>`. */
export const secondaryDnsCodec = addressCodec(IpcpOpt.SecondaryDns, 'ms-dns2');
/** RFC 1877 primary NBNS: `<ms-wins 10.0.0.1>`. */
export const primaryNbnsCodec = addressCodec(IpcpOpt.PrimaryNbns, 'ms-wins');
/** RFC 1877 secondary NBNS. */
export const secondaryNbnsCodec = addressCodec(IpcpOpt.SecondaryNbns, 'ms-wins');

/** §3.1 IP-Addresses (source, destination): `<addrs 10.0.0.1 10.0.0.2>`. */
export const ipAddressesCodec: OptionCodec<[number, number]> = {
  type: IpcpOpt.IpAddresses,
  name: 'addrs',
  parse: (d) => (d.length === 8 ? [readU32(d, 0), readU32(d, 4)] : null),
  emit: (v) => {
    const b = new Uint8Array(8);
    b.set(u32Bytes(v[0]), 0);
    b.set(u32Bytes(v[1]), 4);
    return b;
  },
  format: (v) => ({ text: `addrs ${formatIpv4(v[0])} ${formatIpv4(v[1])}`, used: 8 }),
};

/** §3.2 IP-Compression-Protocol: protocol, then protocol data (VJ: max-slot-id, comp-slot-id). */
export interface IpCompressionValue {
  protocol: number;
  rest: Uint8Array;
}

/** `<compress VJ 0f 01>`: the protocol by name, the rest as hex (pppd). */
export const ipCompressionCodec: OptionCodec<IpCompressionValue> = {
  type: IpcpOpt.IpCompression,
  name: 'compress',
  parse: (d) => (d.length >= 2 ? { protocol: readU16(d, 0), rest: d.subarray(2) } : null),
  emit: (v) => {
    const b = new Uint8Array(2 + v.rest.length);
    b.set(u16Bytes(v.protocol), 0);
    b.set(v.rest, 2);
    return b;
  },
  format: (v) => {
    const name =
      v.protocol === IPCP_VJ
        ? 'VJ'
        : v.protocol === 0x0037
          ? 'old-VJ'
          : `0x${v.protocol.toString(16)}`;
    return { text: `compress ${name}`, used: 2 };
  },
};

/** All IPCP option codecs. */
export const IPCP_OPTIONS = optionTable([
  ipAddressesCodec,
  ipCompressionCodec,
  ipAddressCodec,
  primaryDnsCodec,
  primaryNbnsCodec,
  secondaryDnsCodec,
  secondaryNbnsCodec,
]);
