/** peer.yaml `remote.transport`: ssh (default) or a local command speaking PPP on stdin/stdout. */
import { describe, expect, it } from 'vitest';
import { loadPeerConfig } from '../../src/config/files.js';
import { describeConfig, parsePeerConfig } from '../../src/config/index.js';
import { configErrorOf, ENV, makeFixture } from './fixtures.js';

describe('remote.transport', () => {
  it('defaults to ssh', () => {
    const cfg = parsePeerConfig('ssh:\n  host: gw.example.com\n', 'p.yaml', ENV);
    expect(cfg.remote.transport).toBe('ssh');
  });

  it('command: needs no ssh section and runs remote.command locally', () => {
    const cfg = parsePeerConfig(
      'remote:\n  transport: command\n  command: ssh -T gw sudo ts-vpn serve\n',
      'p.yaml',
      ENV,
    );
    expect(cfg.remote).toMatchObject({
      transport: 'command',
      command: 'ssh -T gw sudo ts-vpn serve',
    });
    expect(cfg.warnings).toEqual([]);
    expect(describeConfig(cfg)).toContain('transport: local command');
    expect(describeConfig(cfg)).not.toContain('host key');
  });

  it('command: without remote.command is an error naming the field and an example', () => {
    const e = configErrorOf(() =>
      parsePeerConfig('remote:\n  transport: command\n', 'p.yaml', ENV),
    );
    expect(e.message).toMatch(/p\.yaml:1.*remote.*command is required with transport: command/);
  });

  it('an unknown transport is refused with the allowed values', () => {
    const e = configErrorOf(() =>
      parsePeerConfig('ssh:\n  host: gw\nremote:\n  transport: pty\n  command: x\n', 'p.yaml', ENV),
    );
    expect(e.message).toMatch(/remote\.transport/);
    expect(e.message).toMatch(/ssh.*command|command.*ssh/);
  });

  it('command: warns that an ssh section and default-route are not used as with ssh', () => {
    const cfg = parsePeerConfig(
      'ssh:\n  host: gw\nremote:\n  transport: command\n  command: cat\n  kind: ts-vpn\ndefault-route: true\n',
      'p.yaml',
      ENV,
    );
    expect(cfg.warnings.join('\n')).toMatch(/ssh section is not used/);
    expect(cfg.warnings.join('\n')).toMatch(/default-route .* keeps no host route/);
  });

  it('command: loadPeerConfig checks no known_hosts, keys or host name', async () => {
    const fx = makeFixture();
    try {
      const p = fx.write(
        'peer.yaml',
        'remote:\n  transport: command\n  command: cat\n  kind: ts-vpn\nroutes: [10.9.0.0/24]\nssh:\n  host: does-not-resolve.invalid\n  identity-files: [/nonexistent/key]\n  host-key:\n    known-hosts: /nonexistent/known_hosts\n',
      );
      const cfg = await loadPeerConfig(p, {
        env: fx.env,
        resolve: async () => {
          throw new Error('must not resolve');
        },
      });
      expect(cfg.remote.transport).toBe('command');
      expect(cfg.ssh.identityFiles).toEqual([]);
    } finally {
      fx.cleanup();
    }
  });
});

describe('ssh.host as a list of gateways', () => {
  it('keeps the first as ssh.host and the others as alternates, in order', () => {
    const cfg = parsePeerConfig(
      'ssh:\n  host: [gw1.example, 10.0.0.2]\n  port: 2222\n',
      'p.yaml',
      ENV,
    );
    expect(cfg.ssh.host).toBe('gw1.example');
    expect(cfg.ssh.alternates.map((a) => [a.host, a.port])).toEqual([['10.0.0.2', 2222]]);
  });

  it('refuses duplicates and more than 8, naming the item', () => {
    expect(
      configErrorOf(() => parsePeerConfig('ssh:\n  host: [a, b, a]\n', 'p.yaml', ENV)).message,
    ).toMatch(/ssh\.host\[2\].*"a" is listed twice/);
    expect(
      configErrorOf(() =>
        parsePeerConfig(`ssh:\n  host: [${'abcdefghi'.split('').join(', ')}]\n`, 'p.yaml', ENV),
      ).message,
    ).toMatch(/ssh\.host/);
  });
});
