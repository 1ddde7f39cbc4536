/**
 * OpenSSH client configuration (ssh_config(5)) lookup for one host: which value each
 * keyword has for it, and the file:line it came from. The file format is parsed by the
 * npm `ssh-config` package; the lookup rules are ours, tested against `ssh -G`:
 *
 * - files in order (user `~/.ssh/config`, then system `/etc/ssh/ssh_config`, or one
 *   `-F`-style file); the first value obtained for a keyword wins, except IdentityFile,
 *   which accumulates;
 * - `Host` patterns: whitespace-separated, `*` `?` wildcards, `!` negation, matched
 *   case-sensitively against the host name as given (as OpenSSH 9 does);
 *   a line matches when some pattern matches and no negated one does;
 * - `Match all|host|originalhost|user|localuser` (optionally negated with `!`); other
 *   criteria (exec, canonical, final, localnetwork, tagged) are not evaluated: the block
 *   is skipped with a warning;
 * - `Include` (globs, relative to ~/.ssh for user files and /etc/ssh for system files),
 *   processed only where the enclosing block applies; include loops, depth > 16, more
 *   than 64 files and files over 256 KiB are errors (OpenSSH reads any size; parsing a
 *   huge file with the npm parser takes seconds per MB);
 * - unknown keywords are ignored (a debug note), as ts-vpn uses only a few of them.
 *
 * Nothing here runs a command (no ProxyCommand, no Match exec).
 */

import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { type Line, LineType } from 'ssh-config';
import { CodedError } from '../coded-error.js';
import { matchPattern } from './ssh-patterns.js';

export const SSH_CONFIG_LIMITS = { maxFileBytes: 256 * 1024, maxDepth: 16, maxFiles: 64 } as const;

export interface SshConfigFile {
  path: string;
  /** Relative Include paths resolve against ~/.ssh (user) or /etc/ssh (system). */
  kind: 'user' | 'system';
}

export interface SshConfigValue {
  /** Arguments as written (quotes removed), e.g. `['~/.ssh/id_%h']`. */
  args: string[];
  /** `file:line`. */
  origin: string;
}

export interface SshConfigLookup {
  /** The first value of each keyword (lower-case) that applies to the host. */
  values: Map<string, SshConfigValue>;
  /** Every IdentityFile that applies, in order. */
  identityFiles: SshConfigValue[];
  /** Files read, in order. */
  files: string[];
  /** Things the user should see (skipped Match blocks, ignored keywords that matter). */
  warnings: string[];
  /** Debug lines (unknown keywords, includes that matched nothing). */
  notes: string[];
}

export interface SshConfigLookupOptions {
  files: SshConfigFile[];
  /** Home directory for `~` and user-relative includes. */
  home: string;
  /** Local user name (`Match localuser`, `%u`). */
  localUser: string;
  /** Remote user when none is configured (`Match user` before a User line). */
  defaultUser?: string;
  /** Override the size/depth/count limits (tests). */
  limits?: Partial<typeof SSH_CONFIG_LIMITS>;
}

export class SshConfigError extends CodedError<'SSH_CONFIG'> {
  override readonly name = 'SshConfigError';
  constructor(message: string) {
    super('SSH_CONFIG', message);
  }
}

/** Keywords ts-vpn reads (lower-case); others are ignored with a debug note. */
const USED = new Set([
  'hostname',
  'port',
  'user',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'globalknownhostsfile',
  'hostkeyalias',
  'stricthostkeychecking',
  'hashknownhosts',
  'serveraliveinterval',
  'serveralivecountmax',
  'connecttimeout',
  'ciphers',
  'batchmode',
  'passwordauthentication',
  'kbdinteractiveauthentication',
  'challengeresponseauthentication',
  'numberofpasswordprompts',
]);

/** Keywords that take several values on one line (the others take the first argument). */
const MULTI = new Set(['userknownhostsfile', 'globalknownhostsfile']);

interface Ctx {
  host: string;
  opts: SshConfigLookupOptions;
  limits: typeof SSH_CONFIG_LIMITS;
  out: SshConfigLookup;
  /** Files being read (include chain), for loop detection. */
  stack: string[];
  filesRead: number;
}

/** Looks `host` up (the name as given, e.g. an alias from ssh.host). Throws SshConfigError. */
export function lookupSshConfig(host: string, opts: SshConfigLookupOptions): SshConfigLookup {
  const out: SshConfigLookup = {
    values: new Map(),
    identityFiles: [],
    files: [],
    warnings: [],
    notes: [],
  };
  const ctx: Ctx = {
    host,
    opts,
    limits: { ...SSH_CONFIG_LIMITS, ...opts.limits },
    out,
    stack: [],
    filesRead: 0,
  };
  for (const f of opts.files) {
    const text = readConfigFile(f.path, ctx, null);
    if (text === null) continue;
    walkFile(text, f, ctx);
  }
  return out;
}

/** Reads a config file: null when it does not exist (top-level files are optional). */
function readConfigFile(path: string, ctx: Ctx, includedFrom: string | null): string | null {
  const where = includedFrom ? ` (included from ${includedFrom})` : '';
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO (or device) must not block the open; it is refused below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && includedFrom === null) return null;
    throw new SshConfigError(`cannot read ssh config ${path}${where}: ${e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SshConfigError(`ssh config ${path}${where} is not a regular file`);
    if (st.size > ctx.limits.maxFileBytes)
      throw new SshConfigError(
        `ssh config ${path}${where} is ${st.size} bytes; ts-vpn reads ssh_config files up to ${ctx.limits.maxFileBytes} bytes (set ssh.config: false to not read it)`,
      );
    if (++ctx.filesRead > ctx.limits.maxFiles)
      throw new SshConfigError(
        `more than ${ctx.limits.maxFiles} ssh config files through Include (at ${path}${where})`,
      );
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    const text = buf.subarray(0, off).toString('utf8');
    if (text.includes('\0'))
      throw new SshConfigError(`ssh config ${path}${where} is not a text file (NUL bytes)`);
    ctx.out.files.push(path);
    return text;
  } finally {
    closeSync(fd);
  }
}

/** A parsed line with its 1-based line number. */
interface Numbered {
  line: Line;
  no: number;
  children: Numbered[];
}

/**
 * Line numbers for the parser's tree: every element's text is one line except for the
 * newlines kept in its before/after (and, for a keyword without a value, in its param).
 */
function numberLines(cfg: Line[]): Numbered[] {
  let no = 1;
  const count = (s: unknown) => (typeof s === 'string' ? s.split('\n').length - 1 : 0);
  const walk = (lines: Line[]): Numbered[] =>
    lines.map((line) => {
      no += count(line.before);
      const here = no;
      if (line.type === LineType.DIRECTIVE) {
        no += count(line.param) + count(line.separator);
        if (typeof line.value === 'string') no += count(line.value);
      }
      no += count(line.after);
      const children =
        line.type === LineType.DIRECTIVE && 'config' in line ? walk(line.config) : [];
      return { line, no: here, children };
    });
  return walk(cfg);
}

function argsOf(line: Line & { type: LineType.DIRECTIVE }): string[] {
  const v = line.value;
  if (Array.isArray(v)) return v.map((x) => x.val);
  if (line.quoted) return [v];
  return v.split(/[ \t]+/).filter((s) => s !== '');
}

function walkFile(text: string, file: SshConfigFile, ctx: Ctx): void {
  if (ctx.stack.includes(file.path)) {
    throw new SshConfigError(`ssh config Include loop: ${[...ctx.stack, file.path].join(' → ')}`);
  }
  if (ctx.stack.length >= ctx.limits.maxDepth)
    throw new SshConfigError(
      `ssh config Include nesting deeper than ${ctx.limits.maxDepth} (at ${file.path}, included through ${ctx.stack.join(' → ')})`,
    );
  let parsed: Line[];
  try {
    parsed = SSHConfig.parse(text);
  } catch (err) {
    throw new SshConfigError(`ssh config ${file.path}: ${(err as Error).message}`);
  }
  ctx.stack.push(file.path);
  try {
    walk(numberLines(parsed), file, ctx, true);
  } finally {
    ctx.stack.pop();
  }
}

function walk(lines: Numbered[], file: SshConfigFile, ctx: Ctx, active: boolean): void {
  for (const { line, no, children } of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    const origin = `${file.path}:${no}`;
    const rawParam = line.param;
    if (/\s/.test(rawParam)) {
      throw new SshConfigError(`${origin}: ${rawParam.trim()}: missing argument`);
    }
    const kw = rawParam.toLowerCase();
    const args = argsOf(line);
    if (kw === 'host') {
      walk(children, file, ctx, matchHostLine(ctx.host, args));
      continue;
    }
    if (kw === 'match') {
      walk(children, file, ctx, matchMatchLine(args, origin, ctx));
      continue;
    }
    if (!active) continue;
    if (args.length === 0) throw new SshConfigError(`${origin}: ${rawParam}: missing argument`);
    if (kw === 'include') {
      include(args, file, origin, ctx);
      continue;
    }
    if (!USED.has(kw)) {
      ctx.out.notes.push(`${origin}: ${rawParam} is not used by ts-vpn; ignored`);
      continue;
    }
    if (kw === 'identityfile') {
      ctx.out.identityFiles.push({ args: [args[0]], origin });
      continue;
    }
    if (!ctx.out.values.has(kw))
      ctx.out.values.set(kw, { args: MULTI.has(kw) ? args : [args[0]], origin });
  }
}

/** OpenSSH `Host` line: some positive pattern matches and no negated one does. */
export function matchHostLine(host: string, patterns: string[]): boolean {
  let positive = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    if (matchPatternList(host, neg ? p.slice(1) : p)) {
      if (neg) return false;
      positive = true;
    }
  }
  return positive;
}

/** One pattern (Host patterns do not take comma lists, but match_pattern is per word). */
function matchPatternList(host: string, pattern: string): boolean {
  return matchPattern(host, pattern);
}

/** `Match` criteria with their arguments: `all`, `host a,b`, `!user x`, … */
function matchMatchLine(args: string[], origin: string, ctx: Ctx): boolean {
  let i = 0;
  let result = true;
  const commaMatch = (value: string, list: string) => {
    let positive = false;
    for (const p of list.split(',')) {
      const neg = p.startsWith('!');
      if (matchPattern(value, neg ? p.slice(1) : p)) {
        if (neg) return false;
        positive = true;
      }
    }
    return positive;
  };
  while (i < args.length) {
    let crit = args[i++].toLowerCase();
    const negate = crit.startsWith('!');
    if (negate) crit = crit.slice(1);
    if (crit === 'all') continue;
    const arg = args[i++];
    if (arg === undefined) throw new SshConfigError(`${origin}: Match ${crit}: missing argument`);
    let m: boolean;
    switch (crit) {
      case 'host': {
        const hn = ctx.out.values.get('hostname')?.args[0];
        m = commaMatch((hn ? expandHostName(hn, ctx.host) : ctx.host).toLowerCase(), arg);
        break;
      }
      case 'originalhost':
        m = commaMatch(ctx.host, arg);
        break;
      case 'user':
        m = commaMatch(
          ctx.out.values.get('user')?.args[0] ?? ctx.opts.defaultUser ?? ctx.opts.localUser,
          arg,
        );
        break;
      case 'localuser':
        m = commaMatch(ctx.opts.localUser, arg);
        break;
      default:
        ctx.out.warnings.push(
          `${origin}: Match ${crit} is not evaluated by ts-vpn (no commands are run); this Match block is skipped (use ssh.client: openssh for the full OpenSSH behaviour)`,
        );
        return false;
    }
    if (m === negate) result = false;
  }
  return result;
}

/** HostName's own tokens: `%h` (the host as given) and `%%`. */
export function expandHostName(value: string, host: string): string {
  return value.replace(/%([%h])/g, (_, k: string) => (k === '%' ? '%' : host));
}

function include(args: string[], file: SshConfigFile, origin: string, ctx: Ctx): void {
  for (const arg of args) {
    let pattern = arg;
    if (pattern === '~' || pattern.startsWith('~/'))
      pattern = join(ctx.opts.home, pattern.slice(1));
    else if (!isAbsolute(pattern))
      pattern =
        file.kind === 'user' ? join(ctx.opts.home, '.ssh', pattern) : join('/etc/ssh', pattern);
    const matches = globFiles(pattern);
    if (matches.length === 0) {
      ctx.out.notes.push(`${origin}: Include ${arg} matched no file`);
      continue;
    }
    for (const path of matches) {
      const text = readConfigFile(path, ctx, origin);
      if (text === null) continue;
      walkFile(text, { path, kind: file.kind }, ctx);
    }
  }
}

/** glob(3) with `*` and `?` in any path component: the regular files that match, sorted per directory. */
function globFiles(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch (err) {
      // An explicit file that exists but cannot be read is reported when read.
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? [] : [pattern];
    }
  }
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (part === '') continue;
    const next: string[] = [];
    for (const b of bases) {
      if (!/[*?]/.test(part)) {
        next.push(join(b, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(b);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        if (matchPattern(n, part)) next.push(join(b, n));
      }
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}
