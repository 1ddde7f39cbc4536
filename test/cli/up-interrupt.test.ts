/**
 * Ctrl-C / SIGTERM while `ts-vpn up` is still connecting: the installed bin gives the SSH
 * attempt up at once (it does not wait out connect-timeout), says so, exits 0 and leaves
 * nothing in its state directory. The SSH server is a listener that accepts and never
 * speaks, and connect-timeout is 600 s: only the signal can end the attempt within the
 * test's time limit. Root: `up` checks CAP_NET_ADMIN before it connects (it creates no
 * interface here).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedFromEnv } from '../support/installed.js';

const isRoot = process.getuid?.() === 0;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tv-cli-interrupt-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function interruptWhileConnecting(signal: NodeJS.Signals) {
  const held: Socket[] = [];
  // Set once `up` runs; called on each of the two events the signal waits for.
  let interruptIfConnecting = () => {};
  const silent = createServer((s) => {
    held.push(s);
    s.on('error', () => undefined);
    interruptIfConnecting();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmp, `${signal}-`));
  const peer = join(dir, 'peer.yaml');
  const key = join(dir, 'id');
  const ssh2 = (await import('ssh2')).default;
  writeFileSync(key, ssh2.utils.generateKeyPairSync('ed25519').private as string, { mode: 0o600 });
  writeFileSync(
    peer,
    `name: interrupt\nssh:\n  host: 127.0.0.1\n  port: ${port}\n  user: root\n  identity-files: [${key}]\n  agent: false\n  connect-timeout: 600\n  host-key:\n    fingerprint: SHA256:${'A'.repeat(43)}\n`,
    { mode: 0o600 },
  );
  const state = join(dir, 'state');
  const { bin } = installedFromEnv();
  const child = spawn(bin, ['up', peer, '--state-dir', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  let out = '';
  let sent = false;
  // Both seen: `up` said it connects, and its TCP connection is accepted (it now waits for
  // the server's identification line, which never comes).
  interruptIfConnecting = () => {
    if (!sent && /connecting to/.test(out) && held.length > 0) {
      sent = true;
      child.kill(signal);
    }
  };
  const onData = (d: Buffer) => {
    out += d;
    interruptIfConnecting();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  try {
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    return { code, out, sent, left: readdirSync(state) };
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
}

describe.runIf(isRoot)('ts-vpn up interrupted while connecting', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig}: gives the SSH attempt up at once, exits 0, leaves nothing`, async () => {
      const r = await interruptWhileConnecting(sig);
      expect(r.sent).toBe(true);
      expect(r.out).toMatch(new RegExp(`${sig}: shutting down`));
      expect(r.out).toMatch(/closed before the tunnel came up/);
      expect(r.code).toBe(0);
      expect(r.left).toEqual([]);
    }, 20_000);
  }
});
