/**
 * IPv4/IPv6 address and prefix parsing to the byte form netlink wants, and back.
 * Strict: anything malformed is a local misuse (TunError INVALID_ARGUMENT).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { TunError } from './errors.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

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
  if (isIPv4(value)) return { family: 4, bytes: Buffer.from(value.split('.').map(Number)) };
  if (isIPv6(value) && !value.includes('%')) return { family: 6, bytes: parseIpv6(value) };
  throw bad('IP address', value, 'not an IPv4 or IPv6 address');
}

function parseIpv6(value: string): Buffer {
  let text = value;
  const out = Buffer.alloc(16);
  // Trailing dotted quad (::ffff:1.2.3.4) → two hex groups.
  const dot = text.lastIndexOf(':');
  const tail = text.slice(dot + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    text = `${text.slice(0, dot + 1)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [left, right] = text.includes('::') ? text.split('::') : [text, null];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === null ? l : [...l, ...new Array(8 - l.length - r.length).fill('0'), ...r];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i], 16), i * 2);
  return out;
}

/** "10.1.0.0/16", "::/0", or a bare address (host prefix). Host bits must be zero. */
export function parseCidr(value: string): Cidr {
  const slash = value.indexOf('/');
  const ip = parseIp(slash < 0 ? value : value.slice(0, slash));
  const max = ip.family === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max)
    throw bad('prefix', value, `prefix length must be 0..${max}`);
  const prefixLen = Number(lenText);
  for (let bit = prefixLen; bit < max; bit++) {
    if (ip.bytes[bit >> 3] & (0x80 >> (bit & 7)))
      throw bad(
        'prefix',
        value,
        `host bits set (network is ${formatCidr({ ...ip, bytes: maskBytes(ip.bytes, prefixLen), prefixLen })})`,
      );
  }
  return { ...ip, prefixLen };
}

function maskBytes(bytes: Buffer, prefixLen: number): Buffer {
  const out = Buffer.from(bytes);
  for (let bit = prefixLen; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return `<${Buffer.from(bytes).toString('hex')}>`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatCidr(c: { bytes: Uint8Array; prefixLen: number }): string {
  return `${formatIp(c.bytes)}/${c.prefixLen}`;
}

/** fe80::/64 link-local address from a 64-bit IPv6CP interface identifier (RFC 5072 §5). */
export function linkLocalFromInterfaceId(id: Uint8Array): string {
  if (id.length !== 8)
    throw new TunError(
      'INVALID_ARGUMENT',
      `interface identifier must be 8 bytes, got ${id.length}`,
    );
  const b = Buffer.alloc(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b.set(id, 8);
  return formatIp(b);
}

/** True when `addr` lies inside `cidr` (same family). */
export function cidrContains(cidr: string, addr: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(addr);
  if (a.family !== c.family) return false;
  for (let bit = 0; bit < c.prefixLen; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((a.bytes[bit >> 3] & m) !== (c.bytes[bit >> 3] & m)) return false;
  }
  return true;
}
