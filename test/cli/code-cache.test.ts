/**
 * The bin's V8 code cache (src/cli/launcher.cts): the installed package ships one that is
 * used; a missing, corrupt, foreign-owned, group-writable or symlinked cache is not trusted
 * and the CLI runs the same without it; the cache is written only by the bundle's owner.
 * Runs a private copy of the INSTALLED package's dist/ (its node_modules linked), so the
 * shared install is never modified. `TSVPN_STARTUP_TRACE=1` makes the bin print
 * `startup-trace: code-cache <state>`.
 *
 * A cache whose header checks pass but whose V8 data is damaged would crash node when
 * trusted (V8 does not check the data in release builds): the foreign-owned and
 * group-writable cases use exactly such a file, so running normally proves it was not used.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedFromEnv } from '../support/installed.js';

const MAGIC = 'ts-vpn code cache v1\n';
const HEADER_LEN = MAGIC.length + 128;
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let root: string;
let cli: string;
let shipped: Buffer;

function runBin(args: string[], opts: { uid?: number; nodeFlags?: string[] } = {}) {
  const r = spawnSync(
    process.execPath,
    [...(opts.nodeFlags ?? []), join(cli, 'main.js'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, TSVPN_STARTUP_TRACE: '1' },
      timeout: 30_000,
      cwd: root,
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
    },
  );
  const state = /startup-trace: code-cache (\S+)/.exec(r.stderr)?.[1];
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, state };
}

/** The launcher's own save (what a long-running command does after 5 s), in a child node. */
function saveFromChild(uid?: number): { ok: boolean; state: string } {
  const script = `const l = require(${JSON.stringify(join(cli, 'main.js'))}).loadBundle(${JSON.stringify(cli)}); console.log(JSON.stringify({ state: l.cacheState, ok: l.saveCache() }));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

/** A cache whose header checks pass but whose V8 data has bytes flipped (fatal if trusted). */
function damagedWithValidHeader(): Buffer {
  const buf = Buffer.from(shipped);
  for (let i = HEADER_LEN + 1000; i < buf.length; i += 997) buf[i] ^= 0xff;
  const data = buf.subarray(HEADER_LEN);
  buf.write(createHash('sha256').update(data).digest('hex'), MAGIC.length + 64, 'latin1');
  return buf;
}

function putCache(content: Buffer): string {
  const file = join(cli, 'bundle.cache');
  rmSync(file, { force: true });
  writeFileSync(file, content, { mode: 0o644 });
  chmodSync(file, 0o644);
  return file;
}

beforeAll(() => {
  const { pkgDir } = installedFromEnv();
  root = mkdtempSync(join(tmpdir(), 'tv-code-cache-'));
  chmodSync(root, 0o755);
  cpSync(join(pkgDir, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(pkgDir, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(pkgDir, 'node_modules'), join(root, 'node_modules'));
  cli = join(root, 'dist', 'cli');
  shipped = readFileSync(join(cli, 'bundle.cache'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the CLI code cache', () => {
  it('the package ships a cache the bin uses, for --version and --help', () => {
    expect(shipped.subarray(0, MAGIC.length).toString('latin1')).toBe(MAGIC);
    const v = runBin(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ts-vpn \d+\.\d+\.\d+/);
    expect(v.state).toBe('used');
    const h = runBin(['up', '--help']);
    expect(h.stdout).toMatch(/^Usage: ts-vpn up/);
    expect(h.state).toBe('used');
  });

  it('runs without a cache, and a short command does not write one', () => {
    rmSync(join(cli, 'bundle.cache'), { force: true });
    const r = runBin(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ts-vpn /);
    expect(r.state).toBe('missing');
    expect(existsSync(join(cli, 'bundle.cache'))).toBe(false);
  });

  it('the owner writes a missing cache atomically, mode 0644, and the next run uses it', () => {
    rmSync(join(cli, 'bundle.cache'), { force: true });
    expect(saveFromChild()).toEqual({ state: 'missing', ok: true });
    const st = lstatSync(join(cli, 'bundle.cache'));
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.uid).toBe(statSync(join(cli, 'bundle.js')).uid);
    expect(runBin(['--version']).state).toBe('used');
  });

  it.runIf(isRoot)('another user does not write the cache next to a bundle it does not own', () => {
    rmSync(join(cli, 'bundle.cache'), { force: true });
    expect(saveFromChild(NOBODY)).toEqual({ state: 'missing', ok: false });
    expect(existsSync(join(cli, 'bundle.cache'))).toBe(false);
  });

  it('a truncated or corrupt cache is not used (sha256 of the data), and the CLI runs', () => {
    putCache(shipped.subarray(0, shipped.length - 100));
    const t = runBin(['--version']);
    expect([t.code, t.state]).toEqual([0, 'mismatch']);
    const corrupt = Buffer.from(shipped);
    corrupt[HEADER_LEN + 5000] ^= 0xff;
    putCache(corrupt);
    const c = runBin(['--version']);
    expect([c.code, c.signal, c.state]).toEqual([0, null, 'mismatch']);
    putCache(Buffer.from('not a cache at all'));
    expect(runBin(['--version']).state).toBe('mismatch');
  });

  it('a cache of another build is not used', () => {
    const other = Buffer.from(shipped);
    other.write('0'.repeat(64), MAGIC.length, 'latin1');
    putCache(other);
    expect(runBin(['--version']).state).toBe('mismatch');
  });

  it.runIf(isRoot)(
    'a cache owned by another user is not trusted (a trusted one would crash)',
    () => {
      const file = putCache(damagedWithValidHeader());
      chownSync(file, NOBODY, NOBODY);
      const r = runBin(['--version']);
      expect([r.code, r.signal, r.state]).toEqual([0, null, 'untrusted']);
      expect(r.stdout).toMatch(/^ts-vpn /);
    },
  );

  it('a group- or world-writable cache, or a symlink, is not trusted', () => {
    const file = putCache(damagedWithValidHeader());
    chmodSync(file, 0o664);
    const g = runBin(['--version']);
    expect([g.code, g.signal, g.state]).toEqual([0, null, 'untrusted']);
    chmodSync(file, 0o646);
    expect(runBin(['--version']).state).toBe('untrusted');
    rmSync(file);
    const target = join(root, 'elsewhere.cache');
    writeFileSync(target, shipped, { mode: 0o644 });
    symlinkSync(target, file);
    const s = runBin(['--version']);
    expect([s.code, s.state]).toEqual([0, 'untrusted']);
  });

  it('a cache in a group-writable directory is not trusted', () => {
    putCache(shipped);
    chmodSync(cli, 0o775);
    try {
      expect(runBin(['--version']).state).toBe('untrusted');
    } finally {
      chmodSync(cli, 0o755);
    }
    expect(runBin(['--version']).state).toBe('used');
  });

  it('V8 rejects a cache made with other V8 flags; the CLI runs without it', () => {
    putCache(shipped);
    const r = runBin(['--version'], { nodeFlags: ['--no-opt'] });
    expect([r.code, r.state]).toEqual([0, 'rejected']);
    expect(r.stdout).toMatch(/^ts-vpn /);
  });
});
