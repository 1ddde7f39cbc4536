/** Interface identifiers and link-local addresses (RFC 5072 §5, RFC 4291 §2.5.6). */
import { formatIpv6, linkLocalBytes } from '../wire/ip.js';

/** True if all 8 octets are zero. */
export function isZeroId(id: Uint8Array): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}

/** A random non-zero 64-bit identifier from two random32 draws. */
export function randomInterfaceId(random32: () => number): Uint8Array {
  const id = new Uint8Array(8);
  for (let attempt = 0; attempt < 4; attempt++) {
    const hi = random32() >>> 0;
    const lo = random32() >>> 0;
    for (let i = 0; i < 4; i++) {
      id[i] = (hi >>> (24 - 8 * i)) & 0xff;
      id[4 + i] = (lo >>> (24 - 8 * i)) & 0xff;
    }
    // RFC 4291 appendix A: the "u" bit is 0 for a non-global identifier.
    id[0] &= ~0x02;
    if (!isZeroId(id)) return id;
  }
  id[7] = 1;
  return id;
}

/** pppd's text: `fe80::` and four fixed-width hex groups (`fe80::704e:ddcc:e296:1078`). */
export function formatLinkLocalPppd(id: Uint8Array): string {
  const h = (i: number) => id[i].toString(16).padStart(2, '0');
  return `fe80::${h(0)}${h(1)}:${h(2)}${h(3)}:${h(4)}${h(5)}:${h(6)}${h(7)}`;
}

/** RFC 5952 text of fe80::/64 + id (8 octets), e.g. `fe80::1` or `fe80::704e:ddcc:e296:1078`. */
export function formatLinkLocal(id: Uint8Array): string {
  return formatIpv6(linkLocalBytes(id) ?? new Uint8Array(16));
}
