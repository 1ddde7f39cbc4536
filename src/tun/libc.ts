/**
 * The few libc calls the TUN device needs, through koffi (loaded lazily, once).
 * Only the main thread uses these; the reader worker binds its own copy
 * (see reader-worker.ts).
 */
import koffi from 'koffi';

/** `<linux/if_tun.h>` */
export const TUNSETIFF = 0x400454ca;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
/** `<linux/if.h>` IFNAMSIZ: 15 characters + NUL. */
export const IFNAMSIZ = 16;
/** `<sys/eventfd.h>` */
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

export interface Libc {
  /** ioctl(fd, TUNSETIFF, struct ifreq*): `ifr` is 40 bytes, name in 0..15, flags (short) at 16. */
  ioctlIfreq(fd: number, req: number, ifr: Uint8Array): number;
  ifNameToIndex(name: string): number;
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  errno(): number;
}

let cached: Libc | null = null;

export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const ioctl = lib.func('int ioctl(int fd, unsigned long req, void *arg)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  const write = lib.func('long write(int fd, const void *buf, size_t n)');
  const close = lib.func('int close(int fd)');
  cached = {
    ioctlIfreq: (fd, req, ifr) => ioctl(fd, req, ifr) as number,
    ifNameToIndex: (name) => ifNameToIndex(name) as number,
    eventfd: (initval, flags) => eventfd(initval, flags) as number,
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return cached;
}
