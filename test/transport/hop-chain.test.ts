/**
 * Jump hosts over two real sshds on loopback: bastion → gateway, each hop's host key
 * checked, a failed hop named, the chain torn down with the tunnel, and ProxyJump
 * resolution from ssh_config (cycles refused).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePeerConfig, type SshHop } from '../../src/config/peer.js';
import { SshConfigError } from '../../src/config/ssh-config.js';
import { applySshConfig, parseJumpSpec } from '../../src/config/ssh-settings.js';
import { TransportError } from '../../src/transport/errors.js';
import { connectChain } from '../../src/transport/hop-chain.js';
import type { SshConnectOptions } from '../../src/transport/ssh.js';
import { type Sshd, startSshd } from '../support/sshd.js';

let bastion: Sshd;
let gw: Sshd;
let work: string;

beforeAll(async () => {
  [bastion, gw] = await Promise.all([startSshd(), startSshd()]);
  work = mkdtempSync(join(tmpdir(), 'tv-hops-'));
});
afterAll(async () => {
  await Promise.all([bastion?.stop(), gw?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

function hop(over: Partial<SshHop> = {}): SshHop {
  return {
    spec: 'bastion',
    origin: 'test',
    host: bastion.listenAddress,
    port: bastion.port,
    user: 'root',
    identityFiles: [bastion.clientKeyPath],
    agent: false,
    hostKey: { knownHostsFiles: [bastion.knownHostsPath], fingerprints: [], acceptNew: false },
    keepaliveIntervalMs: 15_000,
    keepaliveCountMax: 3,
    connectTimeoutMs: 8000,
    ciphers: ['aes128-gcm@openssh.com'],
    typedAuth: { password: true, keyboardInteractive: true, prompts: 3 },
    ...over,
  };
}

function target(): SshConnectOptions {
  return {
    host: gw.listenAddress,
    port: gw.port,
    user: 'root',
    identities: [gw.clientKeyPath],
    agent: false,
    hostKey: { knownHostsFiles: [gw.knownHostsPath] },
    readyTimeoutMs: 8000,
  };
}

describe('parseJumpSpec', () => {
  it('reads [user@]host[:port], [v6]:port and ssh:// forms', () => {
    expect(parseJumpSpec('bastion')).toEqual({ host: 'bastion' });
    expect(parseJumpSpec('bob@b.example.com:2200')).toEqual({
      user: 'bob',
      host: 'b.example.com',
      port: 2200,
    });
    expect(parseJumpSpec('[2001:db8::1]:22')).toEqual({ host: '2001:db8::1', port: 22 });
    expect(parseJumpSpec('ssh://bob@b:2')).toEqual({ user: 'bob', host: 'b', port: 2 });
    for (const bad of ['', 'a b', 'a@', ':22', 'h:0', 'h:99999', 'a@b@c'])
      expect(parseJumpSpec(bad)).toBeNull();
  });
});

describe('connectChain over two real sshds', () => {
  it('reaches the gateway through the bastion and checks both host keys', async () => {
    const logs: string[] = [];
    const conn = await connectChain(
      [hop()],
      { ...target(), log: (m) => logs.push(m) },
      {
        common: { log: (m) => logs.push(m) },
      },
    );
    try {
      expect(conn.via?.label).toBe('jump host 1 of 1 (bastion)');
      expect(conn.info.hostKeyFingerprint).toBe(gw.hostFingerprint);
      expect(conn.via?.info.hostKeyFingerprint).toBe(bastion.hostFingerprint);
      expect(conn.via?.info.hostKeyVerifiedBy).toMatch(/^known_hosts /);
      // The TCP peer of the chain is the bastion.
      expect(conn.socketAddress).toBe('127.0.0.1');
      expect(logs.some((l) => l.startsWith('jump host 1 of 1 (bastion): ssh root@'))).toBe(true);
      const t = await conn.exec('echo via-bastion');
      const out = await new Promise<string>((resolve) => {
        let s = '';
        t.onData((d) => {
          s += Buffer.from(d).toString();
        });
        t.onClose(() => resolve(s));
      });
      expect(out).toBe('via-bastion\n');
      // sshd logged the forwarding on the bastion.
      expect(bastion.log()).toMatch(/direct-tcpip|Accepted publickey/);
    } finally {
      await conn.end();
    }
    for (let i = 0; i < 50 && bastion.sessionPids().length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(bastion.sessionPids()).toEqual([]);
  });

  it('refuses a wrong bastion key, naming the hop, before touching the gateway', async () => {
    const kh = join(work, 'wrong-bastion');
    const [kt, kb] = gw.hostPublicKey.split(' '); // the gateway's key filed under the bastion's name
    writeFileSync(kh, `${bastion.knownHostsName} ${kt} ${kb}\n`);
    const before = gw.log().length;
    const err = await connectChain(
      [hop({ hostKey: { knownHostsFiles: [kh], fingerprints: [], acceptNew: false } })],
      target(),
      { common: {} },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('HOST_KEY_MISMATCH');
    expect((err as TransportError).message).toMatch(
      /^jump host 1 of 1 \(bastion\): host key mismatch\n/,
    );
    expect(gw.log().slice(before)).not.toMatch(/Accepted|Connection from/);
  });

  it('names the jump host when the gateway cannot be reached through it', async () => {
    const err = await connectChain([hop()], { ...target(), port: 1 }, { common: {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as TransportError).code).toBe('CONNECT_FAILED');
    expect((err as TransportError).message).toMatch(
      /connect to host 127\.0\.0\.1 port 1 through jump host 1 of 1 \(bastion\)/,
    );
  });

  it('reports the loss of the bastion as the loss of the tunnel', async () => {
    const conn = await connectChain([hop()], target(), { common: {} });
    const t = await conn.exec('sleep 30');
    const closed = t.closed;
    bastion.killSessions();
    const r = await closed;
    expect(r.code).toBe('SSH_CLOSED');
    await t.close();
  });
});

describe('ProxyJump resolution', () => {
  const env = {
    user: 'alice',
    home: '/nonexistent-home',
    sshAuthSock: undefined,
    hostname: 'h',
    baseDir: '/',
  };
  const sys = { systemConfig: '/nonexistent-system-config' };
  function cfgWith(config: string, yaml = '') {
    const f = join(work, `c${Math.random()}`);
    writeFileSync(f, config);
    const cfg = parsePeerConfig(`ssh:\n  host: gw\n  config-file: ${f}\n${yaml}`, 'peer.yaml', env);
    return { cfg, f };
  }

  it("follows the first hop's own ProxyJump, takes each hop's settings from ssh_config", () => {
    const { cfg, f } = cfgWith(`Host gw
  ProxyJump b1,carol@b2:2202
Host b1
  HostName 10.0.0.1
  ProxyJump b0
  IdentityFile /keys/b1
Host b2
  ProxyJump ignored-for-later-hops
Host b0
  User zero
  Port 2200
`);
    applySshConfig(cfg, env, sys);
    expect(cfg.ssh.hops?.map((h) => `${h.user}@${h.host}:${h.port} [${h.spec}]`)).toEqual([
      'zero@b0:2200 [b0]',
      'alice@10.0.0.1:22 [b1]',
      'carol@b2:2202 [carol@b2:2202]',
    ]);
    expect(cfg.ssh.hops?.[0].origin).toBe(`${f}:5`);
    expect(cfg.ssh.hops?.[1].origin).toBe(`${f}:2`);
  });

  it('peer.yaml ssh.jump wins over ProxyJump, and hops inherit peer-wide keys', () => {
    const { cfg } = cfgWith(
      'Host gw\n  ProxyJump nope\n',
      '  jump: [bob@jump.example:2022]\n  identity-files: [/k/id]\n  keepalive-interval: 5\n',
    );
    applySshConfig(cfg, env, sys);
    expect(cfg.ssh.hops).toMatchObject([
      {
        host: 'jump.example',
        port: 2022,
        user: 'bob',
        identityFiles: ['/k/id'],
        keepaliveIntervalMs: 5000,
        origin: 'peer.yaml:4',
      },
    ]);
  });

  it('refuses a ProxyJump cycle with the path', () => {
    const { cfg, f } = cfgWith(
      'Host gw\n  ProxyJump a\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n',
    );
    expect(() => applySshConfig(cfg, env, sys)).toThrow(SshConfigError);
    expect(() => applySshConfig(cfgWith(readFileSync(f, 'utf8')).cfg, env, sys)).toThrow(
      /ProxyJump cycle: gw → a → b → a/,
    );
    const self = cfgWith('Host gw\n  ProxyJump gw\n').cfg;
    expect(() => applySshConfig(self, env, sys)).toThrow(/ProxyJump cycle: gw → gw/);
  });
});
