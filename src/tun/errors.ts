/**
 * Typed errors of the TUN data plane. Every error carries a stable `code`
 * (callers switch on it, never on the message) and, when it came from the
 * kernel, the `errno` name (`EPERM`, `EEXIST`, …).
 */
import { CodedError } from '../coded-error.js';

export type TunErrorCode =
  /** Not root / no CAP_NET_ADMIN (EPERM, EACCES). */
  | 'TUN_PERMISSION'
  /** /dev/net/tun missing: the tun module is not loaded (ENOENT, ENODEV on open). */
  | 'TUN_NO_DEVICE_NODE'
  /** Interface name already used by another device (EBUSY, EEXIST, EINVAL on TUNSETIFF with a taken name). */
  | 'TUN_NAME_TAKEN'
  /** Interface name invalid (empty, ≥ 16 bytes, '/', ':', whitespace, '.' or '..'). */
  | 'TUN_INVALID_NAME'
  /** The device was closed. */
  | 'TUN_CLOSED'
  /** Any other system failure while opening or running the device. */
  | 'TUN_SYSTEM'
  /** Netlink: the object (address, route) already exists. */
  | 'NETLINK_EXISTS'
  /** Netlink: no such device (bad ifindex). */
  | 'NETLINK_NO_DEVICE'
  /** Netlink: the object to delete/look up does not exist (ESRCH, ENOENT, EADDRNOTAVAIL). */
  | 'NETLINK_NOT_FOUND'
  /** Netlink: need root or CAP_NET_ADMIN. */
  | 'NETLINK_PERMISSION'
  /** Netlink: no route to the address asked about (ENETUNREACH, EHOSTUNREACH). */
  | 'NETLINK_UNREACHABLE'
  /** Netlink: the kernel rejected the request's values (EINVAL, ERANGE, …). */
  | 'NETLINK_INVALID'
  /** Local misuse: a bad address, prefix or argument passed to this module. */
  | 'INVALID_ARGUMENT'
  /** Any other netlink failure. */
  | 'NETLINK_SYSTEM';

export class TunError extends CodedError<TunErrorCode> {
  override readonly name = 'TunError';
  /** errno name when the kernel reported the failure, e.g. `EEXIST`. */
  readonly errno: string | undefined;

  constructor(code: TunErrorCode, message: string, errno?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  5: 'EIO',
  11: 'EAGAIN',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  34: 'ERANGE',
  61: 'ENODATA',
  77: 'EBADFD',
  93: 'EPROTONOSUPPORT',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH',
  113: 'EHOSTUNREACH',
};

/** errno number → name (`17` → `EEXIST`); unknown numbers come back as `errno N`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)] ?? `errno ${Math.abs(errno)}`;
}
