/** Minimal ICMP echo packets (IPv4 and IPv6) for the interop tests. */

function sum16(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) s += bytes[bytes.length - 1]! << 8;
  return s;
}

function fold(s: number): number {
  let v = s;
  while (v > 0xffff) v = (v & 0xffff) + (v >>> 16);
  return ~v & 0xffff;
}

/** The Internet checksum (RFC 1071). */
export function inetChecksum(bytes: Uint8Array, initial = 0): number {
  return fold(sum16(bytes, initial));
}

function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address in any textual form (no embedded IPv4). */
export function ipv6Bytes(a: string): Uint8Array {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':').filter(Boolean) : [];
  const t = tail ? tail.split(':').filter(Boolean) : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** An IPv4 ICMP Echo-Request from `src` to `dst`. */
export function icmpEchoV4(
  src: string,
  dst: string,
  id: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const icmpLen = 8 + payload.length;
  const p = new Uint8Array(20 + icmpLen);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  v.setUint16(4, (id ^ seq) & 0xffff);
  p[8] = 64;
  p[9] = 1;
  p.set(ipv4Bytes(src), 12);
  p.set(ipv4Bytes(dst), 16);
  v.setUint16(10, inetChecksum(p.subarray(0, 20)));
  p[20] = 8;
  v.setUint16(24, id);
  v.setUint16(26, seq);
  p.set(payload, 28);
  v.setUint16(22, inetChecksum(p.subarray(20)));
  return p;
}

export interface IcmpV4 {
  src: string;
  dst: string;
  type: number;
  id: number;
  seq: number;
  payload: Uint8Array;
  checksumOk: boolean;
}

/** Parses an IPv4 ICMP echo (request or reply); null for anything else. */
export function parseIcmpV4(p: Uint8Array): IcmpV4 | null {
  if (p.length < 28 || p[0]! >> 4 !== 4 || p[9] !== 1) return null;
  const ihl = (p[0]! & 0x0f) * 4;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const icmp = p.subarray(ihl, v.getUint16(2));
  return {
    src: Array.from(p.subarray(12, 16)).join('.'),
    dst: Array.from(p.subarray(16, 20)).join('.'),
    type: icmp[0]!,
    id: (icmp[4]! << 8) | icmp[5]!,
    seq: (icmp[6]! << 8) | icmp[7]!,
    payload: icmp.subarray(8),
    checksumOk: inetChecksum(icmp) === 0 && inetChecksum(p.subarray(0, ihl)) === 0,
  };
}

/** An ICMPv6 Echo-Request (hop limit 64) from `src` to `dst` (e.g. link-local fe80::…). */
export function icmpEchoV6(
  src: string,
  dst: string,
  id: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const icmpLen = 8 + payload.length;
  const p = new Uint8Array(40 + icmpLen);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(4, icmpLen);
  p[6] = 58;
  p[7] = 64;
  p.set(ipv6Bytes(src), 8);
  p.set(ipv6Bytes(dst), 24);
  p[40] = 128;
  v.setUint16(44, id);
  v.setUint16(46, seq);
  p.set(payload, 48);
  v.setUint16(42, icmpV6Checksum(p));
  return p;
}

function icmpV6Checksum(p: Uint8Array): number {
  const len = new DataView(p.buffer, p.byteOffset).getUint16(4);
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40), 0);
  new DataView(pseudo.buffer).setUint32(32, len);
  pseudo[39] = 58;
  return inetChecksum(p.subarray(40, 40 + len), sum16(pseudo));
}

/** Parses an ICMPv6 echo (request 128 / reply 129); null for anything else. */
export function parseIcmpV6(
  p: Uint8Array,
): { type: number; id: number; seq: number; payload: Uint8Array; checksumOk: boolean } | null {
  if (p.length < 48 || p[0]! >> 4 !== 6 || p[6] !== 58) return null;
  const type = p[40]!;
  if (type !== 128 && type !== 129) return null;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const len = v.getUint16(4);
  return {
    type,
    id: v.getUint16(44),
    seq: v.getUint16(46),
    payload: p.subarray(48, 40 + len),
    checksumOk: icmpV6Checksum(p) === 0,
  };
}

/** The Echo-Reply to an IPv4 ICMP Echo-Request (addresses swapped), or null. */
export function echoReplyV4(req: Uint8Array): Uint8Array | null {
  const e = parseIcmpV4(req);
  if (e === null || e.type !== 8 || !e.checksumOk) return null;
  return icmpEchoReplyV4(e.dst, e.src, e.id, e.seq, e.payload);
}

function icmpEchoReplyV4(
  src: string,
  dst: string,
  id: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const p = icmpEchoV4(src, dst, id, seq, payload);
  const v = new DataView(p.buffer);
  p[20] = 0;
  v.setUint16(22, 0);
  v.setUint16(22, inetChecksum(p.subarray(20)));
  return p;
}

/** An fe80:: address the way pppd logs it: `fe80::` + the interface id as four %04x groups. */
export function pppdLinkLocal(a: string): string {
  const b = ipv6Bytes(a);
  const g: string[] = [];
  for (let i = 8; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, '0'));
  return `fe80::${g.join(':')}`;
}
