/**
 * IPv4 addresses and prefixes as numbers: the one IPv4 parser of the code base.
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

/** `10.64.0.1` → 0x0a400001, or null if not a dotted quad (each part 0-255, decimal). */
export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
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
