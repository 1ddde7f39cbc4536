/**
 * Addresses and prefixes in the byte form netlink wants, and back: the TUN floor's
 * strict face over the one parser (src/wire/ip.ts). Anything malformed here is a local
 * misuse, so these throw TunError INVALID_ARGUMENT naming the value.
 */
import {
  formatIp as formatIpBytes,
  hostBitsSet,
  linkLocalBytes,
  networkBytes,
  parseIp as parseIpBytes,
  parseIpPrefix,
  prefixContains,
} from '../wire/ip.js';
import { TunError } from './errors.js';

export interface IpAddr {
  family: 4 | 6;
  bytes: Buffer;
}

export interface Cidr extends IpAddr {
  prefixLen: number;
}

function bad(what: string, value: string, why: string): TunError {
  return new TunError('INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(value)}: ${why}`);
}

/** "10.0.0.1" or "fe80::1" → bytes. A zone suffix (`%dev`) is rejected. */
export function parseIp(value: string): IpAddr {
  const ip = parseIpBytes(value);
  if (ip === null) throw bad('IP address', value, 'not an IPv4 or IPv6 address');
  return { family: ip.family, bytes: Buffer.from(ip.bytes) };
}

/** "10.1.0.0/16", "::/0", or a bare address (host prefix). Host bits must be zero. */
export function parseCidr(value: string): Cidr {
  const slash = value.indexOf('/');
  const ip = parseIp(slash < 0 ? value : value.slice(0, slash));
  const p = parseIpPrefix(value);
  if (p === null) throw bad('prefix', value, `prefix length must be 0..${ip.bytes.length * 8}`);
  if (hostBitsSet(p))
    throw bad(
      'prefix',
      value,
      `host bits set (network is ${formatCidr({ bytes: networkBytes(p.bytes, p.prefixLen), prefixLen: p.prefixLen })})`,
    );
  return { ...ip, prefixLen: p.prefixLen };
}

export function formatIp(bytes: Uint8Array): string {
  return formatIpBytes(bytes);
}

export function formatCidr(c: { bytes: Uint8Array; prefixLen: number }): string {
  return `${formatIpBytes(c.bytes)}/${c.prefixLen}`;
}

/** fe80::/64 link-local address from a 64-bit IPv6CP interface identifier (RFC 5072 §5). */
export function linkLocalFromInterfaceId(id: Uint8Array): string {
  const b = linkLocalBytes(id);
  if (b === null)
    throw new TunError(
      'INVALID_ARGUMENT',
      `interface identifier must be 8 bytes, got ${id.length}`,
    );
  return formatIpBytes(b);
}

/** True when `addr` lies inside `cidr` (same family). */
export function cidrContains(cidr: string, addr: string): boolean {
  return prefixContains(parseCidr(cidr), parseIp(addr));
}
