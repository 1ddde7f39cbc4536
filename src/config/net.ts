/**
 * Address and prefix checks for the config (IPv4 and IPv6), with the messages a
 * peer.yaml / server.yaml author reads; the parsing itself is src/wire/ip.ts.
 */
import { formatIpv4, formatIpv6, parseIpv4 as parseIpv4Number, parseIpv6 } from '../wire/ip.js';

/** A validated prefix: canonical text, family and the network as a big integer. */
export interface Cidr {
  text: string;
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

export type Parsed<T> = { value: T } | { error: string };

/** Strict dotted-quad IPv4 (no leading zeros, no prefix). */
export function parseIpv4(s: string): Parsed<string> {
  const v = exactIpv4(s);
  if (v === null) return { error: `expected an IPv4 address like 10.0.0.1, got "${s}"` };
  return { value: formatIpv4(v) };
}

/** The one IPv4 parser, without its tolerance for spaces around the text (a YAML value is exact). */
function exactIpv4(s: string): number | null {
  return s.trim() === s ? parseIpv4Number(s) : null;
}

function bytesToBig(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bigToBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export function parseIp(s: string): Parsed<{ text: string; family: 4 | 6; value: bigint }> {
  const v4 = exactIpv4(s);
  if (v4 !== null) return { value: { text: formatIpv4(v4), family: 4, value: BigInt(v4) } };
  const v6 = s.includes(':') ? parseIpv6(s) : null;
  if (v6 !== null) return { value: { text: formatIpv6(v6), family: 6, value: bytesToBig(v6) } };
  return { error: `expected an IP address, got "${s}"` };
}

/** Parses `addr/len`, rejecting bad prefixes and host bits (with the corrected prefix as a hint). */
export function parseCidr(s: string, family?: 4 | 6): Parsed<Cidr> {
  const slash = s.indexOf('/');
  const example = family === 6 ? 'fd00:1::/64' : '10.1.0.0/16';
  if (slash < 0) {
    const ip = parseIp(s);
    if ('value' in ip) {
      const bits = ip.value.family === 4 ? 32 : 128;
      return {
        error: `expected a prefix like ${example}, got the address "${s}"; for a single host write ${ip.value.text}/${bits}`,
      };
    }
    return { error: `expected a prefix like ${example}, got "${s}"` };
  }
  const addrText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  const ip = parseIp(addrText);
  if ('error' in ip)
    return {
      error: `expected a prefix like ${example}, got "${s}" ("${addrText}" is not an IP address)`,
    };
  const bits = ip.value.family === 4 ? 32 : 128;
  if (family !== undefined && ip.value.family !== family)
    return { error: `expected an IPv${family} prefix like ${example}, got "${s}"` };
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) {
    return {
      error: `"${s}" has an impossible prefix length /${lenText}; IPv${ip.value.family} prefix lengths are 0-${bits}`,
    };
  }
  const prefix = Number(lenText);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = ip.value.value & ~hostMask;
  const netText = bigToText(network, ip.value.family);
  if ((ip.value.value & hostMask) !== 0n) {
    return {
      error: `"${s}" has host bits set; the network is ${netText}/${prefix} (or write ${ip.value.text}/${bits} for a single host)`,
    };
  }
  return { value: { text: `${netText}/${prefix}`, family: ip.value.family, network, prefix } };
}

export function bigToText(v: bigint, family: 4 | 6): string {
  return family === 4 ? formatIpv4(Number(v)) : formatIpv6(bigToBytes(v, 16));
}

function bitsOf(c: Cidr): number {
  return c.family === 4 ? 32 : 128;
}

/** True when `outer` contains the whole of `inner` (same family). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const shift = BigInt(bitsOf(outer) - outer.prefix);
  return inner.network >> shift === outer.network >> shift;
}

export function cidrContainsAddress(c: Cidr, addr: { family: 4 | 6; value: bigint }): boolean {
  if (c.family !== addr.family) return false;
  const shift = BigInt(bitsOf(c) - c.prefix);
  return addr.value >> shift === c.network >> shift;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Prefixes no tunnel route may cover: what each is, for the error message. */
const SPECIAL: [string, string][] = [
  ['127.0.0.0/8', 'loopback'],
  ['224.0.0.0/4', 'multicast'],
  ['169.254.0.0/16', 'link-local'],
  ['::1/128', 'loopback'],
  ['ff00::/8', 'multicast'],
  ['fe80::/10', 'link-local'],
];
const SPECIAL_CIDRS = SPECIAL.map(([t, what]) => ({
  cidr: (parseCidr(t) as { value: Cidr }).value,
  what,
}));

/** Names the special range a route overlaps (loopback, multicast, link-local), if any. */
export function specialRange(c: Cidr): string | null {
  if (c.prefix === 0) return null; // the default route is handled separately
  for (const s of SPECIAL_CIDRS) if (cidrOverlaps(c, s.cidr)) return `${s.what} (${s.cidr.text})`;
  return null;
}

/** RFC 1918 private and RFC 6598 shared address space: the default set of PPP addresses we accept. */
export const PRIVATE_IPV4_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
] as const;

export function ipv4InAny(addr: string, cidrs: readonly string[]): boolean {
  const ip = parseIp(addr);
  if ('error' in ip) return false;
  return cidrs.some((t) => {
    const c = parseCidr(t);
    return 'value' in c && cidrContainsAddress(c.value, ip.value);
  });
}
