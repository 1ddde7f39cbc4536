/**
 * The IPv4 routes this host has right now (every table), read with one rtnetlink
 * RTM_GETROUTE dump on a socket of our own (src/sys/rtnetlink.ts), for the
 * route guard (src/runtime/route-guard.ts) to check far-end addresses against.
 *
 * The reply parser {@link parseRouteDump} takes whatever the kernel (or a fuzzer) hands
 * it and never throws: a malformed message ends the parse, an odd attribute is skipped.
 * It is fuzzed (bench/fuzz `rtnl-route-dump`, test/fuzz/netlink.test.ts).
 */
import { AF_INET, EAGAIN, EINTR, errnoError, libc, MSG_DONTWAIT } from '../sys/libc.js';
import {
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_TABLE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_LOCAL,
  RTN_UNICAST,
  sendRouteRequest,
} from '../sys/rtnetlink.js';
import { formatIpv4, ipv4FromBytes } from '../wire/ip.js';

/** One route from the dump, IPv4 only. */
export interface KernelRoute4 {
  /** Destination network, e.g. "192.168.1.0". */
  dst: string;
  prefix: number;
  /** RTN_UNICAST (1) or RTN_LOCAL (2, one of our own addresses); others are not kept. */
  type: number;
  table: number;
  /** Outgoing interface index, or 0 when the route has none (multipath). */
  oif: number;
  gateway: string | null;
}

export interface RouteDumpParse {
  routes: KernelRoute4[];
  /** NLMSG_DONE seen: the dump is complete. */
  done: boolean;
  /** A negative errno from an NLMSG_ERROR, or 0. */
  error: number;
  /** Messages that could not be read (short, bad lengths, wrong family). */
  malformed: number;
}

export { RTM_NEWROUTE, RTN_LOCAL, RTN_UNICAST } from '../sys/rtnetlink.js';

/** Bounds: a dump larger than this is cut (the guard then knows less, never crashes). */
const MAX_ROUTES = 100_000;

function ipv4At(b: Uint8Array, at: number): string {
  return formatIpv4(ipv4FromBytes(b, at));
}

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Parses `len` octets of rtnetlink replies (several netlink messages, host byte order =
 * little endian here). Keeps unicast and local IPv4 routes; never throws.
 */
export function parseRouteDump(
  buf: Uint8Array,
  len = buf.length,
  out: KernelRoute4[] = [],
): RouteDumpParse {
  const end = Math.min(len, buf.length);
  const r: RouteDumpParse = { routes: out, done: false, error: 0, malformed: 0 };
  let at = 0;
  while (at + 16 <= end) {
    const mlen = u32(buf, at);
    const type = u16(buf, at + 4);
    if (mlen < 16 || at + mlen > end) {
      r.malformed++;
      break;
    }
    const body = at + 16;
    const next = at + ((mlen + 3) & ~3);
    if (type === NLMSG_DONE) {
      r.done = true;
      break;
    }
    if (type === NLMSG_ERROR) {
      // An ACK (error 0) ends the exchange too; a truncated error counts as EINVAL.
      r.error = mlen >= 20 ? u32(buf, body) | 0 : -22;
      r.done = true;
      break;
    }
    if (type === RTM_NEWROUTE) {
      const route = parseRouteMessage(buf, body, at + mlen);
      if (route === null) r.malformed++;
      else if (route !== 'skip' && out.length < MAX_ROUTES) out.push(route);
    }
    at = next;
  }
  return r;
}

/** One RTM_NEWROUTE body [from, to): struct rtmsg (12 octets) + attributes. */
function parseRouteMessage(b: Uint8Array, from: number, to: number): KernelRoute4 | 'skip' | null {
  if (to - from < 12) return null;
  const family = b[from];
  const prefix = b[from + 1];
  let table = b[from + 4];
  const rtype = b[from + 7];
  if (family !== AF_INET || prefix > 32) return null;
  if (rtype !== RTN_UNICAST && rtype !== RTN_LOCAL) return 'skip';
  let dst = '0.0.0.0';
  let oif = 0;
  let gateway: string | null = null;
  for (let at = from + 12; at + 4 <= to; ) {
    const alen = u16(b, at);
    const atype = u16(b, at + 2) & 0x3fff;
    if (alen < 4 || at + alen > to) return null;
    const v = at + 4;
    const vlen = alen - 4;
    if (atype === RTA_DST && vlen === 4) dst = ipv4At(b, v);
    else if (atype === RTA_GATEWAY && vlen === 4) gateway = ipv4At(b, v);
    else if (atype === RTA_OIF && vlen === 4) oif = u32(b, v);
    else if (atype === RTA_TABLE && vlen === 4) table = u32(b, v);
    at += (alen + 3) & ~3;
  }
  return { dst, prefix, type: rtype, table, oif, gateway };
}

/** The RTM_GETROUTE dump request for IPv4 (every table). */
export function routeDumpRequest(seq: number): Buffer {
  const msg = Buffer.alloc(16 + 12);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(RTM_GETROUTE, 4);
  msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  msg.writeUInt32LE(seq, 8);
  msg[16] = AF_INET;
  return msg;
}

/**
 * Dumps the IPv4 routes of the current network namespace. The kernel fills the reply
 * while we read (netlink dumps run in recvmsg), so a non-blocking read loop gets it all;
 * should the queue be empty before NLMSG_DONE, we yield to the event loop and retry
 * (bounded: 2 s). Throws `Error` with `errno` on a socket failure or a refused dump.
 */
export async function readRoutes4(): Promise<KernelRoute4[]> {
  const { c, fd } = sendRouteRequest(routeDumpRequest(1), 'RTM_GETROUTE');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const routes: KernelRoute4[] = [];
    const deadline = Date.now() + 2000;
    for (let reads = 0; reads < 100_000; reads++) {
      const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
      if (n < 0) {
        const errno = c.errno();
        if ((errno === EAGAIN || errno === EINTR) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        throw errnoError('recv(RTM_GETROUTE)', errno);
      }
      const p = parseRouteDump(buf, n, routes);
      if (p.error !== 0) throw errnoError('RTM_GETROUTE refused', -p.error);
      if (p.done || n === 0) return routes;
    }
    return routes;
  } finally {
    c.close(fd);
  }
}

/** The name of interface `index` (if_indextoname), or `if<index>` when it has none. */
export function interfaceName(index: number): string {
  try {
    return libc().ifIndexToName(index) ?? `if${index}`;
  } catch {
    return `if${index}`;
  }
}
