/**
 * Effective ssh settings: peer.yaml keys win, then ssh_config (first match), then the
 * defaults; each with its origin; bad ssh_config values are errors naming file:line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadPeerConfig } from '../../src/config/index.js';
import { parsePeerConfig } from '../../src/config/peer.js';
import { SshConfigError } from '../../src/config/ssh-config.js';
import { applySshConfig } from '../../src/config/ssh-settings.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-sshset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, 'home');
mkdirSync(join(home, '.ssh'), { recursive: true });
const env = {
  user: 'alice',
  home,
  sshAuthSock: '/run/agent.sock',
  hostname: 'laptop.lan',
  baseDir: dir,
};

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

function peer(yaml: string) {
  return parsePeerConfig(yaml, 'peer.yaml', env);
}

const sysNone = { systemConfig: join(dir, 'no-system-config') };

describe('applySshConfig', () => {
  const conf = write(
    'config',
    `Host gw
  HostName 198.18.0.2
  Port 2222
  User bob
  IdentityFile ~/.ssh/gw_%r_%h
  IdentitiesOnly yes
  UserKnownHostsFile ~/.ssh/kh_%h
  HostKeyAlias gateway
  StrictHostKeyChecking accept-new
  HashKnownHosts yes
  ServerAliveInterval 1m
  ServerAliveCountMax 4
  ConnectTimeout 7
  Ciphers aes256-ctr,aes128-cbc,chacha20-poly1305@openssh.com
  ProxyJump jumper@bastion:2200,b2
`,
  );

  it('fills every unset key from the matching Host block, with file:line origins', () => {
    const cfg = peer(`ssh:\n  host: gw\n  config-file: ${conf}\n`);
    applySshConfig(cfg, env, sysNone);
    expect(cfg.ssh).toMatchObject({
      host: '198.18.0.2',
      alias: 'gw',
      port: 2222,
      user: 'bob',
      identityFiles: [join(home, '.ssh/gw_bob_198.18.0.2')],
      identityFilesExplicit: false,
      agent: false,
      hostKey: {
        knownHostsFiles: [
          join(home, '.ssh/kh_198.18.0.2'),
          '/etc/ssh/ssh_known_hosts',
          '/etc/ssh/ssh_known_hosts2',
        ],
        alias: 'gateway',
        acceptNew: true,
        hashNew: true,
      },
      keepaliveIntervalMs: 60_000,
      keepaliveCountMax: 4,
      connectTimeoutMs: 7000,
      ciphers: ['aes256-ctr', 'chacha20-poly1305@openssh.com'],
      jump: ['jumper@bastion:2200', 'b2'],
    });
    expect(cfg.ssh.origins).toMatchObject({
      host: `${conf}:2`,
      port: `${conf}:3`,
      user: `${conf}:4`,
      'identity-files': `${conf}:5`,
      agent: `${conf}:6 (IdentitiesOnly yes: keys from files only)`,
      'host-key.known-hosts': `${conf}:7`,
      'host-key.alias': `${conf}:8`,
      'host-key.accept-new': `${conf}:9`,
      'keepalive-interval': `${conf}:11`,
      ciphers: `${conf}:14`,
      jump: `${conf}:15`,
    });
    const text = describeConfig(cfg);
    expect(text).toContain(`    host: 198.18.0.2 (for gw)  [${conf}:2]`);
    expect(text).toContain(`    port: 2222  [${conf}:3]`);
    expect(text).toContain('    keepalive-count-max: 4');
  });

  it('peer.yaml keys win over ssh_config, and say so', () => {
    const cfg = peer(
      `ssh:\n  host: gw\n  port: 22\n  user: carol\n  agent: false\n  ciphers: [aes128-ctr]\n  jump: []\n  config-file: ${conf}\n`,
    );
    applySshConfig(cfg, env, sysNone);
    expect(cfg.ssh).toMatchObject({
      host: '198.18.0.2',
      port: 22,
      user: 'carol',
      ciphers: ['aes128-ctr'],
      jump: [],
    });
    expect(cfg.ssh.origins.port).toBe('peer.yaml:3');
    expect(cfg.ssh.origins.user).toBe('peer.yaml:4');
    // %r is the effective remote user: peer.yaml's.
    expect(cfg.ssh.identityFiles).toEqual([join(home, '.ssh/gw_carol_198.18.0.2')]);
  });

  it('PasswordAuthentication, KbdInteractiveAuthentication, NumberOfPasswordPrompts and BatchMode set typed authentication, per host and per hop', () => {
    const c = write(
      'typed_config',
      'Host pw-off\n  PasswordAuthentication no\n  NumberOfPasswordPrompts 1\nHost batch\n  BatchMode yes\nHost kbd-off\n  ChallengeResponseAuthentication no\n  ProxyJump batch\n',
    );
    const typed = (host: string) => {
      const cfg = peer(`ssh:\n  host: ${host}\n  config-file: ${c}\n`);
      applySshConfig(cfg, env, sysNone);
      return cfg;
    };
    expect(typed('pw-off').ssh.typedAuth).toEqual({
      password: false,
      keyboardInteractive: true,
      prompts: 1,
    });
    expect(typed('other').ssh.typedAuth).toEqual({
      password: true,
      keyboardInteractive: true,
      prompts: 3,
    });
    const k = typed('kbd-off');
    expect(k.ssh.typedAuth).toEqual({ password: true, keyboardInteractive: false, prompts: 3 });
    // The jump host has its own: BatchMode yes there turns both off for that hop only.
    expect(k.ssh.hops?.[0].typedAuth).toEqual({
      password: false,
      keyboardInteractive: false,
      prompts: 3,
    });
    expect(k.ssh.hops?.[0].host).toBe('batch');
    // ts-vpn check shows it with its origin.
    expect(describeConfig(typed('batch'))).toContain(
      `    typed-auth: none  [${c}:5 (BatchMode yes)]`,
    );
    expect(describeConfig(typed('pw-off'))).toContain(
      `    typed-auth: keyboard-interactive (on a terminal, 1 prompt)  [${c}:2]`,
    );
    const bad = write('typed_bad', 'Host *\n  BatchMode perhaps\n');
    expect(() =>
      applySshConfig(peer(`ssh:\n  host: x\n  config-file: ${bad}\n`), env, sysNone),
    ).toThrow(/typed_bad:2: BatchMode "perhaps": expected yes or no/);
  });

  it('ssh.config: false reads nothing; a host no block matches keeps the defaults', () => {
    const off = peer(`ssh:\n  host: gw\n  config: false\n  config-file: ${conf}\n`);
    expect(applySshConfig(off, env, sysNone)).toBeNull();
    expect(off.ssh).toMatchObject({ host: 'gw', port: 22, user: 'alice', jump: [] });
    expect(off.ssh.hostKey.knownHostsFiles).toEqual([join(home, '.ssh/known_hosts')]);
    const other = peer(`ssh:\n  host: other\n  config-file: ${conf}\n`);
    applySshConfig(other, env, sysNone);
    expect(other.ssh).toMatchObject({
      host: 'other',
      port: 22,
      user: 'alice',
      agent: '/run/agent.sock',
    });
    // With ssh_config on, known_hosts are OpenSSH's files.
    expect(other.ssh.hostKey.knownHostsFiles).toEqual([
      join(home, '.ssh/known_hosts'),
      join(home, '.ssh/known_hosts2'),
      '/etc/ssh/ssh_known_hosts',
      '/etc/ssh/ssh_known_hosts2',
    ]);
  });

  it('reads ~/.ssh/config, then the system file, first value wins', () => {
    writeFileSync(join(home, '.ssh/config'), 'Host gw\n  Port 1001\n');
    const sys = write('ssh_config', 'Host *\n  Port 1002\n  User sysuser\n');
    const cfg = peer('ssh:\n  host: gw\n');
    applySshConfig(cfg, env, { systemConfig: sys });
    expect(cfg.ssh).toMatchObject({ port: 1001, user: 'sysuser' });
    expect(cfg.ssh.origins.user).toBe(`${sys}:3`);
    rmSync(join(home, '.ssh/config'));
  });

  it('StrictHostKeyChecking no is taken as accept-new with a warning; ProxyCommand is warned about', () => {
    const f = write(
      'pc',
      'Host gw\n  ProxyCommand nc %h %p\n  ProxyJump b\n  StrictHostKeyChecking no\n',
    );
    const cfg = peer(`ssh:\n  host: gw\n  config-file: ${f}\n`);
    applySshConfig(cfg, env, sysNone);
    expect(cfg.ssh.hostKey.acceptNew).toBe(true);
    expect(cfg.ssh.jump).toEqual([]);
    expect(cfg.warnings.join('\n')).toMatch(/pc:2: ProxyCommand is not run/);
    expect(cfg.warnings.join('\n')).toMatch(
      /pc:4: StrictHostKeyChecking no is taken as accept-new/,
    );
  });

  it('bad values are errors naming file:line and what is expected', () => {
    const cases: Array<[string, RegExp]> = [
      ['Host gw\n  Port 70000\n', /bad1:2: Port "70000": expected a port number/],
      [
        'Host gw\n  Ciphers aes128-cbc,3des-cbc\n',
        /bad2:2: Ciphers aes128-cbc,3des-cbc leaves no cipher ts-vpn allows/,
      ],
      [
        'Host gw\n  ServerAliveInterval soon\n',
        /bad3:2: ServerAliveInterval "soon": expected a time/,
      ],
      ['Host gw\n  StrictHostKeyChecking maybe\n', /bad4:2: StrictHostKeyChecking "maybe"/],
      ['Host gw\n  IdentityFile ~/.ssh/%z\n', /bad5:2: unknown token %z/],
    ];
    cases.forEach(([text, re], i) => {
      const f = write(`bad${i + 1}`, text);
      const cfg = peer(`ssh:\n  host: gw\n  config-file: ${f}\n`);
      expect(() => applySshConfig(cfg, env, sysNone)).toThrow(SshConfigError);
      expect(() =>
        applySshConfig(peer(`ssh:\n  host: gw\n  config-file: ${f}\n`), env, sysNone),
      ).toThrow(re);
    });
  });

  it('loadPeerConfig turns an ssh_config error into a config error (exit 2)', async () => {
    const a = join(dir, 'loop1');
    write('loop1', `Include ${join(dir, 'loop2')}\n`);
    write('loop2', `Include ${a}\n`);
    const p = write(
      'peer-loop.yaml',
      `ssh:\n  host: gw\n  config-file: ${a}\n  host-key:\n    accept-new: true\n`,
    );
    const err = await loadPeerConfig(p, { env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).toContain('Include loop');
  });
});
