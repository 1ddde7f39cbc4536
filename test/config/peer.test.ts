import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  ConfigError,
  describeConfig,
  detectRemoteKind,
  PRIVATE_IPV4_RANGES,
  parsePeerConfig,
} from '../../src/config/index.js';
import { configErrorOf, ENV } from './fixtures.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const minimal = 'ssh:\n  host: gw.example.com\n';

describe('peer.yaml', () => {
  it('parses examples/peer.yaml', () => {
    const cfg = parsePeerConfig(
      readFileSync(join(EXAMPLES, 'peer.yaml'), 'utf8'),
      'examples/peer.yaml',
      ENV,
    );
    expect(cfg.name).toBe('office');
    expect(cfg.ssh).toMatchObject({
      host: 'vpn.example.com',
      user: 'alice',
      identityFiles: ['/home/alice/.ssh/id_ed25519'],
      identityFilesExplicit: true,
    });
    expect(cfg.ppp.acceptLocal).toEqual(['10.77.0.0/24']);
    expect(cfg.ppp.usePeerDns).toBe(true);
    expect(cfg.routes).toEqual(['10.1.0.0/16', '192.168.50.0/24', 'fd00:50::/64']);
    expect(cfg.warnings).toEqual([]);
  });

  it('fills in every default', () => {
    const cfg = parsePeerConfig(minimal, '/etc/ts-vpn/peer.yaml', ENV);
    expect(cfg).toEqual({
      kind: 'peer',
      source: '/etc/ts-vpn/peer.yaml',
      name: 'peer',
      ssh: {
        host: 'gw.example.com',
        alias: 'gw.example.com',
        port: 22,
        user: 'alice',
        identityFiles: [
          '/home/alice/.ssh/id_ed25519',
          '/home/alice/.ssh/id_ecdsa',
          '/home/alice/.ssh/id_rsa',
        ],
        identityFilesExplicit: false,
        agent: false,
        hostKey: {
          knownHostsFiles: ['/home/alice/.ssh/known_hosts'],
          fingerprints: [],
          acceptNew: false,
        },
        keepaliveIntervalMs: 15_000,
        keepaliveCountMax: 3,
        connectTimeoutMs: 15_000,
        ciphers: [
          'aes128-gcm@openssh.com',
          'aes256-gcm@openssh.com',
          'chacha20-poly1305@openssh.com',
        ],
        typedAuth: { password: true, keyboardInteractive: true, prompts: 3 },
        passphraseFile: null,
        passphrase: null,
        jump: [],
        client: 'ssh2',
        hops: null,
        config: { enabled: true, file: null },
        given: ['host'],
        origins: {
          host: '/etc/ts-vpn/peer.yaml:2',
          port: 'default',
          user: 'default',
          'identity-files': 'default',
          agent: 'default',
          'host-key.known-hosts': 'default',
          'host-key.fingerprint': 'default',
          'host-key.accept-new': 'default',
          'host-key.alias': 'default',
          'keepalive-interval': 'default',
          'keepalive-count-max': 'default',
          'connect-timeout': 'default',
          ciphers: 'default',
          jump: 'default',
          'typed-auth': 'default',
        },
        notes: [],
        alternates: [],
      },
      remote: {
        transport: 'ssh',
        command: 'sudo ts-vpn serve',
        kind: 'ts-vpn',
        kindDetected: true,
        gateway: null,
        clientRoutes: [],
      },
      ppp: {
        localAddress: null,
        peerAddress: null,
        acceptLocal: [...PRIVATE_IPV4_RANGES],
        acceptPeer: [...PRIVATE_IPV4_RANGES],
        mru: 1500,
        accm: 0,
        echoIntervalMs: 10_000,
        echoFailures: 3,
        ipv6: true,
        usePeerDns: false,
        auth: null,
        debug: false,
        restartMs: 3000,
        maxConfigure: 10,
        maxTerminate: 2,
        maxFailure: 5,
      },
      tunnel: {
        interface: 'tsvpn%d',
        mtu: null,
        metric: null,
        offload: true,
        user: null,
        group: null,
      },
      routes: [],
      defaultRoute: false,
      dns: { writeTo: '/run/ts-vpn/peer/resolv.conf' },
      reconnect: {
        enabled: true,
        holdoffMs: 1000,
        maxBackoffMs: 60_000,
        maxFail: 0,
        onRefusal: 'stop',
      },
      hooks: { up: null, down: null, timeoutMs: 10_000 },
      warnings: [],
    });
  });

  it('maps every kebab-case key to its camelCase field, converting seconds to ms', () => {
    const text = `
name: lab-2
ssh:
  host: "[2001:db8::1]"
  port: 2222
  user: bob
  identity-files: ~/.ssh/lab
  agent: /run/agent.sock
  host-key:
    known-hosts: [~/.ssh/kh1, kh2]
    fingerprint: SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s=
    accept-new: true
  keepalive-interval: 0
  keepalive-count-max: 5
  connect-timeout: 2.5
  ciphers: [aes256-ctr]
  passphrase-file: pass.txt
remote:
  command: sudo /usr/sbin/pppd notty noauth
ppp:
  local-address: 10.9.0.2
  peer-address: 10.9.0.1
  mru: 1400
  accm: 0x000a0000
  echo-interval: 0
  echo-failures: 7
  ipv6: false
  use-peer-dns: true
  auth: { user: bob, password-file: /etc/ts-vpn/bob.secret }
  debug: true
  restart: 0.5
  max-configure: 3
  max-terminate: 1
  max-failure: 2
tunnel: { interface: lab0, mtu: 1400, metric: 10, offload: false, user: vpn, group: "65534" }
routes: [192.168.7.0/24]
default-route: true
dns: { write-to: /etc/resolv.conf }
reconnect: { enabled: false, holdoff: 0, max-backoff: 5, max-fail: 3 }
hooks: { up: /bin/true, down: echo down, timeout: 3 }
`;
    const cfg = parsePeerConfig(text, 'lab.yaml', ENV);
    expect(cfg.name).toBe('lab-2');
    expect(cfg.ssh).toMatchObject({
      host: '2001:db8::1',
      port: 2222,
      user: 'bob',
      identityFiles: ['/home/alice/.ssh/lab'],
      agent: '/run/agent.sock',
      hostKey: {
        knownHostsFiles: ['/home/alice/.ssh/kh1', '/etc/ts-vpn/kh2'],
        fingerprints: ['SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'],
        acceptNew: true,
      },
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 5,
      connectTimeoutMs: 2500,
      ciphers: ['aes256-ctr'],
      passphraseFile: '/etc/ts-vpn/pass.txt',
    });
    expect(cfg.remote).toEqual({
      transport: 'ssh',
      command: 'sudo /usr/sbin/pppd notty noauth',
      kind: 'pppd',
      kindDetected: true,
      gateway: null,
      clientRoutes: [],
    });
    expect(cfg.ppp).toMatchObject({
      localAddress: '10.9.0.2',
      peerAddress: '10.9.0.1',
      acceptLocal: ['10.9.0.2/32'],
      acceptPeer: ['10.9.0.1/32'],
      mru: 1400,
      accm: 0xa0000,
      echoIntervalMs: 0,
      echoFailures: 7,
      ipv6: false,
      usePeerDns: true,
      debug: true,
      restartMs: 500,
      maxConfigure: 3,
      maxTerminate: 1,
      maxFailure: 2,
    });
    expect(cfg.ppp.auth).toMatchObject({
      user: 'bob',
      password: null,
      passwordFile: '/etc/ts-vpn/bob.secret',
    });
    expect(cfg.tunnel).toEqual({
      interface: 'lab0',
      mtu: 1400,
      metric: 10,
      offload: false,
      user: 'vpn',
      group: '65534',
    });
    expect(cfg.routes).toEqual(['192.168.7.0/24']);
    expect(cfg.defaultRoute).toBe(true);
    expect(cfg.dns.writeTo).toBe('/etc/resolv.conf');
    expect(cfg.reconnect).toEqual({
      enabled: false,
      holdoffMs: 0,
      maxBackoffMs: 5000,
      maxFail: 3,
      onRefusal: 'stop',
    });
    expect(cfg.hooks).toEqual({ up: '/bin/true', down: 'echo down', timeoutMs: 3000 });
  });

  it('treats an empty section like an absent one', () => {
    const cfg = parsePeerConfig(`${minimal}hooks:\nreconnect:\n`, 'x.yaml', ENV);
    expect(cfg.reconnect.enabled).toBe(true);
  });

  it('takes the agent socket from the environment, and agent: true uses it', () => {
    const env = { ...ENV, sshAuthSock: '/tmp/agent.1' };
    expect(parsePeerConfig(minimal, 'x.yaml', env).ssh.agent).toBe('/tmp/agent.1');
    expect(parsePeerConfig(`${minimal}  agent: true\n`, 'x.yaml', env).ssh.agent).toBe(
      '/tmp/agent.1',
    );
    expect(parsePeerConfig(`${minimal}  agent: false\n`, 'x.yaml', env).ssh.agent).toBe(false);
  });

  it('derives the tunnel name from the file name', () => {
    expect(parsePeerConfig(minimal, '/x/office-vpn.yml', ENV).name).toBe('office-vpn');
    expect(parsePeerConfig(minimal, '<stdin>', ENV).name).toBe('default');
    expect(configErrorOf(() => parsePeerConfig(minimal, '/x/My VPN.yaml', ENV)).message).toContain(
      'cannot derive a tunnel name from the file name "My VPN.yaml"',
    );
  });

  it('keeps routes containing the SSH server when default-route keeps a host route to it', () => {
    const cfg = parsePeerConfig(
      'ssh:\n  host: 198.18.0.2\nroutes: [198.18.0.0/15]\ndefault-route: true\n',
      'x.yaml',
      ENV,
    );
    expect(cfg.routes).toEqual(['198.18.0.0/15']);
  });

  it('detects the remote kind from the command', () => {
    expect(detectRemoteKind('sudo ts-vpn serve')).toBe('ts-vpn');
    expect(detectRemoteKind('sudo -n env LANG=C /usr/sbin/pppd notty')).toBe('pppd');
    expect(detectRemoteKind('/opt/bin/ts-vpn serve --config /etc/x')).toBe('ts-vpn');
    expect(detectRemoteKind('socat - tun')).toBeNull();
  });

  it('warns about pppd without notty/noauth and low MTU with IPv6', () => {
    const cfg = parsePeerConfig(
      `${minimal}remote:\n  command: sudo pppd\ntunnel:\n  mtu: 576\n`,
      'x.yaml',
      ENV,
    );
    expect(cfg.warnings.join('\n')).toContain('without "notty"');
    expect(cfg.warnings.join('\n')).toContain('without "noauth"');
    expect(cfg.warnings.join('\n')).toContain("below IPv6's minimum 1280");
    const other = parsePeerConfig(
      `${minimal}remote:\n  command: socat - exec:foo\n`,
      'x.yaml',
      ENV,
    );
    expect(other.remote.kind).toBe('ts-vpn');
    expect(other.warnings[0]).toContain('assuming kind: ts-vpn');
  });

  it('reports every problem at once, with lines, in file order', () => {
    const e = configErrorOf(() =>
      parsePeerConfig('ssh:\n  host: a\n  port: 0\nppp:\n  mru: 1\n  nope: 1\n', 'p.yaml', ENV),
    );
    expect(e.issues).toEqual([
      { path: 'ssh.port', message: 'expected an integer 1-65535, got 0', line: 3 },
      { path: 'ppp.mru', message: 'expected an integer 128-16384, got 1', line: 5 },
      {
        path: 'ppp.nope',
        message:
          'unknown key; expected one of local-address, peer-address, accept-local, accept-peer, mru, accm, echo-interval, echo-failures, ipv6, use-peer-dns, auth, debug, restart, max-configure, max-terminate, max-failure',
        line: 6,
      },
    ]);
    expect(e.message.split('\n')[0]).toBe('p.yaml:3 ssh.port: expected an integer 1-65535, got 0');
  });

  it('reports YAML syntax errors with their line', () => {
    const e = configErrorOf(() => parsePeerConfig('ssh:\n  host: [gw\n', 'p.yaml', ENV));
    expect(e.message).toContain('p.yaml:');
    expect(e.message).toContain('YAML syntax error');
    expect(e.exitCode).toBe(2);
  });

  it('points at list items by index and line', () => {
    const e = configErrorOf(() =>
      parsePeerConfig(`${minimal}routes:\n  - 10.0.0.0/8\n\n  - 10.0.0.1/8\n`, 'p.yaml', ENV),
    );
    expect(e.issues[0]).toMatchObject({ path: 'routes[1]', line: 6 });
  });

  it('never prints an inline password', () => {
    const cfg = parsePeerConfig(
      `${minimal}ppp:\n  auth:\n    user: alice\n    password: s3cret-XYZ\n`,
      'x.yaml',
      ENV,
    );
    expect(cfg.ppp.auth?.password?.reveal()).toBe('s3cret-XYZ');
    expect(JSON.stringify(cfg)).not.toContain('s3cret-XYZ');
    expect(String(cfg.ppp.auth?.password)).toBe('<hidden>');
    expect(describeConfig(cfg)).not.toContain('s3cret-XYZ');
    expect(describeConfig(cfg)).toContain('user alice');
  });

  it('describes a config in a few lines', () => {
    const text = describeConfig(
      parsePeerConfig(`${minimal}routes: [10.1.0.0/16]\ndefault-route: true\n`, 'office.yaml', ENV),
    );
    expect(text).toContain('tunnel "office"');
    expect(text).toContain('alice@gw.example.com:22');
    expect(text).toContain('default (host route to the SSH server kept), 10.1.0.0/16');
  });

  it('throws only ConfigError, whatever the YAML holds', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = stringify(v);
        try {
          parsePeerConfig(text, 'fuzz.yaml', ENV);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('throws only ConfigError for random values under known keys', () => {
    const keys = [
      'ssh',
      'ppp',
      'routes',
      'tunnel',
      'reconnect',
      'hooks',
      'dns',
      'remote',
      'name',
      'default-route',
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })), (obj) => {
        try {
          parsePeerConfig(stringify({ ssh: { host: 'h' }, ...obj }), 'fuzz.yaml', ENV);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
