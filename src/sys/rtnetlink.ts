/**
 * A NETLINK_ROUTE socket of our own for one request (libc through src/sys/libc.ts): the
 * TUN device's link GSO query (src/tun/link-gso.ts) and the route guard's route dump
 * (src/tun/routes-snapshot.ts) both open one, send one message and read the answer.
 */
import { AF_NETLINK, errnoError, type Libc, libc, SOCK_CLOEXEC, SOCK_RAW } from './libc.js';

const NETLINK_ROUTE = 0;

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
