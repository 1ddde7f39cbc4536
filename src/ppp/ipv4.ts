/** IPv4 dotted-quad helpers for IPCP (RFC 1332 §3.3 carries addresses as 4 octets). */

/** `10.64.0.1` → 0x0a400001, or null if not a dotted quad. */
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
