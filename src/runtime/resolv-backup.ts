/**
 * The original of a resolv.conf we replace (issue 15 item 3). `dns.write-to` may name a
 * file that already exists, often a symlink (/etc/resolv.conf → systemd-resolved's
 * stub). Before our file goes in, what was there (the link and its target text, or the
 * file's bytes, mode and owner, or nothing) is saved atomically to
 * `<state dir>/resolv-backup.json`; on exit it is put back (a symlink again, atomically:
 * new link + rename), and the next start after a crash (kill -9) does the same from the
 * backup. Only while the path still holds what we wrote: a file someone changed since
 * is left alone and said.
 */
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileSafe } from '../sys/safe-files.js';

export const BACKUP_FILE = 'resolv-backup.json';

/** What was at the path before us. */
export type Original =
  | { kind: 'symlink'; target: string }
  | { kind: 'file'; content: string; mode: number; uid: number; gid: number }
  | { kind: 'absent' };

export interface ResolvBackup {
  path: string;
  original: Original;
  /** What we wrote (the path is ours while it holds exactly this). */
  ours: string;
}

interface Log {
  info(msg: string): void;
  warn(msg: string): void;
}

/** What is at `path` now, without following a symlink. */
export function inspectPath(path: string): Original {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return { kind: 'absent' };
  }
  if (st.isSymbolicLink()) return { kind: 'symlink', target: readlinkSync(path) };
  let content = '';
  try {
    if (st.isFile()) content = readFileSync(path).toString('base64');
  } catch {
    /* unreadable: never equal to ours, so never replaced back */
  }
  return {
    kind: 'file',
    content,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
  };
}

/** A link into systemd-resolved's runtime directory (stub-resolv.conf, resolv.conf). */
export function isResolvedLink(target: string): boolean {
  return /(^|\/)run\/systemd\/resolve\//.test(target);
}

/** Describes an original for a message. */
export function describeOriginal(o: Original): string {
  return o.kind === 'symlink'
    ? `a symlink to ${o.target}`
    : o.kind === 'file'
      ? 'a file'
      : 'not there';
}

function backupPath(dir: string): string {
  return join(dir, BACKUP_FILE);
}

export function readBackup(dir: string): ResolvBackup | null {
  try {
    const b = JSON.parse(readFileSync(backupPath(dir), 'utf8')) as ResolvBackup;
    if (typeof b?.path !== 'string' || typeof b.ours !== 'string' || !b.original) return null;
    return b;
  } catch {
    return null;
  }
}

/**
 * Records that we are about to write `ours` to `path`. The first call saves what is
 * there now; later calls (new servers after a reconnect) keep that original and only
 * update `ours`.
 */
export function saveBackup(dir: string, path: string, ours: string): ResolvBackup {
  const prev = readBackup(dir);
  const b: ResolvBackup =
    prev && prev.path === path ? { ...prev, ours } : { path, original: inspectPath(path), ours };
  writeFileSafe(backupPath(dir), `${JSON.stringify(b, null, 2)}\n`, { mode: 0o600 });
  return b;
}

/** Puts the original back when `path` still holds what we wrote; removes the backup. */
export function restoreBackup(dir: string, log: Log, why = ''): 'restored' | 'changed' | 'none' {
  const b = readBackup(dir);
  if (!b) return 'none';
  const now = inspectPath(b.path);
  const ours = Buffer.from(b.ours).toString('base64');
  let result: 'restored' | 'changed' = 'restored';
  if (now.kind === 'file' && now.content === ours) {
    const o = b.original;
    if (o.kind === 'symlink') {
      const tmp = join(
        dirname(b.path),
        `.${basename(b.path)}.${process.pid}.${randomBytes(4).toString('hex')}.link`,
      );
      symlinkSync(o.target, tmp);
      renameSync(tmp, b.path);
    } else if (o.kind === 'file') {
      writeFileSafe(b.path, Buffer.from(o.content, 'base64'), { mode: o.mode });
      try {
        chownSync(b.path, o.uid, o.gid);
      } catch {
        /* not root: the owner stays ours */
      }
    } else rmSync(b.path, { force: true });
    log.info(`dns: put back ${b.path} (${describeOriginal(o)})${why}`);
  } else if (now.kind === 'absent' && b.original.kind === 'absent') {
    // Nothing to do.
  } else {
    result = 'changed';
    log.warn(
      `dns: ${b.path} was changed by someone else since we wrote it; left in place (it was ${describeOriginal(b.original)} before us)`,
    );
  }
  rmSync(backupPath(dir), { force: true });
  return result;
}
