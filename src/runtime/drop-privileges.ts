/**
 * What `up` and `serve` give up once their TUN device exists (issue 15 item 6,
 * src/sys/privileges.ts does the system calls). Kept: CAP_NET_ADMIN (addresses, routes,
 * the same device across reconnects). Kept only when needed: CAP_DAC_READ_SEARCH, when
 * a file a reconnect reads (identity file, known_hosts) is not readable by the account
 * the tunnel runs as. With `tunnel.user`/`tunnel.group`: that account, after the state
 * directory is given to it (the pid file, state and DNS backup stay writable).
 */
import { lchownSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Account,
  CAP_NET_ADMIN,
  describeDrop,
  dropPrivileges,
  resolveAccount,
} from '../sys/privileges.js';

const CAP_DAC_READ_SEARCH = 2;

export interface DropOptions {
  user: string | null;
  group: string | null;
  /** The tunnel's state directory (given to `user`). */
  stateDir: string | null;
  /** Files read again later (reconnects). */
  readLater: string[];
  log: { info(m: string): void; warn(m: string): void };
}

/** Readable by `uid`/`gid` without capabilities (the file and its directory)? */
function readableBy(path: string, a: { uid: number; gid: number }): boolean {
  const ok = (p: string, bits: { u: number; g: number; o: number }) => {
    const st = statSync(p);
    if (a.uid === 0 ? st.uid === 0 : st.uid === a.uid) return (st.mode & bits.u) !== 0;
    if (st.gid === a.gid) return (st.mode & bits.g) !== 0;
    return (st.mode & bits.o) !== 0;
  };
  try {
    return (
      ok(dirname(path), { u: 0o100, g: 0o010, o: 0o001 }) &&
      ok(path, { u: 0o400, g: 0o040, o: 0o004 })
    );
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
  const unreadable = o.readLater.filter((f) => !readableBy(f, target));
  if (unreadable.length > 0) {
    keep.push(CAP_DAC_READ_SEARCH);
    o.log.warn(
      `privileges: keeping CAP_DAC_READ_SEARCH: a reconnect reads ${unreadable.join(', ')}, which uid ${target.uid} cannot read without it`,
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
