#!/usr/bin/env node
/**
 * The `ts-vpn` bin (built to dist/cli/main.js, CommonJS: dist/cli/package.json).
 *
 * The CLI is one CommonJS bundle, dist/cli/bundle.js (scripts/build.mjs). This file
 * compiles it with `vm.Script` and a V8 code cache, dist/cli/bundle.cache, so that a
 * command does not compile ~1.7 MB of JavaScript (ours, zod, yaml, ssh2) on every start:
 * Node 20 has no `module.enableCompileCache`, and ES modules have no code cache there.
 *
 * The cache is bytecode that V8 runs without checking it (a flipped byte in it crashes
 * the process), and `ts-vpn up` runs as root, so it is used only when it is as
 * trustworthy as the bundle itself (StrictModes-like), else ignored silently:
 * - opened without following a symlink; a regular file, owned by the bundle's owner,
 *   not writable by group or others, in a directory owned by that user or root and not
 *   writable by group or others;
 * - its header names the bundle's build id (the sha256 the build appends to the bundle)
 *   and the sha256 of the V8 data after it, and both match;
 * - V8 accepts it (same V8 version and flags; else `cachedDataRejected`).
 * The build makes the cache with a training run (`train()`, src/cli/warm-up.ts) and ships
 * it. When it is missing, rejected (another Node or other V8 flags) or fails a check, a
 * command still running after SAVE_AFTER_MS writes a new one, only if the process's effective
 * uid owns the bundle and the directory passed the checks: to a temporary file in the
 * same directory (O_EXCL, no symlink followed), then rename(). Any failure is silent:
 * the CLI runs the same without a cache, only slower to start.
 */
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');

/** First bytes of a cache file, then the build id (64 hex), the data's sha256 (64 hex), the data. */
const MAGIC = 'ts-vpn code cache v1\n';
const HEADER_LEN = MAGIC.length + 64 + 64;
const BUILD_ID_MARK = '\n//# ts-vpn-build-id=';
/** Larger files are not read (the cache is ~1-2 MB). */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * A command still running this long after its start (up, serve, gateway: past their
 * bring-up) writes a missing or rejected cache. Short commands (--version, status) never
 * do: a cache holds only what its run compiled, and theirs would be a poor one.
 */
const SAVE_AFTER_MS = 5_000;

const BUNDLE_NAME = 'bundle.js';
const CACHE_NAME = 'bundle.cache';

/** What the bundle exports (src/cli/main.ts). */
interface CliBundle {
  run(argv: string[]): void;
  warmUp(dir: string): Promise<void>;
}

/** Why the cache was not used (for tests and the build), or 'used'. */
type CacheState =
  | 'used'
  | 'missing'
  | 'untrusted'
  | 'mismatch'
  | 'rejected'
  | 'no-build-id'
  | 'disabled';

interface LoadedBundle {
  bundle: CliBundle;
  cacheState: CacheState;
  /** Writes the cache for this run's compiled code (see the header); true if written. */
  saveCache(): boolean;
}

function sha256(data: Uint8Array): string {
  // node:crypto is loaded here only when there is a cache to check; ssh2 loads it anyway.
  return (require('node:crypto') as typeof import('node:crypto'))
    .createHash('sha256')
    .update(data)
    .digest('hex');
}

/** Not writable by group or others, and owned by `uid` (or root, for a directory). */
function strict(st: fs.Stats, uid: number, rootOk: boolean): boolean {
  return (st.mode & 0o022) === 0 && (st.uid === uid || (rootOk && st.uid === 0));
}

/** The cache's V8 data if the file passes every check of the header, else a reason. */
function readCache(
  file: string,
  bundleUid: number,
  buildId: string,
): { data: Buffer } | { reason: CacheState } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    return { reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'untrusted' };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || !strict(st, bundleUid, false) || st.size > MAX_CACHE_BYTES)
      return { reason: 'untrusted' };
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off !== buf.length || buf.length <= HEADER_LEN) return { reason: 'mismatch' };
    const head = buf.toString('latin1', 0, HEADER_LEN);
    if (!head.startsWith(MAGIC) || head.slice(MAGIC.length, MAGIC.length + 64) !== buildId)
      return { reason: 'mismatch' };
    const data = buf.subarray(HEADER_LEN);
    if (head.slice(MAGIC.length + 64) !== sha256(data)) return { reason: 'mismatch' };
    return { data };
  } catch {
    return { reason: 'untrusted' };
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` as the cache, atomically; false (silently) on any failure. */
function writeCache(dir: string, file: string, buildId: string, data: Buffer): boolean {
  const tmp = path.join(dir, `.${CACHE_NAME}.${process.pid}.${Date.now().toString(36)}`);
  let fd = -1;
  try {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    const head = Buffer.from(`${MAGIC}${buildId}${sha256(data)}`, 'latin1');
    fs.writeSync(fd, head);
    fs.writeSync(fd, data);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(tmp, file);
    return true;
  } catch {
    if (fd >= 0) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* not created */
    }
    return false;
  }
}

/**
 * Compiles and evaluates the bundle in `dir`, with its code cache when that is
 * trustworthy (see the header); `useCache: false` ignores any cache (the build's training).
 */
function loadBundle(dir: string, opts: { useCache?: boolean } = {}): LoadedBundle {
  const file = path.join(dir, BUNDLE_NAME);
  const cacheFile = path.join(dir, CACHE_NAME);
  // Pure ASCII (the build checks it): latin1 is the same string, decoded faster than UTF-8.
  const source = fs.readFileSync(file, 'latin1');
  const bundleSt = fs.statSync(file);
  const mark = source.lastIndexOf(BUILD_ID_MARK);
  const buildId = mark < 0 ? '' : source.slice(mark + BUILD_ID_MARK.length).trim();
  let dirOk = false;
  try {
    dirOk = strict(fs.statSync(dir), bundleSt.uid, true);
  } catch {
    /* dirOk stays false */
  }
  let state: CacheState;
  let cachedData: Buffer | undefined;
  if (opts.useCache === false) state = 'disabled';
  else if (!/^[0-9a-f]{64}$/.test(buildId)) state = 'no-build-id';
  else if (!dirOk) state = 'untrusted';
  else {
    const r = readCache(cacheFile, bundleSt.uid, buildId);
    if ('data' in r) cachedData = r.data;
    state = 'data' in r ? 'used' : r.reason;
  }
  // Wrapped as Node wraps a CommonJS module, on the first line so line numbers hold.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData },
  );
  if (cachedData && script.cachedDataRejected) state = 'rejected';
  const mod = { exports: {} as CliBundle };
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  fn.call(mod.exports, mod.exports, nodeModule.createRequire(file), mod, file, dir);
  const canWrite = dirOk && /^[0-9a-f]{64}$/.test(buildId) && process.geteuid?.() === bundleSt.uid;
  return {
    bundle: mod.exports,
    cacheState: state,
    saveCache: () => canWrite && writeCache(dir, cacheFile, buildId, script.createCachedData()),
  };
}

/** The build's training run: compiles the bundle without a cache, warms it up, writes the cache. */
async function train(dir: string, workDir: string): Promise<boolean> {
  const loaded = loadBundle(dir, { useCache: false });
  await loaded.bundle.warmUp(workDir);
  return loaded.saveCache();
}

/** The bin: runs the CLI; writes the cache when it was missing or rejected (see the header). */
function main(): void {
  const loaded = loadBundle(__dirname);
  if (process.env.TSVPN_STARTUP_TRACE === '1')
    process.stderr.write(`startup-trace: code-cache ${loaded.cacheState}\n`);
  if (loaded.cacheState !== 'used' && loaded.cacheState !== 'no-build-id')
    setTimeout(() => loaded.saveCache(), SAVE_AFTER_MS).unref();
  loaded.bundle.run(process.argv.slice(2));
}

if (require.main === module) main();

// For scripts/build.mjs (train) and tests.
export = { BUNDLE_NAME, CACHE_NAME, loadBundle, train };
