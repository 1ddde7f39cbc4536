/**
 * `ts-vpn up` start-up, A/B: spawn → entry (`main`), → TCP connect, → first SSH byte, as
 * wall ms after spawn and the process's own CPU ms (the stamps of src/cli/startup-trace.ts,
 * TSVPN_STARTUP_TRACE=1). The SSH server is a listener on 127.0.0.1 that accepts and stays
 * silent, so nothing after the first byte is timed; `up` is killed at its first byte,
 * before it creates anything (no TUN, no route; its state directory is a temporary one).
 * As root: `up` checks for CAP_NET_ADMIN before it connects.
 *
 *   npx tsx bench/startup/first-byte.ts ROUNDS DIST_A [DIST_B ...]
 *
 * DIST is a built dist/ directory with node_modules reachable above it (e.g. a copy of
 * dist/ in a directory holding package.json and a node_modules symlink). Runs are
 * alternated (A B A B …); medians are printed. Prints `wall/cpu` per stamp.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rounds = Number(process.argv[2]);
const dists = process.argv.slice(3);
if (!(rounds > 0) || dists.length === 0) {
  console.error('usage: first-byte.ts ROUNDS DIST_A [DIST_B ...]');
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Stamps = Record<string, [number, number]>;

function once(dist: string, peer: string, state: string): Promise<Stamps> {
  return new Promise((resolve) => {
    const t0 = now();
    const child = spawn(
      process.execPath,
      [join(dist, 'cli', 'main.js'), 'up', peer, '--state-dir', state],
      { env: { ...process.env, TSVPN_STARTUP_TRACE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    const out: Stamps = {};
    child.stderr!.on('data', (d) => {
      err += d;
      if (!err.includes('first-ssh-byte')) return;
      for (const m of err.matchAll(/startup-trace: (\S+) (\d+\.\d+) cpu (\S+)/g))
        out[m[1]!] = [Number(m[2]) - t0, Number(m[3])];
      child.kill('SIGKILL');
    });
    child.on('exit', () => {
      if (!out['first-ssh-byte'])
        console.error(`${dist}: no first SSH byte:\n${err.slice(0, 600)}`);
      resolve(out);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tv-startup-'));
const held: Socket[] = [];
const server = createServer((s) => {
  held.push(s);
  s.on('error', () => undefined);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
try {
  const port = (server.address() as { port: number }).port;
  const key = join(dir, 'id');
  writeFileSync(
    key,
    (await import('ssh2')).default.utils.generateKeyPairSync('ed25519').private as string,
    { mode: 0o600 },
  );
  const peer = join(dir, 'peer.yaml');
  writeFileSync(
    peer,
    `name: startup\nssh:\n  host: 127.0.0.1\n  port: ${port}\n  user: root\n  identity-files: [${key}]\n  agent: false\n  host-key:\n    fingerprint: SHA256:${'A'.repeat(43)}\nppp:\n  accept-local: [10.77.0.0/24]\n  accept-peer: [10.77.0.0/24]\n`,
    { mode: 0o600 },
  );
  const res = dists.map(() => ({}) as Record<string, Array<[number, number]>>);
  for (let r = 0; r < rounds; r++) {
    for (const [i, d] of dists.entries()) {
      const st = await once(d, peer, join(dir, 'state'));
      for (const [k, v] of Object.entries(st)) res[i]![k] = [...(res[i]![k] ?? []), v];
    }
    for (const s of held.splice(0)) s.destroy();
  }
  for (const [i, d] of dists.entries()) {
    const cols = Object.entries(res[i]!).map(
      ([k, v]) =>
        `${k} ${median(v.map((x) => x[0])).toFixed(0)}/${median(v.map((x) => x[1])).toFixed(0)}`,
    );
    console.log(`${cols.join('  ')}   ${d}`);
  }
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
