/**
 * The peer's DNS servers (RFC 1877, `ppp.use-peer-dns`), like pppd's `usepeerdns`:
 *
 * - written to a resolv.conf-style file (`nameserver X` lines; default
 *   /run/ts-vpn/<name>/resolv.conf, `dns.write-to`) atomically (temp file +
 *   rename) with mode 0644, and removed again by restore() — only if it still
 *   holds what we wrote;
 * - optionally handed to systemd-resolved as per-link DNS
 *   (`resolvectl dns IFNAME S1 S2`, `resolvectl domain IFNAME ~.`), only when asked
 *   for and when `resolvectl` exists and resolved runs; restore() runs
 *   `resolvectl revert IFNAME`.
 *
 * An existing file at the path is never destroyed (src/runtime/resolv-backup.ts): a
 * symlink into systemd-resolved's directory (the usual /etc/resolv.conf) makes us use
 * per-link DNS through resolvectl instead of touching the file, when resolved runs;
 * anything else is saved to the state directory first, put back on exit, and put back
 * by the next start after a crash. Without a state directory (library use) a symlink is
 * refused, never replaced.
 *
 * Peer input is checked: only IP literals reach the file or the command line
 * (execFile, no shell). Nothing here throws; problems are logged and reported.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseIp } from '../wire/ip.js';
import {
  BACKUP_FILE,
  describeOriginal,
  inspectPath,
  isResolvedLink,
  readBackup,
  restoreBackup,
  saveBackup,
} from './resolv-backup.js';

/** resolv.conf(5) reads at most 3 nameservers (MAXNS). */
export const MAX_NAMESERVERS = 3;

export interface DnsLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
/** Runs a program without a shell. Injected in tests. */
export type CommandRunner = (file: string, args: string[]) => Promise<CommandResult>;

export interface ResolvectlDetection {
  available: boolean;
  /** Absolute path of resolvectl when found. */
  path: string | null;
  /** Why it is (un)available, for the log. */
  reason: string;
}

/** The `nameserver` file content, with a comment naming the tunnel. */
export function formatResolvConf(name: string, servers: readonly string[]): string {
  return `# written by ts-vpn for tunnel ${name}; removed when the tunnel stops\n${servers.map((s) => `nameserver ${s}\n`).join('')}`;
}

/** Keeps IP literals only (deduplicated, at most MAX_NAMESERVERS); returns the rest as rejected. */
export function cleanServers(servers: readonly string[]): { ok: string[]; rejected: string[] } {
  const ok: string[] = [];
  const rejected: string[] = [];
  for (const s of servers) {
    if (typeof s !== 'string' || parseIp(s) === null || s === '0.0.0.0' || s === '::')
      rejected.push(String(s));
    else if (!ok.includes(s) && ok.length < MAX_NAMESERVERS) ok.push(s);
  }
  return { ok, rejected };
}

/**
 * Writes `content` to `path` atomically: a temp file in the same directory,
 * fsync, chmod 0644 (whatever the umask), rename over the target. Throws on
 * failure (the temp file is removed).
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

const DEFAULT_PATH_DIRS = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

/**
 * Is systemd-resolved usable? Needs the `resolvectl` program (searched in PATH and
 * the usual directories) and resolved running (/run/systemd/resolve exists).
 */
export function detectResolvectl(
  opts: { pathDirs?: string[]; resolvedRunDir?: string } = {},
): ResolvectlDetection {
  const dirs = opts.pathDirs ?? [
    ...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')),
    ...DEFAULT_PATH_DIRS,
  ];
  let found: string | null = null;
  for (const d of dirs) {
    const p = join(d, 'resolvectl');
    try {
      accessSync(p, constants.X_OK);
      found = p;
      break;
    } catch {
      /* next */
    }
  }
  if (!found)
    return {
      available: false,
      path: null,
      reason: 'resolvectl not found (systemd-resolved is not installed)',
    };
  const run = opts.resolvedRunDir ?? '/run/systemd/resolve';
  if (!existsSync(run))
    return { available: false, path: found, reason: `systemd-resolved is not running (no ${run})` };
  return { available: true, path: found, reason: `${found}, systemd-resolved running` };
}

const defaultRunner: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : null
        : 0;
      resolve({
        code,
        stdout: stdout ?? '',
        stderr: (stderr || (err && code === null ? err.message : '')) ?? '',
      });
    });
  });

export interface PeerDnsOptions {
  /** Tunnel name (PeerConfig.name), for the file's comment. */
  name: string;
  /** The tunnel interface, for resolvectl. */
  ifname: string;
  /** File to write (PeerConfig.dns.writeTo); null = no file. */
  writeTo: string | null;
  /** Also configure systemd-resolved per-link DNS (when resolvectl is available). Default false. */
  resolved?: boolean;
  /** resolvectl routing domains for the link, e.g. ['~.'] to send every query to it (default-route tunnels). Default none. */
  domains?: string[];
  log?: DnsLog;
  /**
   * Where the original of `writeTo` is kept while ours is in place (the tunnel's state
   * directory). Null: a symlink at `writeTo` is not replaced.
   */
  backupDir?: string | null;
  /** Tests: command runner and detection. */
  run?: CommandRunner;
  detect?: () => ResolvectlDetection;
}

export interface DnsApplyResult {
  /** Servers actually used (validated). */
  servers: string[];
  /** Peer values refused (not IP literals). */
  rejected: string[];
  /** The file written, or null. */
  file: string | null;
  /** What happened with systemd-resolved. */
  resolved: 'not-requested' | 'unavailable' | 'applied' | 'failed';
  /** Human explanation for `resolved`. */
  resolvedReason: string;
}

export class PeerDns {
  private readonly opts: PeerDnsOptions;
  private readonly run: CommandRunner;
  private written: { path: string; content: string } | null = null;
  private resolvedApplied: { path: string; ifname: string } | null = null;

  constructor(opts: PeerDnsOptions) {
    this.opts = opts;
    this.run = opts.run ?? defaultRunner;
  }

  /** The file we wrote and still own (for the state file), or null. */
  get writtenFile(): string | null {
    return this.written?.path ?? null;
  }

  /** Writes the file and/or sets per-link DNS. Call again after a reconnect with the new servers. */
  async apply(servers: readonly string[]): Promise<DnsApplyResult> {
    const log = this.opts.log;
    const { ok, rejected } = cleanServers(servers);
    if (rejected.length)
      log?.warn(
        `dns: ignoring invalid server(s) from the peer: ${rejected.map((s) => JSON.stringify(s)).join(', ')}`,
      );
    const result: DnsApplyResult = {
      servers: ok,
      rejected,
      file: null,
      resolved: 'not-requested',
      resolvedReason: 'not requested in the config',
    };
    if (ok.length === 0) {
      log?.info('dns: the peer gave no DNS servers');
      this.removeFile();
      await this.revertResolved();
      return result;
    }

    const path = this.opts.writeTo;
    let viaResolved = false;
    if (path) {
      const content = formatResolvConf(this.opts.name, ok);
      const before = this.written?.path === path ? null : inspectPath(path);
      const backupDir = this.opts.backupDir ?? null;
      if (before?.kind === 'symlink' && isResolvedLink(before.target) && this.detect().available) {
        viaResolved = true;
        log?.info(
          `dns: ${path} is a symlink to ${before.target} (systemd-resolved): setting per-link DNS on ${this.opts.ifname} instead of replacing it`,
        );
      } else if (before?.kind === 'symlink' && backupDir === null) {
        log?.warn(
          `dns: ${path} is a symlink to ${before.target}; not replaced (set dns.write-to to a file of its own)`,
        );
      } else {
        try {
          if (backupDir !== null) {
            const b = saveBackup(backupDir, path, content);
            if (before && before.kind !== 'absent')
              log?.warn(
                `dns: ${path} was ${describeOriginal(b.original)}; replaced while the tunnel is up, kept in ${join(backupDir, BACKUP_FILE)} and put back on exit`,
              );
          }
          writeFileAtomic(path, content);
          this.written = { path, content };
          result.file = path;
          log?.info(`dns: wrote ${ok.join(' ')} to ${path}`);
        } catch (err) {
          log?.warn(`dns: cannot write ${path}: ${(err as Error).message}`);
        }
      }
    }

    if (this.opts.resolved || viaResolved) {
      const det = this.detect();
      if (!det.available || !det.path) {
        result.resolved = 'unavailable';
        result.resolvedReason = det.reason;
        log?.warn(`dns: systemd-resolved per-link DNS not set: ${det.reason}`);
      } else {
        const ifname = this.opts.ifname;
        const steps: string[][] = [['dns', ifname, ...ok]];
        if (this.opts.domains?.length) steps.push(['domain', ifname, ...this.opts.domains]);
        let failure: string | null = null;
        for (const args of steps) {
          const r = await this.run(det.path, args);
          if (r.code !== 0) {
            failure = `resolvectl ${args.join(' ')}: ${r.stderr.trim() || `exit code ${r.code}`}`;
            break;
          }
        }
        // Even a partial change is ours to revert.
        this.resolvedApplied = { path: det.path, ifname };
        if (failure) {
          result.resolved = 'failed';
          result.resolvedReason = failure;
          log?.warn(`dns: ${failure}`);
        } else {
          result.resolved = 'applied';
          result.resolvedReason = `resolvectl dns ${ifname} ${ok.join(' ')}${this.opts.domains?.length ? `; domain ${this.opts.domains.join(' ')}` : ''}`;
          log?.info(`dns: systemd-resolved: ${result.resolvedReason}`);
        }
      }
    }
    return result;
  }

  private detect(): ResolvectlDetection {
    return (this.opts.detect ?? detectResolvectl)();
  }

  /** Undoes apply(): removes our file (if unchanged since) and reverts resolved's per-link settings. */
  async restore(): Promise<void> {
    this.removeFile();
    await this.revertResolved();
  }

  /** Same as restore() for exit handlers that cannot wait (resolvectl runs synchronously, 5 s cap). */
  restoreSync(): void {
    this.removeFile();
    const r = this.resolvedApplied;
    if (!r) return;
    this.resolvedApplied = null;
    try {
      execFileSync(r.path, ['revert', r.ifname], { stdio: 'ignore', timeout: 5000 });
    } catch (err) {
      this.opts.log?.warn(`dns: resolvectl revert ${r.ifname}: ${(err as Error).message}`);
    }
  }

  private removeFile(): void {
    const w = this.written;
    if (!w) return;
    this.written = null;
    const backupDir = this.opts.backupDir ?? null;
    if (backupDir !== null && readBackup(backupDir)?.path === w.path) {
      const log = this.opts.log ?? { info: () => {}, warn: () => {} };
      try {
        restoreBackup(backupDir, log);
      } catch (err) {
        log.warn(`dns: cannot put back ${w.path}: ${(err as Error).message}`);
      }
      return;
    }
    const removed = removeOwnedFile(w.path, w.content);
    if (removed === 'changed')
      this.opts.log?.warn(`dns: ${w.path} was changed by someone else; left in place`);
    else if (removed === 'removed') this.opts.log?.debug?.(`dns: removed ${w.path}`);
  }

  private async revertResolved(): Promise<void> {
    const r = this.resolvedApplied;
    if (!r) return;
    this.resolvedApplied = null;
    const res = await this.run(r.path, ['revert', r.ifname]);
    if (res.code !== 0)
      this.opts.log?.warn(
        `dns: resolvectl revert ${r.ifname}: ${res.stderr.trim() || `exit code ${res.code}`}`,
      );
  }
}

/**
 * At start, after a run that died without cleaning up: puts back the resolv.conf it
 * replaced (from the backup in `stateDir`), or removes the file it wrote (`written`,
 * from its state file) when that still carries our header. Never throws.
 */
export function recoverResolvConf(stateDir: string, written: string | null, log: DnsLog): void {
  try {
    if (restoreBackup(stateDir, log, ' after the previous run') !== 'none') return;
    if (written && readFileSync(written, 'utf8').startsWith('# written by ts-vpn for tunnel '))
      unlinkSync(written);
  } catch (err) {
    log.warn(`dns: cleaning up after the previous run: ${(err as Error).message}`);
  }
}

/** Removes `path` only when it still holds `content`. */
export function removeOwnedFile(
  path: string,
  content: string,
): 'removed' | 'gone' | 'changed' | 'error' {
  let now: string;
  try {
    now = readFileSync(path, 'utf8');
  } catch {
    return 'gone';
  }
  if (now !== content) return 'changed';
  try {
    unlinkSync(path);
    return 'removed';
  } catch {
    return 'error';
  }
}
