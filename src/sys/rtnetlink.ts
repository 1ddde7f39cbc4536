/**
 * A NETLINK_ROUTE socket of our own for one request (libc through src/sys/libc.ts): the
 * TUN device's link GSO query (src/tun/link-gso.ts) and the route guard's route dump
 * (src/tun/routes-snapshot.ts) both open one, send one message and read the answer.
 */
import { AF_NETLINK, errnoError, type Libc, libc, SOCK_CLOEXEC, SOCK_RAW } from './libc.js';

/** `<linux/netlink.h>` and `<linux/rtnetlink.h>` values, defined once for every rtnetlink user. */
export const NETLINK_ROUTE = 0;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 1;
export const NLM_F_ACK = 4;
export const NLM_F_DUMP = 0x300;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;
/** `<linux/if_link.h>` IFLA_MTU, and IFLA_GSO_MAX_SIZE: u32, settable on an existing link since Linux 5.19. */
export const IFLA_MTU = 4;
export const IFLA_GSO_MAX_SIZE = 41;
/** IFLA_INET6_ADDR_GEN_MODE (nested in IFLA_AF_SPEC / AF_INET6) and IN6_ADDR_GEN_MODE_NONE. */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IN6_ADDR_GEN_MODE_NONE = 1;
/** struct rtmsg attributes. */
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_TABLE = 15;
/** Route types: a unicast route, and one of this host's own addresses. */
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RT_TABLE_MAIN = 254;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
/** rtm_scope in a delete request: RT_SCOPE_NOWHERE matches any scope (what `ip route del` sends). */
export const RT_SCOPE_NOWHERE = 255;

/**
 * Opens a NETLINK_ROUTE socket and sends `request` on it; returns the socket for the
 * caller to read the answer from and close (always, in a `finally`). `what` names the
 * request in the error: throws `Error` with `errno` when socket() or send() fails.
 */
export function sendRouteRequest(request: Buffer, what: string): { c: Libc; fd: number } {
  const c = libc();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw errnoError('socket(AF_NETLINK)', c.errno());
  if (c.send(fd, request, request.length, 0) !== request.length) {
    const code = c.errno();
    c.close(fd);
    throw errnoError(`send(${what})`, code);
  }
  return { c, fd };
}
