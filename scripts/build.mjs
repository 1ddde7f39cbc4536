// Builds src/ into dist/ without ever leaving a missing or half-written dist/:
// compiles into a fresh sibling directory, then swaps it in with two renames.
// Processes already running from dist/ (a far end, a test) keep working.
//
// The CLI entry (dist/cli/main.js, the `ts-vpn` bin) is then replaced by an esbuild
// bundle of itself, split at the per-command dynamic imports (chunks next to it in
// dist/cli/). Loading ~150 small ES modules (ours, zod, yaml) costs more than the code
// in them: bundled, `ts-vpn serve` reaches its first PPP byte with ~100 ms of CPU
// instead of ~190 ms (bench/tunnel/RESULTS.md, bring-up), and the far end's start-up
// is most of a tunnel's bring-up. Native packages (koffi, netlink, ssh2) stay external.
// The library (dist/index.js and below) is left unbundled.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** Replaces <out>/cli/main.js by its bundle (see the header). */
async function bundleCli(out) {
  const { build } = await import('esbuild');
  const entry = join(out, 'cli', 'main.js');
  await build({
    entryPoints: [entry],
    outdir: join(out, 'cli'),
    allowOverwrite: true,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['koffi', 'netlink', 'ssh2', 'cpu-features'],
    // Readable stack traces: whitespace and syntax only, names kept.
    minifyWhitespace: true,
    minifySyntax: true,
    // CommonJS dependencies inside an ES module bundle need a real `require`.
    banner: {
      js: "import { createRequire as __tsvpnCreateRequire } from 'node:module'; const require = __tsvpnCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // tsc's source map described the unbundled file.
  rmSync(`${entry}.map`, { force: true });
}
