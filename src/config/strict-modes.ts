/**
 * StrictModes for files that decide what runs as root, like OpenSSH's StrictModes
 * and sudo's sudoers checks: a hook program, and a config file that names hooks or
 * holds passwords, must be owned by a trusted user and writable by nobody else,
 * and so must every directory on its path (whoever can write a directory can
 * replace the file in it). Otherwise whoever can write one of them runs code as
 * root at the next `ts-vpn up`.
 *
 * Trusted owners: root and the user ts-vpn runs as, for everything; also the
 * invoking user ($SUDO_UID under sudo) for files that are only read (a config).
 * A directory writable by others is accepted only when it is root's and has the
 * sticky bit (like /tmp): then nobody else can rename or replace what it holds.
 */
import { readFileSync } from 'node:fs';
import { access, constants, lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigIssue } from './errors.js';

/** How a file is used: `exec` files run as the ts-vpn user; `read` files are only read. */
export type FileUse = 'read' | 'exec';

export interface StrictModesOptions {
  /** Owners allowed for every file and directory (default: root and the effective uid). */
  execUids?: readonly number[];
  /** Owners allowed for files only read, and their directories (default: execUids plus $SUDO_UID). */
  readUids?: readonly number[];
}

/** The PATH hooks run with (the same as src/runtime/hooks.ts), to find a hook's program. */
export const HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The trusted owners of this process: root, the effective user, and under sudo the invoking user. */
export function defaultTrust(env: NodeJS.ProcessEnv = process.env): Required<StrictModesOptions> {
  const euid = process.geteuid?.() ?? 0;
  const execUids = [...new Set([0, euid])];
  const sudo = Number(env.SUDO_UID);
  const readUids =
    euid === 0 && Number.isInteger(sudo) && sudo > 0 ? [...execUids, sudo] : [...execUids];
  return { execUids, readUids };
}

function octal(m: number): string {
  return `0${(m & 0o7777).toString(8).padStart(3, '0')}`;
}

let passwd: Map<number, string> | null = null;
/** `alice (uid 1000)`, or `uid 1000` when /etc/passwd does not name it. */
function owner(uid: number): string {
  if (passwd === null) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && f[0] && !passwd.has(Number(f[2]))) passwd.set(Number(f[2]), f[0]);
      }
    } catch {
      // no /etc/passwd: numbers only
    }
  }
  const name = passwd.get(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

/** `/a/b/c` → `/`, `/a`, `/a/b` (the directories that hold `c`, outermost first). */
function ancestors(abs: string): string[] {
  const out: string[] = [];
  let d = dirname(abs);
  for (;;) {
    out.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return out;
}

interface Subject {
  /** The file the user named (for the message). */
  file: string;
  field: string;
  /** Why it matters, e.g. "names hooks that run as root". */
  why: string;
  use: FileUse;
}

function checkOwnerAndMode(
  path: string,
  st: { uid: number; mode: number },
  isDir: boolean,
  s: Subject,
  trusted: readonly number[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const what = isDir
    ? `${s.file} ${s.why}, but its directory ${path}`
    : path === s.file
      ? `${s.file} ${s.why}, but it`
      : `${s.file} ${s.why}, but ${path} (where it leads)`;
  if (!trusted.includes(st.uid)) {
    const fix = isDir
      ? `move the file to a directory owned by root (e.g. /etc/ts-vpn), or run chown root ${path}`
      : `run chown root ${path}`;
    issues.push({
      path: s.field,
      message: `${what} is owned by ${owner(st.uid)}, who could change it; ${fix}`,
    });
  }
  const others = st.mode & 0o022;
  const stickyRootDir = isDir && (st.mode & 0o1000) !== 0 && st.uid === 0;
  if (others !== 0 && !stickyRootDir) {
    const who = (others & 0o020 ? ['group'] : []).concat(others & 0o002 ? ['others'] : []);
    issues.push({
      path: s.field,
      message: `${what} is writable by ${who.join(' and ')} (mode ${octal(st.mode)}); run chmod go-w ${path}`,
    });
  }
  return issues;
}

/** Checks one path and its directories; the path must be absolute. */
async function checkChain(
  abs: string,
  s: Subject,
  opts: Required<StrictModesOptions>,
): Promise<ConfigIssue[]> {
  const trusted = s.use === 'exec' ? opts.execUids : opts.readUids;
  const issues: ConfigIssue[] = [];
  for (const d of ancestors(abs)) {
    const st = await lstat(d).catch(() => null);
    if (st === null || st.isSymbolicLink()) continue; // the real path is checked too
    issues.push(...checkOwnerAndMode(d, st, true, s, trusted));
  }
  const st = await lstat(abs).catch(() => null);
  if (st && !st.isSymbolicLink()) {
    if (!st.isFile())
      issues.push({ path: s.field, message: `${s.file} ${s.why}, but it is not a regular file` });
    else issues.push(...checkOwnerAndMode(abs, st, false, s, trusted));
  }
  return issues;
}

/**
 * Checks that `path` (and every directory on the way to it, both as written and
 * after following symlinks) is owned by a trusted user and not writable by group
 * or others. `why` completes "<file> <why>, but …". Returns the problems (none: []).
 * A missing file is not reported here (the caller says what is missing).
 */
export async function checkTrustedFile(
  path: string,
  field: string,
  why: string,
  use: FileUse,
  options: StrictModesOptions = {},
): Promise<ConfigIssue[]> {
  const base = defaultTrust();
  const execUids = options.execUids ?? base.execUids;
  const opts = {
    execUids,
    readUids: options.readUids ?? [...new Set([...execUids, ...base.readUids])],
  };
  const abs = resolve(path);
  const s: Subject = { file: abs, field, why, use };
  const issues = await checkChain(abs, s, opts);
  const real = await realpath(abs).catch(() => null);
  if (real !== null && real !== abs) issues.push(...(await checkChain(real, s, opts)));
  // One message per problem, even when the written and the real path share directories.
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.message) && seen.add(i.message));
}

// ---------------------------------------------------------------- hook commands

/** Words of a shell command line, roughly: split at blanks and operators, quotes removed. */
function shellWords(command: string): string[][] {
  return command
    .split(/;|&&|\|\||\||&|\n|\(|\)/)
    .map((part) =>
      part
        .split(/[\s<>]+/)
        .map((w) => w.replace(/^(["'])(.*)\1$/, '$2'))
        .filter((w) => w !== ''),
    )
    .filter((words) => words.length > 0);
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return (await lstat(p)).isFile() || (await realpath(p)) !== p;
  } catch {
    return false;
  }
}

/**
 * The files a hook command runs: the program of each simple command (found in
 * {@link HOOK_PATH} when it has no `/`; sudo/env/exec prefixes and VAR=value skipped)
 * and every other word that is the path of an existing file (`sh /etc/ts-vpn/up.sh`).
 * Shell builtins and words with `$` are not files and are skipped. Paths are
 * resolved against `baseDir`.
 */
export async function hookFiles(
  command: string,
  baseDir: string,
  pathEnv: string = HOOK_PATH,
): Promise<string[]> {
  const out: string[] = [];
  for (const words of shellWords(command)) {
    let programSeen = false;
    for (const w of words) {
      if (w.includes('$') || w.includes('`')) continue;
      const isProgram =
        !programSeen &&
        !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) &&
        !w.startsWith('-') &&
        !['sudo', 'env', 'exec', 'nice', 'nohup', 'command'].includes(w);
      if (isProgram) programSeen = true;
      if (w.includes('/')) {
        const p = isAbsolute(w) ? w : resolve(baseDir, w);
        const st = await lstat(p).catch(() => null);
        if (st && !st.isDirectory()) out.push(p);
      } else if (isProgram) {
        for (const dir of pathEnv.split(':')) {
          if (!dir) continue;
          const p = join(dir, w);
          if (await executable(p)) {
            out.push(p);
            break;
          }
        }
      }
    }
  }
  return [...new Set(out)];
}

/**
 * StrictModes for one command line run as root (a hook, or `remote.command` with
 * `transport: command`): each program or script it names, with its directories.
 */
export async function checkHookCommand(
  command: string,
  field: string,
  baseDir: string,
  options: StrictModesOptions = {},
  pathEnv: string = HOOK_PATH,
): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const f of await hookFiles(command, baseDir, pathEnv)) {
    issues.push(...(await checkTrustedFile(f, field, `is run by ${field}`, 'exec', options)));
  }
  return issues;
}
