/**
 * What `up` and `serve` give up once their TUN device exists (issue 15 item 6,
 * src/sys/privileges.ts does the system calls). Kept: CAP_NET_ADMIN (addresses, routes,
 * the same device across reconnects). Kept only when needed: CAP_DAC_READ_SEARCH, when
 * a file a reconnect reads (identity file, known_hosts) is not readable by the account
 * the tunnel runs as; CAP_DAC_OVERRIDE, when a device opened again later (the gateway's
 * /dev/net/tun, one open per session) cannot be opened read-write by that account. With
 * `tunnel.user`/`tunnel.group` (the gateway's `run-as`): that account, after the state
 * directory is given to it (the pid file, state and DNS backup stay writable).
 */
import { lchownSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Account,
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_NET_ADMIN,
  describeDrop,
  dropPrivileges,
  resolveAccount,
} from '../sys/privileges.js';

export interface DropOptions {
  user: string | null;
  group: string | null;
  /** The tunnel's state directory (given to `user`). */
  stateDir: string | null;
  /** Files read again later (reconnects; the gateway's reload). */
  readLater: string[];
  /** Who reads them, for the log (default "a reconnect"). */
  readLaterBy?: string;
  /** Files opened read-write again later (the gateway's /dev/net/tun). */
  openLater?: string[];
  log: { info(m: string): void; warn(m: string): void };
}

/**
 * Can `uid`/`gid` read (`rw`: read and write) `path` without capabilities (the file, and
 * search on its directory)?
 */
function accessibleBy(path: string, a: { uid: number; gid: number }, rw = false): boolean {
  const ok = (p: string, bits: number) => {
    const st = statSync(p);
    const shift = (a.uid === 0 ? st.uid === 0 : st.uid === a.uid) ? 6 : st.gid === a.gid ? 3 : 0;
    return ((st.mode >> shift) & bits) === bits;
  };
  try {
    return ok(dirname(path), 0o1) && ok(path, rw ? 0o6 : 0o4);
  } catch {
    return true; // gone: nothing a capability would help with
  }
}

function giveTo(dir: string, a: Account): void {
  lchownSync(dir, a.uid, a.gid);
  for (const f of readdirSync(dir)) lchownSync(join(dir, f), a.uid, a.gid);
}

/**
 * Drops to CAP_NET_ADMIN (+ read access where needed) and the configured account. Not
 * root: nothing to do (false). A failure with an account configured throws (the tunnel
 * must not run as root when told not to); without one it is said and the tunnel goes on.
 */
export function dropTunnelPrivileges(o: DropOptions): boolean {
  if (process.geteuid?.() !== 0) return false;
  const account = resolveAccount(o.user, o.group);
  const target = account ?? { uid: 0, gid: 0 };
  const keep = [CAP_NET_ADMIN];
  const closed = (o.openLater ?? []).filter((f) => !accessibleBy(f, target, true));
  if (closed.length > 0) {
    keep.push(CAP_DAC_OVERRIDE);
    o.log.warn(
      `privileges: keeping CAP_DAC_OVERRIDE: uid ${target.uid} cannot open ${closed.join(', ')} read-write without it; give that account access (the kernel's default for /dev/net/tun is 0666) to lose it`,
    );
  }
  const unreadable = o.readLater.filter((f) => !accessibleBy(f, target));
  if (unreadable.length > 0 && closed.length === 0) {
    keep.push(CAP_DAC_READ_SEARCH);
    o.log.warn(
      `privileges: keeping CAP_DAC_READ_SEARCH: ${o.readLaterBy ?? 'a reconnect'} reads ${unreadable.join(', ')}, which uid ${target.uid} cannot read without it`,
    );
  }
  try {
    if (account && o.stateDir) giveTo(o.stateDir, account);
    const r = dropPrivileges({ keep, account });
    o.log.info(`privileges: ${describeDrop(r)}`);
    return true;
  } catch (err) {
    if (account) throw err;
    o.log.warn(`privileges: could not drop root's capabilities: ${(err as Error).message}`);
    return false;
  }
}
