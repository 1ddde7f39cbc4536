/**
 * The one system edge: every C library call ts-vpn makes on the main thread is bound
 * here, through koffi, on first use (src/native-modules.ts): `import 'ts-vpn'` loads no
 * native module. The TUN reader worker binds its own read/poll in its thread
 * (src/tun/reader-worker.ts), since a koffi handle cannot cross threads.
 *
 * Jobs elsewhere in src/sys: rtnetlink.ts (a route socket round trip), credentials.ts
 * (SO_PEERCRED and NSS names), privileges.ts (prctl/capset/setres[ug]id).
 */
import { koffi } from '../native-modules.js';

/** `<sys/eventfd.h>` */
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
/** `<sys/socket.h>` */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
/** `<errno.h>` */
export const EINTR = 4;
export const EAGAIN = 11;

/** read(2) as koffi binds it: no wrapper on the TUN hot path (a long may come back as a bigint). */
export type ReadFn = (fd: number, buf: Uint8Array, n: number) => number | bigint;

export interface Libc {
  /** ioctl(fd, req, struct ifreq*): `ifr` is 40 bytes, name in 0..15, flags (short) at 16. */
  ioctlIfreq(fd: number, req: number, ifr: Uint8Array): number;
  /** ioctl(fd, req, value) for requests that take their argument by value (TUNSETOFFLOAD). */
  ioctlValue(fd: number, req: number, value: number): number;
  ifNameToIndex(name: string): number;
  /** if_indextoname: the name, or null when no interface has that index. */
  ifIndexToName(index: number): string | null;
  eventfd(initval: number, flags: number): number;
  read: ReadFn;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array,
    addrLen: number,
  ): number;
  /** fcntl(fd, cmd, int arg). */
  fcntlInt(fd: number, cmd: number, arg: number): number;
  errno(): number;
}

/** A koffi function: koffi types its calls loosely, the wrappers below give them their C types. */
// biome-ignore lint/suspicious/noExplicitAny: koffi's bound functions take and return C values
export type CFunction = (...args: any[]) => any;

interface Library {
  func(signature: string): CFunction;
  func(name: string, result: string, params: string[]): CFunction;
}

let library: Library | null = null;

/** libc.so.6, loaded once. Throws when koffi or the C library cannot load. */
export function libcLibrary(): Library {
  library ??= koffi().load('libc.so.6') as unknown as Library;
  return library;
}

/** Binds one libc function by its C declaration (koffi's syntax). Throws when libc cannot load. */
export function cfunc(signature: string): CFunction {
  return libcLibrary().func(signature);
}

/** The calling thread's errno after a failed call. */
export function errno(): number {
  return koffi().errno();
}

/** An `Error` naming the call that failed, with its `errno` (what the rtnetlink callers throw). */
export function errnoError(what: string, code: number): Error & { errno: number } {
  return Object.assign(new Error(what), { errno: code });
}

let cached: Libc | null = null;

/** The C library calls (bound on the first call). Throws when koffi or libc cannot load. */
export function libc(): Libc {
  if (cached) return cached;
  const f = cfunc;
  const ioctl = f('int ioctl(int fd, unsigned long req, void *arg)');
  const ioctlValue = libcLibrary().func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']);
  const ifNameToIndex = f('unsigned int if_nametoindex(const char *name)');
  const ifIndexToName = f('void *if_indextoname(unsigned int ifindex, _Out_ uint8_t *ifname)');
  const eventfd = f('int eventfd(unsigned int initval, int flags)');
  const write = f('long write(int fd, const void *buf, size_t n)');
  const close = f('int close(int fd)');
  const socket = f('int socket(int domain, int type, int protocol)');
  const send = f('long send(int fd, const void *buf, size_t n, int flags)');
  const recv = f('long recv(int fd, void *buf, size_t n, int flags)');
  const sendto = f(
    'long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
  );
  const fcntl = f('int fcntl(int fd, int cmd, ...)');
  cached = {
    ioctlIfreq: (fd, req, ifr) => ioctl(fd, req, ifr),
    ioctlValue: (fd, req, value) => ioctlValue(fd, req, value),
    ifNameToIndex: (name) => ifNameToIndex(name),
    ifIndexToName: (index) => {
      const out = Buffer.alloc(16); // IFNAMSIZ
      if (ifIndexToName(index, out) === null) return null;
      const nul = out.indexOf(0);
      return out.subarray(0, nul < 0 ? 16 : nul).toString('latin1');
    },
    eventfd: (initval, flags) => eventfd(initval, flags),
    read: f('long read(int fd, void *buf, size_t n)') as ReadFn,
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    close: (fd) => close(fd),
    socket: (domain, type, protocol) => socket(domain, type, protocol),
    send: (fd, buf, len, flags) => Number(send(fd, buf, len, flags)),
    recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
    sendto: (fd, buf, len, flags, addr, addrLen) =>
      Number(sendto(fd, buf, len, flags, addr, addrLen)),
    fcntlInt: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg),
    errno,
  };
  return cached;
}

/** {@link libc}, or null when koffi or libc cannot load (callers with a fallback). */
export function tryLibc(): Libc | null {
  try {
    return libc();
  } catch {
    return null;
  }
}
