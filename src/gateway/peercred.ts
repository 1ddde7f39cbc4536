/**
 * Who is on the other end of an accepted unix socket: SO_PEERCRED (the
 * connecting process's pid, uid, gid as of connect()), and that uid's user name
 * and group names through the C library (so NSS sources such as LDAP count too;
 * /etc/passwd and /etc/group are read when koffi cannot load libc).
 *
 * For the gateway the connecting process is the SSH user's own sshd
 * (direct-streamlocal forwarding), so the uid is the SSH user's.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { credLibc } from '../sys/credentials.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

export interface UserIdentity {
  uid: number;
  /** The user name, or `#<uid>` when the uid has no passwd entry. */
  user: string;
  /** Names of the primary and supplementary groups. */
  groups: string[];
  /** False when the uid has no passwd entry. */
  known: boolean;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

/** The file descriptor under an accepted net.Socket (libuv's handle), or null. */
export function socketFd(sock: Socket): number | null {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** SO_PEERCRED of a connected unix socket. Throws when the fd or libc is not available. */
export function peerCredOfFd(fd: number): PeerCred {
  const lib = credLibc();
  if (!lib) throw new Error('SO_PEERCRED needs libc through koffi, which did not load');
  const val = Buffer.alloc(12);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(12, 0);
  if (lib.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, val, len) !== 0)
    throw new Error(`getsockopt(SO_PEERCRED) failed: errno ${lib.errno()}`);
  return { pid: val.readInt32LE(0), uid: val.readUInt32LE(4), gid: val.readUInt32LE(8) };
}

export function peerCred(sock: Socket): PeerCred {
  const fd = socketFd(sock);
  if (fd === null) throw new Error('the socket has no file descriptor (not a unix socket?)');
  return peerCredOfFd(fd);
}

/** Parses /etc/passwd or /etc/group text into rows of fields. */
function rows(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** The user and group names of a uid (NSS through libc; the /etc files as fallback). */
export function identityOf(uid: number): UserIdentity {
  const lib = credLibc();
  if (lib) {
    const pw = lib.getpwuid(uid);
    if (!pw) return { uid, user: `#${uid}`, groups: [], known: false };
    const gids = lib.getgrouplist(pw.name, pw.gid);
    const groups: string[] = [];
    for (const g of gids) {
      const name = lib.getgrgid(g);
      if (name !== null && !groups.includes(name)) groups.push(name);
    }
    return { uid, user: pw.name, groups, known: true };
  }
  const pw = rows('/etc/passwd').find((r) => Number(r[2]) === uid);
  if (!pw) return { uid, user: `#${uid}`, groups: [], known: false };
  const user = pw[0]!;
  const gid = Number(pw[3]);
  const groups: string[] = [];
  for (const g of rows('/etc/group')) {
    const members = (g[3] ?? '').split(',');
    if ((Number(g[2]) === gid || members.includes(user)) && !groups.includes(g[0]!))
      groups.push(g[0]!);
  }
  return { uid, user, groups, known: true };
}
