/**
 * SshTransport against a real OpenSSH sshd on loopback (own config, keys and port).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/errors.js';
import {
  openSshTransport,
  SshConnection,
  type SshConnectOptions,
} from '../../src/transport/ssh.js';
import type { Transport } from '../../src/transport/types.js';
import { freePort, type Sshd, startSshd } from '../support/sshd.js';

let sshd: Sshd;
let work: string;

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'tv-ssh-test-'));
});

afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function baseOpts(over: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return {
    host: sshd.listenAddress,
    port: sshd.port,
    user: sshd.user,
    identities: [sshd.clientKeyPath],
    agent: false,
    hostKey: { knownHostsFiles: [sshd.knownHostsPath] },
    readyTimeoutMs: 8000,
    ...over,
  };
}

/** Writes all of `data` in `chunk`-sized writes with backpressure, then collects `expectBytes`. */
async function roundTrip(t: Transport, data: Uint8Array, chunk = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    t.onData((d) => {
      parts.push(Buffer.from(d));
      got += d.length;
      if (got >= data.length) resolve();
    });
    t.onClose((r) => reject(new Error(`closed early: ${r.code} ${r.message}`)));
  });
  for (let off = 0; off < data.length; off += chunk) {
    if (!t.write(data.subarray(off, Math.min(off + chunk, data.length)))) {
      await new Promise<void>((r) => t.onDrain(r));
    }
  }
  await done;
  return Buffer.concat(parts);
}

async function connectError(opts: SshConnectOptions): Promise<TransportError> {
  try {
    const c = await SshConnection.connect(opts);
    await c.end();
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('connected but expected a failure');
}

describe('SshTransport with a real sshd', () => {
  it('echoes all 256 byte values unchanged through `cat` (no pty, 8-bit clean)', async () => {
    const t = await openSshTransport({ ...baseOpts(), command: 'cat' });
    try {
      expect(t.info.kind).toBe('ssh');
      expect(t.info.hostKeyVerifiedBy).toMatch(/^known_hosts .*known_hosts:1$/);
      expect(t.info.hostKeyFingerprint).toBe(sshd.hostFingerprint);
      expect(t.info.cipher).toBe('aes128-gcm@openssh.com');
      expect(t.info.handshakeMs).toBeGreaterThan(0);
      expect(t.info.authMs).toBeGreaterThan(0);
      const all = new Uint8Array(256 * 4);
      for (let i = 0; i < all.length; i++) all[i] = i & 0xff;
      const back = await roundTrip(t, all);
      expect(back.equals(Buffer.from(all))).toBe(true);
    } finally {
      await t.close();
    }
    const reason = await t.closed;
    expect(reason.code).toBe('LOCAL');
  });

  it('round-trips 5 MB of random bytes with the same sha256', async () => {
    const t = await openSshTransport({ ...baseOpts(), command: 'cat' });
    try {
      const blob = randomBytes(5_000_000);
      const back = await roundTrip(t, blob);
      expect(back.length).toBe(blob.length);
      expect(createHash('sha256').update(back).digest('hex')).toBe(
        createHash('sha256').update(blob).digest('hex'),
      );
    } finally {
      await t.close();
    }
  });

  it('surfaces remote stderr line by line and the exit code', async () => {
    const t = await openSshTransport({
      ...baseOpts(),
      command: "sh -c 'echo err >&2; echo second line >&2; exit 3'",
    });
    const lines: string[] = [];
    t.onStderr((l) => lines.push(l));
    const reason = await t.closed;
    expect(lines).toEqual(['err', 'second line']);
    expect(reason.code).toBe('EXIT');
    expect(reason.exitCode).toBe(3);
    expect(reason.message).toBe('remote command exited with code 3: second line');
    await t.close();
  });

  it('reports a remote command killed by a signal', async () => {
    const t = await openSshTransport({ ...baseOpts(), command: "sh -c 'kill -TERM $$'" });
    const reason = await t.closed;
    expect(reason.code).toBe('EXIT');
    expect(reason.signal).toBe('SIGTERM');
    expect(reason.message).toBe('remote command exited on signal SIGTERM');
  });

  it('ends with EXIT code 0 when the remote command finishes after our EOF', async () => {
    const t = await openSshTransport({ ...baseOpts(), command: 'cat >/dev/null' });
    t.write(new Uint8Array([1, 2, 3]));
    // A remote-side close: the command ends on EOF, which close() sends first.
    const conn = t.connection;
    await t.close();
    expect((await t.closed).code).toBe('LOCAL');
    expect((await t.closed).exitCode).toBe(0);
    expect((conn.client as unknown as { _sock?: { destroyed: boolean } })._sock?.destroyed).toBe(
      true,
    );
  });

  it('closes with SSH_CLOSED when the server side of the session dies', async () => {
    const t = await openSshTransport({ ...baseOpts(), command: 'cat' });
    // Wait until sshd has forked the session process, then kill it.
    for (let i = 0; i < 50 && sshd.sessionPids().length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(sshd.killSessions().length).toBeGreaterThan(0);
    const reason = await t.closed;
    expect(reason.code).toBe('SSH_CLOSED');
    await t.close();
  });

  it('refuses a changed host key with HOST_KEY_MISMATCH before authenticating', async () => {
    const other = join(work, 'other_hostkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const kh = join(work, 'kh_mismatch');
    const [kt, kb] = readFileSync(`${other}.pub`, 'utf8').split(' ');
    writeFileSync(
      kh,
      `# test\nexample.org ssh-ed25519 ${kb}\n${sshd.knownHostsName} ${kt} ${kb}\n`,
    );
    const logs: string[] = [];
    const before = sshd.log().length;
    const err = await connectError(
      baseOpts({ hostKey: { knownHostsFiles: [kh], acceptNew: true }, log: (m) => logs.push(m) }),
    );
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
    expect(err.message).toContain(`Offending ED25519 key in ${kh}:3`);
    expect(err.message).toContain(sshd.hostFingerprint);
    expect(err.message).toMatch(/Host key verification failed\.$/);
    // No authentication was attempted: our auth handler logs every attempt.
    expect(logs.filter((l) => l.includes('trying'))).toEqual([]);
    // …and sshd saw a connection but no userauth request (it logs keys offered at VERBOSE).
    await new Promise((r) => setTimeout(r, 100));
    const serverLog = sshd.log().slice(before);
    expect(serverLog).toMatch(/Connection from 127\.0\.0\.1/);
    expect(serverLog).not.toMatch(/publickey|Accepted key|Failed/);
    // accept-new never overwrites a conflicting entry.
    expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    console.log(`sample HOST_KEY_MISMATCH:\n${err.message}`);
  });

  it('refuses an unknown host with HOST_KEY_UNKNOWN in strict mode', async () => {
    const kh = join(work, 'kh_empty');
    writeFileSync(kh, '');
    const err = await connectError(baseOpts({ hostKey: { knownHostsFiles: [kh] } }));
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toBe(
      `No ED25519 host key is known for ${sshd.knownHostsName} and you have requested strict checking. ` +
        `Host key verification failed. Fingerprint ${sshd.hostFingerprint}; add it to ${kh} ` +
        'or set ssh.host-key.accept-new / fingerprint',
    );
    console.log(`sample HOST_KEY_UNKNOWN: ${err.message}`);
  });

  it('accept-new connects and appends a [host]:port line', async () => {
    const kh = join(work, 'sub', 'kh_new');
    const logs: string[] = [];
    const c = await SshConnection.connect(
      baseOpts({ hostKey: { knownHostsFiles: [kh], acceptNew: true }, log: (m) => logs.push(m) }),
    );
    expect(c.info.hostKeyVerifiedBy).toBe(`accept-new (added to ${kh})`);
    await c.end();
    const [kt, kb] = sshd.hostPublicKey.split(' ');
    expect(readFileSync(kh, 'utf8')).toBe(`${sshd.knownHostsName} ${kt} ${kb}\n`);
    expect(
      logs.some((l) => l.includes(`Permanently added '${sshd.knownHostsName}' (ED25519)`)),
    ).toBe(true);
    // The next connection matches the new line without accept-new.
    const c2 = await SshConnection.connect(baseOpts({ hostKey: { knownHostsFiles: [kh] } }));
    expect(c2.info.hostKeyVerifiedBy).toBe(`known_hosts ${kh}:1`);
    await c2.end();
  });

  it('matches a hashed known_hosts entry made by ssh-keygen -H', async () => {
    const kh = join(work, 'kh_hashed');
    copyFileSync(sshd.knownHostsPath, kh);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' });
    const text = readFileSync(kh, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    const c = await SshConnection.connect(baseOpts({ hostKey: { knownHostsFiles: [kh] } }));
    expect(c.info.hostKeyVerifiedBy).toBe(`known_hosts ${kh}:1`);
    await c.end();
  });

  it('refuses a host key listed as @revoked', async () => {
    const kh = join(work, 'kh_revoked');
    const [kt, kb] = sshd.hostPublicKey.split(' ');
    writeFileSync(kh, `@revoked * ${kt} ${kb}\n${sshd.knownHostsName} ${kt} ${kb}\n`);
    const err = await connectError(baseOpts({ hostKey: { knownHostsFiles: [kh] } }));
    expect(err.code).toBe('HOST_KEY_REVOKED');
    expect(err.message).toContain(`${kh}:1`);
  });

  it('accepts the pinned fingerprint from ssh-keygen -lf and refuses another', async () => {
    const none = join(work, 'kh_none');
    const ok = await SshConnection.connect(
      baseOpts({ hostKey: { knownHostsFiles: [none], fingerprints: [sshd.hostFingerprint] } }),
    );
    expect(ok.info.hostKeyVerifiedBy).toBe('pinned fingerprint');
    await ok.end();
    const wrong = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const err = await connectError(
      baseOpts({ hostKey: { knownHostsFiles: [sshd.knownHostsPath], fingerprints: [wrong] } }),
    );
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sshd.hostFingerprint);
  });

  it('fails with AUTH_FAILED naming the server methods and each key tried', async () => {
    const wrongKey = join(work, 'wrong_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const err = await connectError(baseOpts({ identities: [wrongKey] }));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(
      new RegExp(
        `^root@127\\.0\\.0\\.1:${sshd.port}: Permission denied \\(publickey\\)\\. Tried: publickey ${wrongKey} \\(ED25519 SHA256:[A-Za-z0-9+/]{43}\\)\\.$`,
      ),
    );
    console.log(`sample AUTH_FAILED: ${err.message}`);
  });

  it('loads a passphrase-protected key with its passphrase and rejects a wrong one', async () => {
    const key = join(work, 'enc_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 's3cret', '-f', key]);
    const authorized = readFileSync(join(sshd.dir, 'authorized_keys'), 'utf8');
    writeFileSync(
      join(sshd.dir, 'authorized_keys'),
      authorized + readFileSync(`${key}.pub`, 'utf8'),
    );
    const c = await SshConnection.connect(
      baseOpts({ identities: [{ path: key, passphrase: 's3cret' }] }),
    );
    await c.end();
    const err = await connectError(baseOpts({ identities: [{ path: key, passphrase: 'nope' }] }));
    expect(err.code).toBe('IDENTITY_INVALID');
    expect(err.message).not.toContain('nope');
    const err2 = await connectError(baseOpts({ identities: [key] }));
    expect(err2.code).toBe('IDENTITY_INVALID');
    console.log(`sample IDENTITY_INVALID: ${err.message} | ${err2.message}`);
  });

  it('fails with CONNECT_REFUSED on a closed port', async () => {
    const port = await freePort();
    const err = await connectError(baseOpts({ port }));
    expect(err.code).toBe('CONNECT_REFUSED');
    expect(err.message).toBe(`ssh: connect to host 127.0.0.1 port ${port}: Connection refused`);
    console.log(`sample CONNECT_REFUSED: ${err.message}`);
  });

  it('fails with DNS on a name that does not resolve', async () => {
    const err = await connectError(baseOpts({ host: 'no-such-host.invalid' }));
    expect(err.code).toBe('DNS');
    console.log(`sample DNS: ${err.message}`);
  });

  it('fails with CONNECT_TIMEOUT when the server never speaks', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await connectError(baseOpts({ port, readyTimeoutMs: 300 }));
      expect(err.code).toBe('CONNECT_TIMEOUT');
      console.log(`sample CONNECT_TIMEOUT: ${err.message}`);
    } finally {
      silent.close();
    }
  });

  it('gives up at once when its signal fires while the server is silent, and closes the socket', async () => {
    const net = await import('node:net');
    let accepted!: (s: import('node:net').Socket) => void;
    const arrived = new Promise<import('node:net').Socket>((r) => {
      accepted = r;
    });
    const silent = net.createServer((s) => accepted(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const ac = new AbortController();
      // connect-timeout far beyond the test's own timeout: only the abort can end this.
      const pending = connectError(baseOpts({ port, readyTimeoutMs: 600_000, signal: ac.signal }));
      const sock = await arrived;
      const peerClosed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.on('error', () => undefined);
      sock.resume(); // read to EOF: 'close' comes once the client's end arrived
      ac.abort();
      const err = await pending;
      expect(err.code).toBe('ABORTED');
      expect(err.message).toMatch(/given up during (tcp connect|key exchange)/);
      await peerClosed;
      // An already-fired signal never opens a connection.
      const again = await connectError(baseOpts({ port, signal: ac.signal }));
      expect(again.code).toBe('ABORTED');
      expect(again.message).toMatch(/during tcp connect/);
    } finally {
      silent.close();
    }
  });

  it('detects a dead connection with keepalives and closes with SSH_CLOSED', async () => {
    const t = await openSshTransport({
      ...baseOpts(),
      command: 'cat',
      keepaliveIntervalMs: 100,
      keepaliveCountMax: 2,
    });
    // Freeze the server side (SIGSTOP): TCP stays up, nothing answers.
    for (let i = 0; i < 50 && sshd.sessionPids().length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const stopped = sshd.killSessions('SIGSTOP');
    try {
      const reason = await t.closed;
      expect(reason.code).toBe('SSH_CLOSED');
      expect(reason.message).toMatch(/keepalive/);
      console.log(`sample keepalive close: ${reason.message}`);
    } finally {
      for (const p of stopped) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await t.close();
    }
  });
});
