/**
 * The few libc calls the TUN device needs, through koffi (loaded lazily, once).
 * Only the main thread uses these; the reader worker binds its own copy
 * (see reader-worker.ts).
 */
import { koffi } from '../native-modules.js';

/**
 * `<linux/if_tun.h>`. _IOW(type, nr, size) = 1 << 30 | size << 16 | type << 8 | nr
 * with type 'T' (0x54) and size 4 for int and unsigned int.
 */
export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
/** Argument passed by value: TUN_F_* bits. */
export const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
/** Argument: pointer to int (≥ 10). */
export const TUNSETVNETHDRSZ = 0x400454d8; // _IOW('T', 216, int)
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
/** TUNSETOFFLOAD bits: we accept partial checksums and TCP GSO super-packets. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
/** `<linux/if.h>` IFNAMSIZ: 15 characters + NUL. */
export const IFNAMSIZ = 16;
/** `<sys/eventfd.h>` */
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

export interface Libc {
  /** ioctl(fd, TUNSETIFF, struct ifreq*): `ifr` is 40 bytes, name in 0..15, flags (short) at 16. */
  ioctlIfreq(fd: number, req: number, ifr: Uint8Array): number;
  /** ioctl(fd, req, value) for requests that take their argument by value (TUNSETOFFLOAD). */
  ioctlValue(fd: number, req: number, value: number): number;
  ifNameToIndex(name: string): number;
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  errno(): number;
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
}

let cached: Libc | null = null;

export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi().load('libc.so.6');
  const ioctl = lib.func('int ioctl(int fd, unsigned long req, void *arg)');
  const ioctlValue = lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']);
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  const write = lib.func('long write(int fd, const void *buf, size_t n)');
  const close = lib.func('int close(int fd)');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const send = lib.func('long send(int fd, const void *buf, size_t n, int flags)');
  const recv = lib.func('long recv(int fd, void *buf, size_t n, int flags)');
  cached = {
    ioctlIfreq: (fd, req, ifr) => ioctl(fd, req, ifr) as number,
    ioctlValue: (fd, req, value) => ioctlValue(fd, req, value) as number,
    ifNameToIndex: (name) => ifNameToIndex(name) as number,
    eventfd: (initval, flags) => eventfd(initval, flags) as number,
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    close: (fd) => close(fd) as number,
    errno: () => koffi().errno(),
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    send: (fd, buf, len, flags) => Number(send(fd, buf, len, flags)),
    recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
  };
  return cached;
}

// ---- a synchronous rtnetlink round trip (RTM_NEWLINK / RTM_GETLINK on one link) ----

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const MSG_DONTWAIT = 0x40;
const NLMSG_ERROR = 2;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const IFLA_MTU = 4;
/** `<linux/if_link.h>` IFLA_GSO_MAX_SIZE: u32, settable on an existing link since Linux 5.19. */
export const IFLA_GSO_MAX_SIZE = 41;

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
  const c = libc();
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
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw Object.assign(new Error('socket(AF_NETLINK)'), { errno: c.errno() });
  try {
    if (c.send(fd, msg, len, 0) !== len)
      throw Object.assign(new Error('send(rtnetlink)'), { errno: c.errno() });
    const buf = Buffer.alloc(64 * 1024);
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
    if (n < 16) throw Object.assign(new Error('recv(rtnetlink)'), { errno: c.errno() });
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
  if (b.length < 16) throw Object.assign(new Error('short rtnetlink reply'), { errno: 74 });
  const rtype = b.readUInt16LE(4);
  if (rtype === NLMSG_ERROR) {
    if (b.length < 20) throw Object.assign(new Error('short rtnetlink error'), { errno: 74 });
    const err = -b.readInt32LE(16);
    if (err !== 0) throw Object.assign(new Error('rtnetlink request refused'), { errno: err });
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
