/**
 * dist/ is current: rebuilt when any file under src/ is newer than dist/cli/main.js
 * (scripts/test.sh builds first anyway). The test run packs and installs this build
 * (test/support/installed.ts); the demo and the benchmarks run dist/ directly.
 * A lock directory keeps parallel processes from building at the same time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/installed.js';

const DIST_CLI = join(REPO, 'dist', 'cli', 'main.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale(): boolean {
  try {
    return statSync(DIST_CLI).mtimeMs < newest(join(REPO, 'src'));
  } catch {
    return true;
  }
}

export async function ensureBuilt(): Promise<void> {
  const lock = join(REPO, 'node_modules', '.ts-vpn-build.lock');
  const t0 = Date.now();
  while (stale()) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() - t0 > 120_000) throw new Error(`build lock ${lock} held for 2 minutes`);
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (stale()) {
        try {
          execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'pipe' });
        } catch (err) {
          // tsc emits despite type errors; only a missing CLI is fatal here.
          const e = err as { stdout?: Buffer };
          if (stale()) throw new Error(`npm run build failed:\n${e.stdout?.toString() ?? ''}`);
        }
      }
    } finally {
      rmdirSync(lock);
    }
  }
}
