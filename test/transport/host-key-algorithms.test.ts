/**
 * Host key algorithm preference (OpenSSH order_hostkeyalgs): against a real sshd that
 * has Ed25519, ECDSA and RSA host keys, a known_hosts holding only one of them must be
 * enough to connect, plain or hashed, and the key of that type is the one checked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/errors.js';
import { DEFAULT_HOST_KEY_ALGORITHMS, hostKeyAlgorithmsFor } from '../../src/transport/host-key.js';
import { SshConnection, type SshConnectOptions } from '../../src/transport/ssh.js';
import { type Sshd, startSshd } from '../support/sshd.js';

let sshd: Sshd;
let work: string;

beforeAll(async () => {
  sshd = await startSshd({ hostKeyType: 'ed25519', extraHostKeyTypes: ['ecdsa', 'rsa'] });
  work = mkdtempSync(join(tmpdir(), 'tv-hka-'));
});

afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function key(type: string) {
  const k = sshd.hostKeys.find((h) => h.type === type);
  if (!k) throw new Error(`no ${type} host key`);
  return k;
}

/** A known_hosts file with only the `type` key of the server (optionally hashed by ssh-keygen -H). */
function knownHostsWith(type: string, opts: { hashed?: boolean } = {}): string {
  const file = join(work, `kh-${type}-${opts.hashed ? 'h' : 'p'}-${Math.random()}`);
  const [kt, kb] = key(type).publicKey.split(' ');
  writeFileSync(file, `${sshd.knownHostsName} ${kt} ${kb}\n`, { mode: 0o600 });
  if (opts.hashed) {
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    rmSync(`${file}.old`, { force: true });
  }
  return file;
}

function opts(knownHostsFile: string): SshConnectOptions {
  return {
    host: sshd.listenAddress,
    port: sshd.port,
    user: sshd.user,
    identities: [sshd.clientKeyPath],
    agent: false,
    hostKey: { knownHostsFiles: [knownHostsFile] },
    readyTimeoutMs: 8000,
  };
}

async function connectInfo(o: SshConnectOptions) {
  const c = await SshConnection.connect(o);
  try {
    return c.info;
  } finally {
    await c.end();
  }
}

describe('host key algorithm order from known_hosts', () => {
  it('puts the algorithms of the known key types first, RSA as SHA-2 before ssh-rsa', () => {
    const ecdsa = knownHostsWith('ecdsa');
    const rsa = knownHostsWith('rsa');
    const policy = (f: string) => ({ knownHostsFiles: [f] });
    expect(hostKeyAlgorithmsFor(sshd.listenAddress, sshd.port, policy(ecdsa))[0]).toBe(
      'ecdsa-sha2-nistp256',
    );
    const r = hostKeyAlgorithmsFor(sshd.listenAddress, sshd.port, policy(rsa));
    expect(r.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(r).toHaveLength(DEFAULT_HOST_KEY_ALGORITHMS.length);
    // Another host (other port): nothing known, default order.
    expect(hostKeyAlgorithmsFor(sshd.listenAddress, sshd.port + 1, policy(rsa))).toEqual([
      ...DEFAULT_HOST_KEY_ALGORITHMS,
    ]);
    // Pinned fingerprints say nothing about the type: default order.
    expect(
      hostKeyAlgorithmsFor(sshd.listenAddress, sshd.port, {
        knownHostsFiles: [rsa],
        fingerprints: [key('rsa').fingerprint],
      }),
    ).toEqual([...DEFAULT_HOST_KEY_ALGORITHMS]);
  });

  it('looks up the HostKeyAlias name instead of host:port when one is given', () => {
    const file = join(work, 'kh-alias');
    const [kt, kb] = key('ecdsa').publicKey.split(' ');
    writeFileSync(file, `gw-alias ${kt} ${kb}\n`);
    const p = { knownHostsFiles: [file], alias: 'gw-alias' };
    expect(hostKeyAlgorithmsFor('127.0.0.1', 1, p)[0]).toBe('ecdsa-sha2-nistp256');
  });

  for (const hashed of [false, true]) {
    const how = hashed ? 'hashed' : 'plain';
    it(`connects with only the ECDSA key known (${how}) and checks that key`, async () => {
      const info = await connectInfo(opts(knownHostsWith('ecdsa', { hashed })));
      expect(info.hostKeyAlgorithm).toBe('ecdsa-sha2-nistp256');
      expect(info.hostKeyFingerprint).toBe(key('ecdsa').fingerprint);
      expect(info.hostKeyVerifiedBy).toMatch(/^known_hosts .*:1$/);
    });

    it(`connects with only the RSA key known (${how}), signed with rsa-sha2-512`, async () => {
      const info = await connectInfo(opts(knownHostsWith('rsa', { hashed })));
      expect(info.hostKeyAlgorithm).toBe('rsa-sha2-512');
      expect(info.hostKeyFingerprint).toBe(key('rsa').fingerprint);
    });
  }

  it('still takes Ed25519 first when it is known', async () => {
    const info = await connectInfo(opts(knownHostsWith('ed25519')));
    expect(info.hostKeyAlgorithm).toBe('ssh-ed25519');
    expect(info.hostKeyFingerprint).toBe(key('ed25519').fingerprint);
  });

  it('refuses a different ECDSA key as a mismatch, not as an unknown Ed25519 key', async () => {
    const other = join(work, 'other_ecdsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', other], { stdio: 'ignore' });
    const file = join(work, 'kh-wrong-ecdsa');
    const [kt, kb] = readFileSync(`${other}.pub`, 'utf8').split(' ');
    writeFileSync(file, `${sshd.knownHostsName} ${kt} ${kb}\n`);
    const err = await SshConnection.connect(opts(file)).then(
      async (c) => {
        await c.end();
        throw new Error('connected with a wrong ECDSA key');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('HOST_KEY_MISMATCH');
    expect((err as TransportError).message).toContain('Offending ECDSA key');
  });
});
