/**
 * Dropping privileges once the TUN device exists (issue 15 item 6), through libc (koffi):
 * the running tunnel keeps only CAP_NET_ADMIN (addresses, routes, reconnects on the
 * device it already holds open); optionally it also becomes an unprivileged user and
 * group, like OpenVPN's `user`/`group`, with CAP_NET_ADMIN kept.
 *
 * Order (capabilities(7), prctl(2)):
 *  1. PR_CAPBSET_DROP every capability but the kept ones (bounding set: nothing can be
 *     regained, not even by executing a setuid program);
 *  2. with a user: PR_SET_KEEPCAPS, setgroups([gid]), setresgid, setresuid. glibc's
 *     set*id wrappers apply the change to EVERY thread of the process (nptl's setxid
 *     broadcast), so V8's and libuv's threads and our TUN reader worker change user too
 *     (and, without keep-caps of their own, lose every capability);
 *  3. capset: effective = permitted = inheritable = the kept set (only this thread: the
 *     calling thread is the one that acts on the kernel from JavaScript);
 *  4. ambient: the kept set raised, so hooks run as the same user still have it.
 *
 * Threads that existed before and run as root still (no `user`) keep their own sets:
 * capset(2) is per thread and Linux offers no broadcast for it. Only our own code runs
 * on them; `user:` closes that too (docs/SECURITY.md).
 */
import { readFileSync } from 'node:fs';
import { CodedError } from '../coded-error.js';
import { cfunc, errno } from './libc.js';

export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_NET_ADMIN = 12;
const PR_CAPBSET_DROP = 24;
const PR_SET_KEEPCAPS = 8;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

interface PrivLibc {
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  capset(hdr: Uint8Array, data: Uint8Array): number;
  setresuid(r: number, e: number, s: number): number;
  setresgid(r: number, e: number, s: number): number;
  setgroups(n: number, list: Uint8Array): number;
  errno(): number;
}

let bound: PrivLibc | null = null;
function lib(): PrivLibc {
  if (bound) return bound;
  const f = cfunc;
  const prctl = f(
    'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
  );
  const capset = f('int capset(void *hdr, void *data)');
  const setresuid = f('int setresuid(uint32_t r, uint32_t e, uint32_t s)');
  const setresgid = f('int setresgid(uint32_t r, uint32_t e, uint32_t s)');
  const setgroups = f('int setgroups(size_t n, void *list)');
  bound = { prctl, capset, setresuid, setresgid, setgroups, errno };
  return bound;
}

export class PrivilegeError extends CodedError<'PRIVILEGE_DROP_FAILED'> {
  override readonly name = 'PrivilegeError';
  readonly errno: number;
  constructor(what: string, errno: number) {
    super('PRIVILEGE_DROP_FAILED', `${what} failed (errno ${errno})`);
    this.errno = errno;
  }
}

/** An account to switch to: names resolved from /etc/passwd and /etc/group. */
export interface Account {
  user: string | null;
  uid: number;
  group: string | null;
  gid: number;
}

function lookup(file: string, name: string): string[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return f;
  }
  return null;
}

/**
 * Resolves `user`/`group` (names or numbers). The group defaults to the user's primary
 * group. Throws an Error naming the field when a name is unknown.
 */
export function resolveAccount(user: string | null, group: string | null): Account | null {
  if (user === null && group === null) return null;
  let uid = 0;
  let gid = 0;
  if (user !== null) {
    if (/^\d+$/.test(user)) {
      uid = Number(user);
      gid = uid;
    } else {
      const pw = lookup('/etc/passwd', user);
      if (!pw) throw new Error(`user: no account named "${user}" in /etc/passwd`);
      uid = Number(pw[2]);
      gid = Number(pw[3]);
    }
  }
  if (group !== null) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const gr = lookup('/etc/group', group);
      if (!gr) throw new Error(`group: no group named "${group}" in /etc/group`);
      gid = Number(gr[2]);
    }
  }
  return { user, uid, group, gid };
}

function lastCap(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    return Number.isInteger(n) && n > 0 && n < 64 ? n : 40;
  } catch {
    return 40;
  }
}

export interface DropResult {
  /** Capabilities kept (numbers). */
  kept: number[];
  account: Account | null;
  /**
   * False when the bounding set could not be narrowed (no CAP_SETPCAP, e.g. a systemd
   * unit's CapabilityBoundingSet without it): the process's own sets still were.
   */
  boundingNarrowed: boolean;
}

/**
 * Keeps only `keep` (default CAP_NET_ADMIN) and, with `account`, becomes that user and
 * group; see the module comment. Throws {@link PrivilegeError} naming the step.
 */
export function dropPrivileges(
  opts: { keep?: number[]; account?: Account | null } = {},
): DropResult {
  const keep = opts.keep ?? [CAP_NET_ADMIN];
  const account = opts.account ?? null;
  const c = lib();
  const check = (rc: number, what: string) => {
    if (rc !== 0) throw new PrivilegeError(what, c.errno());
  };
  const last = lastCap();
  let boundingNarrowed = true;
  for (let cap = 0; cap <= last && boundingNarrowed; cap++) {
    if (keep.includes(cap)) continue;
    if (c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) === 0) continue;
    const e = c.errno();
    // EINVAL: a capability this kernel does not know; nothing to drop. EPERM: no
    // CAP_SETPCAP to narrow the bounding set with: the sets below still shrink.
    if (e === 1) boundingNarrowed = false;
    else if (e !== 22) throw new PrivilegeError(`prctl(PR_CAPBSET_DROP, ${cap})`, e);
  }
  check(
    c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
    'clearing ambient capabilities',
  );
  if (account) {
    check(c.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 'prctl(PR_SET_KEEPCAPS)');
    const groups = Buffer.alloc(4);
    groups.writeUInt32LE(account.gid, 0);
    check(c.setgroups(1, groups), `setgroups([${account.gid}])`);
    check(c.setresgid(account.gid, account.gid, account.gid), `setresgid(${account.gid})`);
    check(c.setresuid(account.uid, account.uid, account.uid), `setresuid(${account.uid})`);
    check(c.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), 'prctl(PR_SET_KEEPCAPS, 0)');
  }
  let mask0 = 0;
  let mask1 = 0;
  for (const cap of keep) {
    if (cap < 32) mask0 |= 1 << cap;
    else mask1 |= 1 << (cap - 32);
  }
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  const data = Buffer.alloc(24);
  for (const [i, m] of [mask0 >>> 0, mask1 >>> 0].entries()) {
    data.writeUInt32LE(m, i * 12); // effective
    data.writeUInt32LE(m, i * 12 + 4); // permitted
    data.writeUInt32LE(m, i * 12 + 8); // inheritable
  }
  check(c.capset(hdr, data), 'capset');
  for (const cap of keep)
    check(c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), `raising ambient cap ${cap}`);
  return { kept: keep, account, boundingNarrowed };
}

const CAP_NAMES: Record<number, string> = {
  [CAP_DAC_OVERRIDE]: 'CAP_DAC_OVERRIDE',
  [CAP_DAC_READ_SEARCH]: 'CAP_DAC_READ_SEARCH',
  [CAP_NET_ADMIN]: 'CAP_NET_ADMIN',
};

/** "kept CAP_NET_ADMIN only" / "kept CAP_NET_ADMIN only, now user nobody (65534), group nogroup (65534)". */
export function describeDrop(r: DropResult): string {
  const caps = [...r.kept]
    .sort((a, b) => b - a)
    .map((c) => CAP_NAMES[c] ?? `capability ${c}`)
    .join(' and ');
  const a = r.account;
  return `kept ${caps} only${
    a ? `, now user ${a.user ?? a.uid} (${a.uid}), group ${a.group ?? a.gid} (${a.gid})` : ''
  }${r.boundingNarrowed ? '' : ' (the bounding set stays as it was: no CAP_SETPCAP to narrow it)'}`;
}
