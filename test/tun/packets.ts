/** Test helpers: IPv4/IPv6 ICMP echo parsing and replies, with checksums (RFC 791, 792, 4443, 8200 §8.1). */

/** Internet checksum (RFC 1071) over `data`, starting from the partial sum `initial`. */
export function inetChecksum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.length & 1) sum += data[data.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoSum6(src: Uint8Array, dst: Uint8Array, len: number, next: number): number {
  let sum = 0;
  for (const a of [src, dst]) for (let i = 0; i < 16; i += 2) sum += (a[i] << 8) | a[i + 1];
  return sum + (len >>> 16) + (len & 0xffff) + next;
}

export interface Echo {
  version: 4 | 6;
  type: 'request' | 'reply';
  src: Uint8Array;
  dst: Uint8Array;
  id: number;
  seq: number;
  payload: Uint8Array;
}

/** Parses an ICMP/ICMPv6 echo request or reply; null for anything else. Verifies checksums. */
export function parseEcho(p: Uint8Array): Echo | null {
  const v = p[0] >> 4;
  if (v === 4) {
    const ihl = (p[0] & 15) * 4;
    if (p[9] !== 1 || inetChecksum(p.subarray(0, ihl)) !== 0) return null;
    const icmp = p.subarray(ihl, (p[2] << 8) | p[3]);
    if (inetChecksum(icmp) !== 0 || (icmp[0] !== 8 && icmp[0] !== 0)) return null;
    return {
      version: 4,
      type: icmp[0] === 8 ? 'request' : 'reply',
      src: p.subarray(12, 16),
      dst: p.subarray(16, 20),
      id: (icmp[4] << 8) | icmp[5],
      seq: (icmp[6] << 8) | icmp[7],
      payload: icmp.subarray(8),
    };
  }
  if (v === 6) {
    if (p[6] !== 58) return null;
    const icmp = p.subarray(40, 40 + ((p[4] << 8) | p[5]));
    if (
      inetChecksum(icmp, pseudoSum6(p.subarray(8, 24), p.subarray(24, 40), icmp.length, 58)) !== 0
    )
      return null;
    if (icmp[0] !== 128 && icmp[0] !== 129) return null;
    return {
      version: 6,
      type: icmp[0] === 128 ? 'request' : 'reply',
      src: p.subarray(8, 24),
      dst: p.subarray(24, 40),
      id: (icmp[4] << 8) | icmp[5],
      seq: (icmp[6] << 8) | icmp[7],
      payload: icmp.subarray(8),
    };
  }
  return null;
}

/** Builds the echo reply to `req` (addresses swapped, same id/seq/payload). */
export function echoReply(req: Echo): Uint8Array {
  const icmpLen = 8 + req.payload.length;
  if (req.version === 4) {
    const p = new Uint8Array(20 + icmpLen);
    p.set([0x45, 0, p.length >> 8, p.length & 255, 0x12, 0x34, 0, 0, 64, 1, 0, 0]);
    p.set(req.dst, 12);
    p.set(req.src, 16);
    const ipc = inetChecksum(p.subarray(0, 20));
    p[10] = ipc >> 8;
    p[11] = ipc & 255;
    const icmp = p.subarray(20);
    icmp.set([0, 0, 0, 0, req.id >> 8, req.id & 255, req.seq >> 8, req.seq & 255]);
    icmp.set(req.payload, 8);
    const c = inetChecksum(icmp);
    icmp[2] = c >> 8;
    icmp[3] = c & 255;
    return p;
  }
  const p = new Uint8Array(40 + icmpLen);
  p.set([0x60, 0, 0, 0, icmpLen >> 8, icmpLen & 255, 58, 64]);
  p.set(req.dst, 8);
  p.set(req.src, 24);
  const icmp = p.subarray(40);
  icmp.set([129, 0, 0, 0, req.id >> 8, req.id & 255, req.seq >> 8, req.seq & 255]);
  icmp.set(req.payload, 8);
  const c = inetChecksum(icmp, pseudoSum6(req.dst, req.src, icmpLen, 58));
  icmp[2] = c >> 8;
  icmp[3] = c & 255;
  return p;
}

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
