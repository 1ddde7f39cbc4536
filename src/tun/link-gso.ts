/**
 * A link's MTU and gso_max_size, read and set with one synchronous rtnetlink round trip
 * (RTM_GETLINK / RTM_NEWLINK on one link) on a socket of our own (src/sys/rtnetlink.ts).
 */
import { errnoError, MSG_DONTWAIT } from '../sys/libc.js';
import {
  IFLA_GSO_MAX_SIZE,
  IFLA_MTU,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  RTM_GETLINK,
  RTM_NEWLINK,
  sendRouteRequest,
} from '../sys/rtnetlink.js';

export interface LinkGso {
  mtu: number;
  gsoMaxSize: number;
}

/**
 * One rtnetlink request for interface `ifindex` in the current network
 * namespace, answered before send() returns (rtnetlink runs in the sender's
 * context), so the reply is read without blocking. Returns the reply's
 * attributes (type → payload) for RTM_GETLINK, or an empty map for an ACK.
 * Throws `Error` with `errno` set when the kernel refuses.
 */
function rtnlLink(ifindex: number, type: number, attrs: [number, number][]): Map<number, Buffer> {
  const len = 16 + 16 + 8 * attrs.length;
  const msg = Buffer.alloc(len);
  msg.writeUInt32LE(len, 0);
  msg.writeUInt16LE(type, 4);
  msg.writeUInt16LE(NLM_F_REQUEST | (type === RTM_NEWLINK ? NLM_F_ACK : 0), 6);
  msg.writeUInt32LE(1, 8); // seq
  // struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index; u32 flags; u32 change }
  msg.writeInt32LE(ifindex, 20);
  attrs.forEach(([t, v], i) => {
    msg.writeUInt16LE(8, 32 + 8 * i);
    msg.writeUInt16LE(t, 34 + 8 * i);
    msg.writeUInt32LE(v, 36 + 8 * i);
  });
  const { c, fd } = sendRouteRequest(msg, 'rtnetlink');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
    if (n < 16) throw errnoError('recv(rtnetlink)', c.errno());
    return parseRtnlReply(buf, n);
  } finally {
    c.close(fd);
  }
}

/**
 * The reply to one rtnetlink request (`n` octets of `buf`): the attributes (type →
 * payload) of an RTM_NEWLINK answer, or an empty map for an ACK. Throws only `Error` with
 * a numeric `errno` (a refusal, or a reply too short to read, EBADMSG = 74); fuzzed
 * (bench/fuzz `rtnl-link-reply`).
 */
export function parseRtnlReply(buf: Uint8Array, n: number): Map<number, Buffer> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, Math.max(0, Math.min(n, buf.length)));
  if (b.length < 16) throw errnoError('short rtnetlink reply', 74);
  const rtype = b.readUInt16LE(4);
  if (rtype === NLMSG_ERROR) {
    if (b.length < 20) throw errnoError('short rtnetlink error', 74);
    const err = -b.readInt32LE(16);
    if (err !== 0) throw errnoError('rtnetlink request refused', err);
    return new Map();
  }
  const out = new Map<number, Buffer>();
  const end = Math.min(b.length, b.readUInt32LE(0));
  for (let at = 32; at + 4 <= end; ) {
    const alen = b.readUInt16LE(at);
    if (alen < 4) break;
    out.set(b.readUInt16LE(at + 2) & 0x3fff, b.subarray(at + 4, Math.min(at + alen, end)));
    at += (alen + 3) & ~3;
  }
  return out;
}

/** MTU and gso_max_size of a link (RTM_GETLINK). */
export function linkGso(ifindex: number): LinkGso {
  return linkGsoOf(rtnlLink(ifindex, RTM_GETLINK, []));
}

/** MTU and gso_max_size from RTM_NEWLINK attributes (0 when missing or short). */
export function linkGsoOf(a: Map<number, Buffer>): LinkGso {
  const u32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32LE(0) : 0);
  return { mtu: u32(a.get(IFLA_MTU)), gsoMaxSize: u32(a.get(IFLA_GSO_MAX_SIZE)) };
}

/** Sets gso_max_size of a link (RTM_NEWLINK with IFLA_GSO_MAX_SIZE). */
export function setLinkGsoMaxSize(ifindex: number, size: number): void {
  rtnlLink(ifindex, RTM_NEWLINK, [[IFLA_GSO_MAX_SIZE, size]]);
}
