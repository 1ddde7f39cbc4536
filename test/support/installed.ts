/**
 * The package as users get it: `npm pack` of this repository, installed with
 * `npm install -g --prefix <dir> <tarball>`, and the `ts-vpn` bin of that install.
 * The CLI tests and the e2e lab (test/support/lab.ts `CLI`, also the far end's
 * `ts-vpn serve` that sshd starts) run that bin, not the sources and not dist/.
 *
 * Once per test run: vitest's globalSetup (test/support/global-setup.ts) calls
 * ensureInstalled() and hands the bin's path to every worker in TS_VPN_TEST_CLI.
 * The install is cached in $TMPDIR/ts-vpn-installed-<uid>/<key> (a directory this user
 * owns, mode 0755, so that tests can run the bin as nobody even when the repository sits
 * in a private directory), where <key> is a hash of what the tarball is made of (dist/
 * without source maps, package.json, package-lock.json, examples/): an unchanged build is
 * packed and installed once, not once per run. A lock directory (holding the owner's pid) keeps two processes from
 * installing at the same time. Dependencies come from the npm cache when it has them
 * (--prefer-offline), from the registry otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where installs are cached, one directory per key (TS_VPN_INSTALL_CACHE overrides). */
export const INSTALL_CACHE =
  process.env.TS_VPN_INSTALL_CACHE ?? join(tmpdir(), `ts-vpn-installed-${process.getuid?.() ?? 0}`);

/**
 * Creates INSTALL_CACHE, or accepts an existing one only if it is a real directory of
 * ours (not a symlink or another user's directory planted in a shared /tmp).
 */
function makeCacheDir(): void {
  try {
    mkdirSync(INSTALL_CACHE, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(INSTALL_CACHE);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid))
    throw new Error(
      `${INSTALL_CACHE} is not a directory owned by uid ${uid}: remove it, or set TS_VPN_INSTALL_CACHE`,
    );
  chmodSync(INSTALL_CACHE, 0o755);
}
/** The environment variable that carries the installed bin's path to test workers. */
export const INSTALLED_CLI_ENV = 'TS_VPN_TEST_CLI';

export interface Installed {
  /** The --prefix of the global install. */
  prefix: string;
  /** `<prefix>/bin/ts-vpn`, the symlink npm made, as on a user's PATH. */
  bin: string;
  /** `<prefix>/lib/node_modules/ts-vpn`, the installed package. */
  pkgDir: string;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (!p.endsWith('.map')) out.push(p);
  }
  return out;
}

/** A hash of everything the tarball and its install depend on. */
export function installKey(): string {
  const h = createHash('sha256');
  const files = [
    ...filesUnder(join(REPO, 'dist')),
    ...filesUnder(join(REPO, 'examples')),
    join(REPO, 'package.json'),
    join(REPO, 'package-lock.json'),
  ].sort();
  for (const f of files) {
    h.update(relative(REPO, f));
    h.update('\0');
    if (existsSync(f)) h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function layout(prefix: string): Installed {
  return {
    prefix,
    bin: join(prefix, 'bin', 'ts-vpn'),
    pkgDir: join(prefix, 'lib', 'node_modules', 'ts-vpn'),
  };
}

/** The installed package of the current test run (set by the globalSetup). */
export function installedFromEnv(): Installed {
  const bin = process.env[INSTALLED_CLI_ENV];
  if (!bin)
    throw new Error(
      `${INSTALLED_CLI_ENV} is not set: run the tests with vitest (vitest.config.ts globalSetup installs the package)`,
    );
  return layout(dirname(dirname(bin)));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withLock<T>(fn: () => T): Promise<T> {
  const lock = join(INSTALL_CACHE, '.lock');
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* being created or removed */
      }
      // A lock left by a process that is gone (killed run) is taken over.
      if (owner > 0 && !pidAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - t0 > 600_000)
        throw new Error(`install lock ${lock} held by pid ${owner} for 10 minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function packAndInstall(prefix: string): void {
  const packDir = mkdtempSync(join(tmpdir(), 'tv-pack-'));
  const staging = `${prefix}.tmp-${process.pid}`;
  try {
    const packed = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir],
      { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
    );
    const tgz = join(packDir, (JSON.parse(packed) as Array<{ filename: string }>)[0].filename);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true, mode: 0o755 });
    execFileSync(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        staging,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tgz,
      ],
      // Not from the repository: no .npmrc or workspace of ours applies.
      { cwd: packDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
    );
    if (!existsSync(layout(staging).bin))
      throw new Error(`npm install made no ${layout(staging).bin}`);
    // Readable by every user: tests run `status` / `down` as nobody too.
    chmodSync(staging, 0o755);
    renameSync(staging, prefix);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`npm pack / npm install -g of ts-vpn failed: ${e.stderr || e.message}`);
  } finally {
    rmSync(packDir, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes installs of other keys that nobody used for six hours. */
function pruneOld(keep: string): void {
  for (const e of readdirSync(INSTALL_CACHE)) {
    if (e === keep || e === '.lock') continue;
    const p = join(INSTALL_CACHE, e);
    try {
      if (Date.now() - statSync(p).mtimeMs > 6 * 3_600_000)
        rmSync(p, { recursive: true, force: true });
    } catch {
      /* gone */
    }
  }
}

/**
 * Packs and installs the current dist/ unless an install of the same key exists.
 * The caller builds dist/ first (test/e2e/ensure-built.ts).
 */
export async function ensureInstalled(): Promise<Installed & { reused: boolean }> {
  makeCacheDir();
  const key = installKey();
  const prefix = join(INSTALL_CACHE, key);
  let reused = true;
  await withLock(() => {
    if (!existsSync(layout(prefix).bin)) {
      reused = false;
      packAndInstall(prefix);
    }
    pruneOld(key);
  });
  // Marks it used (pruneOld goes by mtime).
  const now = new Date();
  utimesSync(prefix, now, now);
  return { ...layout(prefix), reused };
}

/**
 * Runs the installed `ts-vpn` bin (through its `#!/usr/bin/env node` line, with this
 * node first on PATH) to completion. `asNobody` runs it as uid/gid 65534 without
 * supplementary groups (setpriv), as a user without root would.
 */
export function runInstalled(
  args: string[],
  opts: {
    cwd?: string;
    env?: Record<string, string>;
    input?: string;
    timeoutMs?: number;
    asNobody?: boolean;
  } = {},
): { code: number | null; stdout: string; stderr: string } {
  const { bin } = installedFromEnv();
  const [file, argv] = opts.asNobody
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', bin, ...args]]
    : [bin, args];
  const r = spawnSync(file, argv, {
    cwd: opts.cwd ?? tmpdir(),
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 30_000,
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      ...opts.env,
    },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
