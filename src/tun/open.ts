/**
 * Opening a TUN interface: /dev/net/tun, TUNSETIFF (IFF_TUN | IFF_NO_PI,
 * optionally IFF_VNET_HDR with TUNSETVNETHDRSZ 10), the kernel's chosen name
 * and its ifindex; TunDevice.open() (device.ts) wraps the result.
 */
import fs from 'node:fs';
import { libc } from '../sys/libc.js';
import { VNET_HDR_LEN } from '../wire/vnet-hdr.js';
import { errnoName, TunError } from './errors.js';
import {
  IFF_NO_PI,
  IFF_TUN,
  IFF_VNET_HDR,
  IFNAMSIZ,
  TUNSETIFF,
  TUNSETVNETHDRSZ,
} from './if-tun.js';

const EINVAL = 22;

/** Checks an interface name or pattern the way the kernel's dev_valid_name does. */
export function validateIfName(name: string): void {
  const bytes = Buffer.byteLength(name);
  const why =
    bytes === 0
      ? 'is empty'
      : bytes >= IFNAMSIZ
        ? `is ${bytes} bytes long (at most ${IFNAMSIZ - 1})`
        : name === '.' || name === '..'
          ? 'is "." or ".."'
          : /[/:\s]/.test(name)
            ? 'contains "/", ":" or whitespace'
            : (name.match(/%/g)?.length ?? 0) > 1 || (name.includes('%') && !name.includes('%d'))
              ? 'may contain one "%d" pattern and no other "%"'
              : null;
  if (why)
    throw new TunError(
      'TUN_INVALID_NAME',
      `invalid interface name ${JSON.stringify(name)}: ${why}`,
    );
}

function openError(op: string, name: string, errno: number): TunError {
  const e = errnoName(errno);
  switch (errno) {
    case 1:
    case 13:
      return new TunError('TUN_PERMISSION', `${op} ${name}: ${e}: need root or CAP_NET_ADMIN`, e);
    case 16:
    case 17:
      return new TunError(
        'TUN_NAME_TAKEN',
        `${op} ${name}: ${e}: interface name already in use`,
        e,
      );
    default:
      return new TunError('TUN_SYSTEM', `${op} ${name}: ${e}`, e);
  }
}
/**
 * Creates the TUN interface named `want` (a name or a pattern with one `%d`)
 * in the current network namespace; returns its O_NONBLOCK fd, the name the
 * kernel chose and its ifindex. Throws TunError: TUN_INVALID_NAME,
 * TUN_PERMISSION, TUN_NO_DEVICE_NODE, TUN_NAME_TAKEN, TUN_SYSTEM.
 */
export function openTunFd(
  want: string,
  vnetHdr: boolean | undefined,
): { fd: number; name: string; ifindex: number } {
  validateIfName(want);
  let fd: number;
  try {
    fd = fs.openSync('/dev/net/tun', fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO')
      throw new TunError(
        'TUN_NO_DEVICE_NODE',
        `/dev/net/tun: ${code}: the tun driver is not available (try \`modprobe tun\`)`,
        code,
        { cause: err },
      );
    if (code === 'EACCES' || code === 'EPERM')
      throw new TunError(
        'TUN_PERMISSION',
        `/dev/net/tun: ${code}: need root or CAP_NET_ADMIN`,
        code,
        { cause: err },
      );
    throw new TunError('TUN_SYSTEM', `/dev/net/tun: ${(err as Error).message}`, code, {
      cause: err,
    });
  }
  const c = libc();
  // struct ifreq { char ifr_name[16]; short ifr_flags; … } (40 bytes on x86-64/arm64)
  const ifr = new Uint8Array(40);
  ifr.set(Buffer.from(want), 0);
  const flags = IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0);
  new DataView(ifr.buffer).setInt16(IFNAMSIZ, flags, true);
  if (c.ioctlIfreq(fd, TUNSETIFF, ifr) < 0) {
    const errno = c.errno();
    fs.closeSync(fd);
    // TUNSETIFF on a name held by a non-TUN device fails with EINVAL; the name is valid (checked above).
    if (errno === EINVAL)
      throw new TunError(
        'TUN_NAME_TAKEN',
        `TUNSETIFF ${want}: EINVAL: interface name already in use by another kind of device`,
        'EINVAL',
      );
    throw openError('TUNSETIFF', want, errno);
  }
  if (vnetHdr) {
    // 10 is the kernel's default; set it anyway so nothing else's choice can leak in.
    const sz = new Int32Array([VNET_HDR_LEN]);
    if (c.ioctlIfreq(fd, TUNSETVNETHDRSZ, new Uint8Array(sz.buffer)) < 0) {
      const errno = c.errno();
      fs.closeSync(fd);
      throw openError('TUNSETVNETHDRSZ', want, errno);
    }
  }
  const end = ifr.indexOf(0);
  const name = Buffer.from(ifr.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end)).toString();
  const ifindex = c.ifNameToIndex(name);
  if (ifindex === 0) {
    const errno = c.errno();
    fs.closeSync(fd);
    throw new TunError(
      'TUN_SYSTEM',
      `if_nametoindex ${name}: ${errnoName(errno)}`,
      errnoName(errno),
    );
  }
  return { fd, name, ifindex };
}
