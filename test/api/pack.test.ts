/**
 * What `npm pack` ships, and that the tarball installs and runs (the install the whole
 * test run shares: test/support/installed.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/ensure-built.js';
import { installedFromEnv } from '../support/installed.js';

const sh = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const temps: string[] = [];

function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

interface PackFile {
  path: string;
  size: number;
}

let files: PackFile[] = [];

beforeAll(async () => {
  // scripts/test.sh builds first; this rebuilds only when dist/ is older than src/ (shared lock with e2e).
  await ensureBuilt();
  const { stdout } = await sh(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    timeout: 60_000,
  });
  files = (JSON.parse(stdout) as Array<{ files: PackFile[] }>)[0].files;
}, 240_000);

afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('npm pack contents', () => {
  it('ships the built JS, type declarations, README and LICENSE', () => {
    const paths = new Set(files.map((f) => f.path));
    for (const p of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/api/index.js',
      'dist/api/index.d.ts',
      'dist/api/link.d.ts',
      'dist/engine/index.d.ts',
      'dist/hdlc/index.d.ts',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    // Every shipped library module has its declarations; the CLI (scripts/build.mjs: its
    // bin, its one bundle and the bundle's V8 code cache) is internal to the bin.
    for (const p of ['dist/cli/bundle.js', 'dist/cli/bundle.cache', 'dist/cli/package.json']) {
      expect(paths.has(p), p).toBe(true);
    }
    for (const f of files) {
      if (f.path.startsWith('dist/') && f.path.endsWith('.js') && !f.path.startsWith('dist/cli/'))
        expect(paths.has(f.path.replace(/\.js$/, '.d.ts')), f.path).toBe(true);
    }
  });

  it('ships no tests, sources of tests, keys or secrets', () => {
    const bad = files
      .map((f) => f.path)
      .filter(
        (p) =>
          /^test\//.test(p) ||
          /(^|\/)[^/]*\.test\.[cm]?[jt]s$/.test(p) ||
          /(^|\/)(test|fixtures)\//.test(p) ||
          /\.(key|pem|p12|pfx)$/.test(p) ||
          /(^|\/)id_[^/]*$/.test(p) ||
          /(^|\/)(\.env|\.npmrc|known_hosts|authorized_keys)$/.test(p) ||
          /(^|\/)(secret|password)[^/]*$/i.test(p),
      );
    expect(bad).toEqual([]);
  });
});

describe('the packed tarball', () => {
  // Packed and installed once per run by the globalSetup (test/support/installed.ts):
  // npm pack, then npm install -g --prefix <dir> <tarball>, as a user installs it.
  it('installs, and its bin and library run', async () => {
    const { bin, pkgDir } = installedFromEnv();
    const app = temp('tsvpn-app-');
    const help = await sh(process.execPath, [bin, '--help'], { cwd: app, timeout: 20_000 });
    expect(help.stdout).toMatch(/^ts-vpn/);
    expect(help.stdout).toContain('ts-vpn up');
    // The library from the installed files: two PppLinks over a loopback socket pair.
    const lib = pathToFileURL(join(pkgDir, 'dist/api/index.js')).href;
    const script = `
      import net from 'node:net';
      const { PppLink } = await import(${JSON.stringify(lib)});
      const srv = net.createServer((s) => new PppLink(s, { role: 'server', local: '10.3.0.1', peer: '10.3.0.2' }));
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const link = new PppLink(net.connect(srv.address().port, '127.0.0.1'));
      const info = await link.ready;
      await link.close();
      srv.close();
      console.log(info.ipv4.local);
    `;
    const r = await sh(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      timeout: 20_000,
    });
    expect(r.stdout.trim()).toBe('10.3.0.2');
  }, 60_000);
});
