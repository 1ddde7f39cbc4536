/**
 * The installed package as a library (npm pack + npm install -g, test/support/installed.ts):
 * `import 'ts-vpn'` loads no native package (ssh2, cpu-features, netlink, koffi), and
 * `require('ts-vpn')` works. Each check runs in a fresh node process whose only route
 * to the package is a node_modules/ts-vpn link to the installed copy.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedFromEnv } from '../support/installed.js';

const NATIVE = ['ssh2', 'cpu-features', 'netlink', 'koffi'];
let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'tv-lib-entry-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(installedFromEnv().pkgDir, join(app, 'node_modules', 'ts-vpn'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }),
  );
  // Every module URL the ESM loader resolves, and every file in require's cache (the
  // CommonJS packages, whether import()ed or require()d), reported as JSON lines.
  writeFileSync(
    join(app, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  process.stderr.write('RESOLVED ' + r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    join(app, 'register.mjs'),
    `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
`,
  );
  writeFileSync(
    join(app, 'probe.mjs'),
    `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const report = (label) =>
  process.stdout.write(JSON.stringify({ label, cjs: Object.keys(require.cache) }) + '\\n');
const lib = await import('ts-vpn');
if (typeof lib.PppLink !== 'function') throw new Error('no PppLink');
await import('ts-vpn/engine');
await import('ts-vpn/hdlc');
report('after import');
if (process.argv[2] === 'control') {
  // The control: the same probe sees the packages once something loads them, by either path.
  const pkg = require.resolve('ts-vpn').replace(/dist\\/index\\.js$/, '');
  const native = await import(pkg + 'dist/native-modules.js');
  native.ssh2(); native.netlink();
  await import(createRequire(pkg + 'package.json').resolve('koffi').replace(/index\\.cjs$/, 'index.js'));
  report('after loading');
}
`,
  );
});

afterAll(() => {
  rmSync(app, { recursive: true, force: true });
});

function probe(mode: 'plain' | 'control'): { esm: string[]; cjs: string[] } {
  const r = spawnSync(process.execPath, ['--import', './register.mjs', 'probe.mjs', mode], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { cjs: string[] };
  const esm = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('RESOLVED '))
    .map((l) => l.slice('RESOLVED '.length));
  return { esm, cjs: last.cjs.map((p) => pathToFileURL(p).href) };
}

function nativeLoaded(urls: string[]): string[] {
  return NATIVE.filter((n) => urls.some((u) => u.includes(`/node_modules/${n}/`)));
}

describe("import 'ts-vpn' (installed package)", () => {
  it('loads none of ssh2, cpu-features, netlink, koffi', () => {
    const { esm, cjs } = probe('plain');
    // The probe did see the package itself (so it would see the others).
    expect(esm.some((u) => u.includes('/node_modules/ts-vpn/dist/index.js'))).toBe(true);
    expect(nativeLoaded([...esm, ...cjs])).toEqual([]);
  });

  it('the probe sees them once they are loaded (the check can fail)', () => {
    const { esm, cjs } = probe('control');
    expect(nativeLoaded(cjs)).toEqual(expect.arrayContaining(['ssh2', 'netlink']));
    expect(nativeLoaded(esm)).toContain('koffi');
  });
});

describe("require('ts-vpn') (installed package)", () => {
  it('gives the same module as import, for the root, engine and hdlc entries', () => {
    const script = `
      const { createRequire } = require('node:module');
      const lib = require('ts-vpn');
      const engine = require('ts-vpn/engine');
      const hdlc = require('ts-vpn/hdlc');
      import('ts-vpn').then((esm) => {
        console.log(JSON.stringify({
          same: esm.PppLink === lib.PppLink,
          engine: typeof engine.PppEngine,
          hdlc: typeof hdlc.HdlcFramer,
          native: ['ssh2', 'netlink', 'koffi'].filter((n) =>
            Object.keys(require.cache).some((p) => p.includes('/node_modules/' + n + '/'))),
        }));
      });
    `;
    const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script], {
      cwd: app,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).not.toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_REQUIRE_ESM/);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({
      same: true,
      engine: 'function',
      hdlc: 'function',
      native: [],
    });
  });
});
