// Builds src/ into dist/ without ever leaving a missing or half-written dist/:
// compiles into a fresh sibling directory, then swaps it in with two renames.
// Processes already running from dist/ (a far end, a test) keep working.
//
// The CLI (the `ts-vpn` bin) is then one CommonJS bundle, dist/cli/bundle.js, of
// src/cli/main.ts and everything it imports (ours, zod, yaml, ssh-config, ip-address and
// ssh2's JavaScript), per-command dynamic imports turned into lazy inits. The bin,
// dist/cli/main.js (src/cli/launcher.cts; dist/cli/package.json makes it CommonJS),
// compiles the bundle with the V8 code cache dist/cli/bundle.cache, which this build
// makes with a training run (src/cli/warm-up.ts) and ships. Node 20 has no compile cache
// for ES modules: compiling the ESM chunks was the largest part of `ts-vpn up`'s start
// (bench/tunnel/RESULTS.md, Start-up). The native packages stay outside the bundle and
// load from node_modules: koffi, netlink, and ssh2's optional binding and cpu-features
// (required relative to the installed ssh2). The library (dist/index.js and below) is
// left unbundled ES modules.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = join(root, `.dist-build-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
rmSync(tmp, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], {
    stdio: 'inherit',
  });
  await bundleCli(tmp);
} catch (err) {
  if (err?.message && !err.status) console.error(`build: ${err.message}`);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}
if (existsSync(dist)) renameSync(dist, old);
renameSync(tmp, dist);
rmSync(old, { recursive: true, force: true });

/** Replaces <out>/cli by the CLI bundle, its bin and its code cache (see the header). */
async function bundleCli(out) {
  const { build } = await import('esbuild');
  const cli = join(out, 'cli');
  const bundle = join(cli, 'bundle.js');
  await build({
    entryPoints: [join(cli, 'main.js')],
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['koffi'],
    plugins: [ssh2Plugin(), netlinkPlugin(), nativeModulesPlugin()],
    // `import.meta.url` (package.json for --version, createRequire for koffi) is the bundle's URL.
    define: { 'import.meta.url': '__tsvpnBundleUrl' },
    banner: { js: "const __tsvpnBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Readable stack traces: whitespace and syntax only, names kept.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
  let code = readFileSync(bundle, 'utf8');
  if (/\bimport\(/.test(code)) throw new Error('the CLI bundle has a dynamic import() left');
  // esbuild escapes non-ASCII (charset ascii): the bin reads the bundle as latin1, which
  // is 2-3x faster than decoding UTF-8 and gives the same string for ASCII.
  if (/[^\x00-\x7f]/.test(code)) throw new Error('the CLI bundle is not pure ASCII');
  // The build id the code cache is bound to (src/cli/launcher.cts).
  const id = createHash('sha256').update(code).digest('hex');
  code += `\n//# ts-vpn-build-id=${id}\n`;
  // Only the bundle, the bin and the cache stay in dist/cli (tsc's per-file output of
  // src/cli is inside the bundle; nothing imports it).
  for (const f of readdirSync(cli)) if (f !== 'launcher.cjs') rmSync(join(cli, f), { force: true });
  writeFileSync(bundle, code);
  renameSync(join(cli, 'launcher.cjs'), join(cli, 'main.js'));
  chmodSync(join(cli, 'main.js'), 0o755);
  writeFileSync(join(cli, 'package.json'), '{ "type": "commonjs" }\n');
  chmodSync(cli, 0o755); // the launcher trusts no cache in a group- or world-writable directory
  trainCodeCache(cli);
}

/**
 * Makes dist/cli/bundle.cache: a child node runs the warm-up (src/cli/warm-up.ts) and
 * writes the cache. A failure leaves no cache: the bin then writes one on its first run.
 */
function trainCodeCache(cli) {
  const work = mkdtempSync(join(tmpdir(), 'ts-vpn-warmup-'));
  const script = `require(${JSON.stringify(join(cli, 'main.js'))}).train(${JSON.stringify(cli)}, ${JSON.stringify(work)}).then((ok) => process.exit(ok ? 0 : 3), (e) => { console.error(e); process.exit(2); })`;
  try {
    execFileSync(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    console.error(
      `build: no code cache for the CLI (${err.message}); the bin makes one on its first run`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * ssh2 in the bundle: only what src uses (Client, utils.parseKey; utils.generateKeyPairSync
 * for the warm-up), not its index, which also loads the server, SFTP and HTTP agents (and
 * with them node:tls, node:https). Its native binding and cpu-features stay files of the
 * installed ssh2, required relative to it; ssh2 catches their absence itself.
 */
function ssh2Plugin() {
  return {
    name: 'ssh2',
    setup(b) {
      b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'ssh2-slim' }));
      b.onLoad({ filter: /.*/, namespace: 'ssh2-slim' }, () => ({
        resolveDir: root,
        loader: 'js',
        contents: `module.exports = {
  Client: require('ssh2/lib/client.js'),
  utils: {
    parseKey: require('ssh2/lib/protocol/keyParser.js').parseKey,
    generateKeyPairSync: (...a) => require('ssh2/lib/keygen.js').generateKeyPairSync(...a),
  },
};`,
      }));
      const ssh2Dir = join(root, 'node_modules', 'ssh2');
      b.onResolve({ filter: /\.node$|^cpu-features$/ }, (a) => {
        if (!a.importer.startsWith(`${ssh2Dir}/`))
          throw new Error(
            `native module ${a.path} required by ${a.importer}: not expected in the CLI bundle`,
          );
        const spec = a.path.endsWith('.node')
          ? `./${relative(ssh2Dir, resolve(dirname(a.importer), a.path))}`
          : a.path;
        return { path: spec, namespace: 'ssh2-native' };
      });
      b.onLoad({ filter: /.*/, namespace: 'ssh2-native' }, (a) => ({
        loader: 'js',
        contents: `module.exports = require('node:module').createRequire(require.resolve('ssh2/package.json'))(${JSON.stringify(a.path)});`,
      }));
    },
  };
}

/**
 * netlink in the bundle: only its rtnetlink part (createRtNetlink, FlagsNew, rt), not its
 * index (generic netlink, nl80211, WireGuard). Its native binding is found by
 * node-gyp-build in the installed netlink's directory, as netlink itself does.
 */
function netlinkPlugin() {
  return {
    name: 'netlink',
    setup(b) {
      b.onResolve({ filter: /^netlink$/ }, () => ({ path: 'netlink', namespace: 'netlink-slim' }));
      b.onLoad({ filter: /.*/, namespace: 'netlink-slim' }, () => ({
        resolveDir: root,
        loader: 'js',
        contents: `module.exports = {
  createRtNetlink: require('netlink/dist/rt/rt.js').createRtNetlink,
  FlagsNew: require('netlink/dist/constants.js').FlagsNew,
  rt: require('netlink/dist/rt/structs.js'),
};`,
      }));
      b.onLoad({ filter: /[\\/]node_modules[\\/]netlink[\\/]dist[\\/]raw\.js$/ }, (a) => {
        const text = readFileSync(a.path, 'utf8');
        const line = "require('node-gyp-build')(__dirname + '/..')";
        if (!text.includes(line)) throw new Error(`${a.path}: expected "${line}"`);
        const netlinkDir = "require('node:path').dirname(require.resolve('netlink/package.json'))";
        return {
          loader: 'js',
          contents: text.replace(
            line,
            `require('node:module').createRequire(require.resolve('netlink/package.json'))('node-gyp-build')(${netlinkDir})`,
          ),
        };
      });
    },
  };
}

/** src/native-modules.ts's createRequire(import.meta.url) becomes the bundle's own require, so esbuild sees require('ssh2'). */
function nativeModulesPlugin() {
  return {
    name: 'native-modules',
    setup(b) {
      b.onLoad({ filter: /[\\/]native-modules\.js$/ }, (a) => {
        const text = readFileSync(a.path, 'utf8');
        const line = 'const require = createRequire(import.meta.url);';
        if (!text.includes(line)) throw new Error(`${a.path}: expected "${line}"`);
        return { contents: text.replace(line, ''), loader: 'js' };
      });
    },
  };
}
