/**
 * Files root writes into directories it does not fully control (a `--state-dir`
 * elsewhere than /run/ts-vpn, the invoking user's known_hosts, a resolv.conf), written
 * the way OpenSSH treats its user files (`safe_path()` in misc.c):
 *
 * - every directory from the target up to `/` (symbolic links resolved first) must be
 *   owned by root or by an allowed owner, and not writable by group or others, unless it
 *   is a root-owned sticky directory such as /tmp (nobody else can rename our entries);
 * - the last component is opened with O_NOFOLLOW (a planted symlink fails with ELOOP
 *   instead of redirecting the write to /etc/shadow), and what was opened is checked
 *   with fstat: a regular file, an allowed owner, one link (no hard-linked victim);
 * - new files are made with O_CREAT|O_EXCL in the same directory, then renamed.
 *
 * Every refusal is an {@link UnsafePathError} that names the path, what is wrong and
 * the fix.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CodedError } from '../coded-error.js';

export class UnsafePathError extends CodedError<'UNSAFE_PATH'> {
  override readonly name = 'UnsafePathError';
  readonly path: string;
  constructor(path: string, message: string) {
    super('UNSAFE_PATH', message);
    this.path = path;
  }
}

export interface OwnerPolicy {
  /** Owners (besides root) allowed for directories of the chain and for the file itself. */
  owners?: readonly number[];
}

function euid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function allowed(uid: number, p: OwnerPolicy): boolean {
  return uid === 0 || uid === euid() || (p.owners ?? []).includes(uid);
}

/** Checks one directory of a chain (stat already taken). */
function checkDir(path: string, st: Stats, p: OwnerPolicy): void {
  if (!st.isDirectory()) throw new UnsafePathError(path, `${path} is not a directory`);
  if (!allowed(st.uid, p))
    throw new UnsafePathError(
      path,
      `${path} is owned by uid ${st.uid}, not by root: a root process will not write below it (chown root ${path}, or choose another directory)`,
    );
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !(sticky && st.uid === 0))
    throw new UnsafePathError(
      path,
      `${path} is writable by group or others (mode ${octal(st.mode)}): anyone could swap what is below it (chmod go-w ${path})`,
    );
}

/**
 * Checks that `dir` (which must exist) and every directory above it is safe to write
 * below: see the module comment. Symlinks in the path are resolved first, like OpenSSH.
 */
export function checkDirChain(dir: string, p: OwnerPolicy = {}): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    throw new UnsafePathError(dir, `${dir}: ${(err as Error).message}`);
  }
  for (let d = real; ; d = dirname(d)) {
    checkDir(d, lstatSync(d), p);
    if (d === dirname(d)) break;
  }
}

/**
 * Creates `dir` if needed (each missing directory made by us, mode `mode`, never through
 * a symlink planted meanwhile), checks the chain above it, and that `dir` itself is a
 * real directory owned by us with `mode`. Returns the directory.
 */
export function ensurePrivateDir(dir: string, mode = 0o700, p: OwnerPolicy = {}): string {
  const abs = resolve(dir);
  // The longest existing prefix; the rest is created one level at a time.
  const missing: string[] = [];
  let top = abs;
  for (;;) {
    try {
      lstatSync(top);
      break;
    } catch {
      missing.unshift(basename(top));
      const up = dirname(top);
      if (up === top) break;
      top = up;
    }
  }
  checkDirChain(top, p);
  let d = realpathSync(top);
  for (const name of missing) {
    d = join(d, name);
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const st = lstatSync(abs === d ? abs : d);
  if (st.isSymbolicLink())
    throw new UnsafePathError(abs, `${abs} is a symbolic link; use a real directory`);
  if (!st.isDirectory()) throw new UnsafePathError(abs, `${abs} is not a directory`);
  if (st.uid !== euid())
    throw new UnsafePathError(
      abs,
      `${abs} is owned by uid ${st.uid}, not by us (uid ${euid()}); remove it or choose another directory`,
    );
  checkDirChain(d, p);
  // Tighten our own directory (an older version may have left it wider).
  if ((st.mode & 0o7777) !== mode) {
    const fd = openSync(d, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
  }
  return d;
}

/** open(2) with O_NOFOLLOW; a symlink as the last component is an {@link UnsafePathError}. */
export function openNoFollow(path: string, flags: number, mode = 0o600): number {
  try {
    return openSync(path, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new UnsafePathError(
        path,
        `${path} is a symbolic link; refusing to write through it (remove the link)`,
      );
    throw err;
  }
}

/** Checks an opened file: a regular file, one link, an allowed owner. */
function checkOpened(path: string, fd: number, p: OwnerPolicy): Stats {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new UnsafePathError(path, `${path} is not a regular file`);
  if (st.nlink > 1)
    throw new UnsafePathError(
      path,
      `${path} has ${st.nlink} hard links; refusing to write to a file shared with another name`,
    );
  if (!allowed(st.uid, p))
    throw new UnsafePathError(path, `${path} is owned by uid ${st.uid}; refusing to write to it`);
  return st;
}

/**
 * Writes `content` to `path` atomically: a new temp file (O_EXCL|O_NOFOLLOW) in the same
 * directory, fsync, mode, owner, rename over `path` (rename replaces a symlink itself,
 * never its target). The directory chain is checked first.
 */
export function writeFileSafe(
  path: string,
  content: string | Uint8Array,
  opts: OwnerPolicy & { mode?: number; uid?: number; gid?: number } = {},
): void {
  const dir = dirname(resolve(path));
  checkDirChain(dir, opts);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = opts.mode ?? 0o600;
  let fd = -1;
  try {
    fd = openNoFollow(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
    fchmodSync(fd, mode);
    if (opts.uid !== undefined) fchownSync(fd, opts.uid, opts.gid ?? -1);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Appends `text` to `path` (created 0600 when missing, then given to `uid`/`gid` when
 * set): O_APPEND|O_NOFOLLOW, the opened file checked (regular, one link, allowed owner),
 * the directory chain checked with the same owners. `text` is told whether the file is
 * empty or ends with a newline. Returns the size before the append.
 */
export function appendFileSafe(
  path: string,
  text: (endsWithNewline: boolean) => string,
  opts: OwnerPolicy & { uid?: number; gid?: number } = {},
): number {
  checkDirChain(dirname(resolve(path)), opts);
  let created = false;
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDWR | constants.O_APPEND);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const flags = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL;
    fd = openNoFollow(path, flags, 0o600);
    created = true;
  }
  try {
    const st = checkOpened(path, fd, opts);
    if (created && opts.uid !== undefined && opts.uid !== st.uid)
      fchownSync(fd, opts.uid, opts.gid ?? -1);
    const last = Buffer.alloc(1);
    const clean =
      st.size === 0 || (readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] === 0x0a);
    writeSync(fd, text(clean));
    fsyncSync(fd);
    return st.size;
  } finally {
    closeSync(fd);
  }
}
