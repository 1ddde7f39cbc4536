/**
 * IP addresses and prefixes: the one address parser of the code base. IPv4 as
 * numbers (IPCP, pools, matchers), either family as bytes (netlink, IPv6CP).
 * Pure (no I/O, no Node), never throws: a bad text gives null and the caller
 * says which field was wrong in its own error. Checks take numbers, so an
 * address parsed once (config, IPCP option) is compared without parsing again.
 */

/** An IPv4 prefix: network (host bits zero), length and mask, as numbers. */
export interface Prefix4 {
  net: number;
  bits: number;
  mask: number;
}

/**
 * `10.64.0.1` → 0x0a400001, or null if not a dotted quad: four decimal parts 0-255
 * without leading zeros (`010` could mean octal to inet_aton; inet_pton refuses it too).
 * Spaces around it are ignored.
 */
export function parseIpv4(text: string): number | null {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(
    text.trim(),
  );
  if (m === null) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

/** 0x0a400001 → `10.64.0.1`. */
export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** The netmask of a prefix length 0-32. */
export function mask4(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * `a.b.c.d/n` (a bare address is /32) → the prefix, host bits cleared; null when
 * not an IPv4 prefix. `strict`: null when host bits are set (`10.0.0.1/24`).
 */
export function parsePrefix4(text: string, strict = false): Prefix4 | null {
  const slash = text.indexOf('/');
  const addr = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  const bitsText = slash < 0 ? '32' : text.slice(slash + 1).trim();
  const bits = /^\d{1,2}$/.test(bitsText) ? Number(bitsText) : -1;
  if (addr === null || bits < 0 || bits > 32) return null;
  const mask = mask4(bits);
  const net = (addr & mask) >>> 0;
  if (strict && net !== addr) return null;
  return { net, bits, mask };
}

/** `10.0.0.0/8`-style text of a prefix. */
export function formatPrefix4(p: Prefix4): string {
  return `${formatIpv4(p.net)}/${p.bits}`;
}

/** True when address `addr` lies in prefix `p`. */
export function prefix4Contains(p: Prefix4, addr: number): boolean {
  return (addr & p.mask) >>> 0 === p.net;
}

/** True when prefix `inner` lies entirely inside prefix `outer`. */
export function prefix4Within(outer: Prefix4, inner: Prefix4): boolean {
  return inner.bits >= outer.bits && prefix4Contains(outer, inner.net);
}

/** True when `addr` lies in one of `prefixes`. */
export function inAnyPrefix4(prefixes: readonly Prefix4[], addr: number): boolean {
  for (const p of prefixes) if (prefix4Contains(p, addr)) return true;
  return false;
}

// ---- addresses as bytes, either family (what netlink and IPv6CP carry) ----

/** An IPv4 (4 octets) or IPv6 (16 octets) address in network byte order. */
export interface IpBytes {
  family: 4 | 6;
  bytes: Uint8Array;
}

/** An address and a prefix length (host bits are the caller's to check: {@link hostBitsSet}). */
export interface IpPrefix extends IpBytes {
  prefixLen: number;
}

/** The 4 octets of an IPv4 address number. */
export function ipv4Bytes(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** The IPv4 address number in 4 octets of `b` from `at`. */
export function ipv4FromBytes(b: Uint8Array, at = 0): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * RFC 4291 §2.2 text (`fe80::1`, `2001:db8::1`, `::ffff:192.0.2.1`) → 16 octets, or null.
 * No zone (`%eth0`), no prefix.
 */
export function parseIpv6(text: string): Uint8Array | null {
  let groups: string[];
  const parts = text.split('::');
  if (parts.length > 2) return null;
  const left = parts[0] === '' ? [] : parts[0].split(':');
  const right = parts.length === 2 && parts[1] !== '' ? parts[1].split(':') : [];
  const tail: number[] = [];
  const last = parts.length === 2 ? right : left;
  if (last.length > 0 && last[last.length - 1].includes('.')) {
    const v4 = parseIpv4(last.pop() as string);
    if (v4 === null) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
  }
  const count = left.length + right.length + tail.length;
  if (parts.length === 2) {
    if (count > 7) return null;
    groups = [...left, ...new Array<string>(8 - count).fill('0'), ...right];
  } else {
    if (count !== 8) return null;
    groups = left;
  }
  const out = new Uint8Array(16);
  const words = [
    ...groups.map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? Number.parseInt(g, 16) : -1)),
    ...tail,
  ];
  for (let i = 0; i < 8; i++) {
    if (words[i] < 0) return null;
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/** An IPv4 or IPv6 address in bytes, or null when `text` is neither. */
export function parseIp(text: string): IpBytes | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, bytes: ipv4Bytes(v4) };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 === null ? null : { family: 6, bytes: v6 };
}

/**
 * `addr/len` (a bare address is a host prefix: /32, /128) → address and length, or null
 * when the address or the length (0-32, 0-128) is bad. Host bits are not checked.
 */
export function parseIpPrefix(text: string): IpPrefix | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const max = ip.bytes.length * 8;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return null;
  return { ...ip, prefixLen: Number(lenText) };
}

/** `bytes` with every bit from `prefixLen` on cleared (the network of a prefix). */
export function networkBytes(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let bit = prefixLen; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** True when an address bit beyond `prefixLen` is set (`10.0.0.1/24`). */
export function hostBitsSet(p: IpPrefix): boolean {
  for (let bit = p.prefixLen; bit < p.bytes.length * 8; bit++)
    if (p.bytes[bit >> 3] & (0x80 >> (bit & 7))) return true;
  return false;
}

/** True when `addr` lies in prefix `p` (false across families). */
export function prefixContains(p: IpPrefix, addr: IpBytes): boolean {
  if (addr.family !== p.family) return false;
  for (let bit = 0; bit < p.prefixLen; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((addr.bytes[bit >> 3] & m) !== (p.bytes[bit >> 3] & m)) return false;
  }
  return true;
}

/** RFC 5952 text of 16 octets: lower case, the longest run (≥ 2) of zero groups as `::`, the first on ties. */
export function formatIpv6(bytes: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
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

/** Text of a 4- or 16-octet address; any other length as `<hex>`. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(ipv4FromBytes(bytes));
  if (bytes.length === 16) return formatIpv6(bytes);
  return `<${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}>`;
}

/** fe80::/64 + a 64-bit interface identifier (RFC 5072 §5), as 16 octets; null unless `id` is 8 octets. */
export function linkLocalBytes(id: Uint8Array): Uint8Array | null {
  if (id.length !== 8) return null;
  const b = new Uint8Array(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b.set(id, 8);
  return b;
}
