/**
 * Issue 12 §3 configuration messages that the bad/ corpus cannot express alone:
 * binary files read from disk, YAML errors never pointing past the end, the
 * pppd option warnings only for a command that is pppd, the dns.write-to
 * warnings, and the default DNS file following --state-dir.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeConfig,
  loadPeerConfig,
  loadServerConfig,
  parsePeerConfig,
} from '../../src/config/index.js';
import { decodeConfigBytes } from '../../src/config/yaml-diagnostics.js';
import {
  configErrorOf,
  configRejection,
  ENV,
  type Fixture,
  fakeResolver,
  makeFixture,
} from './fixtures.js';

const minimal = 'ssh:\n  host: gw.example.com\n';

describe('files that are not text', () => {
  let fx: Fixture;
  beforeAll(() => {
    fx = makeFixture();
  });
  afterAll(() => fx.cleanup());

  it('a binary file (PNG header, NUL bytes) is "not a text file", with no YAML errors', async () => {
    const png = Uint8Array.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
    ]);
    const p = fx.write('office.yaml', png, 0o644);
    for (const load of [
      () => loadPeerConfig(p, { env: fx.env, resolve: fakeResolver }),
      () => loadServerConfig(p, { env: fx.env }),
    ]) {
      const e = await configRejection(load());
      expect(e.exitCode).toBe(2);
      expect(e.issues).toHaveLength(1);
      expect(e.message).toBe(
        `${p}:3: not a text file (a NUL byte at offset 8); a configuration is a YAML text file; is this the right file?`,
      );
      expect(e.message).not.toContain('YAML syntax');
    }
  });

  it('invalid UTF-8 without NUL bytes (Latin-1 text) is "not a text file" at its line', async () => {
    const latin1 = Buffer.from('ssh:\n  host: gw.example.com\n  user: j\xf6rg\n', 'latin1');
    const p = fx.write('latin1.yaml', latin1, 0o644);
    const e = await configRejection(loadPeerConfig(p, { env: fx.env, resolve: fakeResolver }));
    expect(e.issues).toEqual([
      {
        path: '',
        line: 3,
        message:
          'not a text file (invalid UTF-8); a configuration is a YAML text file; is this the right file?',
      },
    ]);
  });

  it('decodeConfigBytes passes UTF-8 text through, multi-byte characters included', () => {
    expect(decodeConfigBytes(Buffer.from('name: büro\n'))).toEqual({ text: 'name: büro\n' });
  });

  it('control characters in parsed text are refused too (the YAML parser accepts NUL)', () => {
    const e = configErrorOf(() => parsePeerConfig(`${minimal}name: a\x00b\n`, 'p.yaml', ENV));
    expect(e.message).toBe(
      'p.yaml:3: not a text file (a NUL byte); a configuration is a YAML text file; is this the right file?',
    );
    const esc = configErrorOf(() => parsePeerConfig(`${minimal}name: \x1b[31m\n`, 'p.yaml', ENV));
    expect(esc.message).toContain('p.yaml:3: not a text file (the control character 0x1b)');
  });
});

describe('YAML syntax errors point into the file', () => {
  it('an unclosed [ on the last line is reported on that line, not one past the end', () => {
    const text = `${minimal}routes: [10.1.0.0/16\n`;
    const e = configErrorOf(() => parsePeerConfig(text, 'p.yaml', ENV));
    expect(e.issues).toEqual([
      {
        path: 'routes',
        line: 3,
        message:
          'YAML syntax error: the list opened with "[" here is never closed; add "]" after its last item',
      },
    ]);
  });

  it('an unclosed [ without a final newline is reported where it opened', () => {
    const e = configErrorOf(() => parsePeerConfig('routes: [10.1.0.0/16', 'p.yaml', ENV));
    expect(e.issues.map((i) => [i.line, i.path])).toEqual([[1, 'routes']]);
  });

  it('nested unclosed collections are each reported at their own opening', () => {
    const e = configErrorOf(() =>
      parsePeerConfig(`${minimal}tunnel: {interface: tsvpn0, x: [1, 2\n`, 'p.yaml', ENV),
    );
    expect(e.issues.map((i) => [i.line, i.path])).toEqual([
      [3, 'tunnel'],
      [3, 'tunnel.x'],
    ]);
  });

  it('another syntax error keeps the parser message, with a line inside the file', () => {
    const text = `${minimal}  - stray\n`;
    const e = configErrorOf(() => parsePeerConfig(text, 'p.yaml', ENV));
    expect(e.issues.length).toBeGreaterThan(0);
    for (const i of e.issues) {
      expect(i.message).toMatch(/^YAML syntax error: /);
      expect(i.line).toBeLessThanOrEqual(3);
    }
  });
});

describe('remote.kind pppd warnings', () => {
  const warningsOf = (remote: string) =>
    parsePeerConfig(`${minimal}remote:\n${remote}`, 'p.yaml', ENV).warnings;

  it('no pppd option warnings when the command is not pppd (socat to a unix socket)', () => {
    const w = warningsOf(
      '  command: socat - UNIX-CONNECT:/run/pppd-relay.sock\n  kind: pppd\n',
    ).join('\n');
    expect(w).not.toContain('notty');
    expect(w).not.toContain('noauth');
  });

  it('warns when the program is pppd after sudo/env prefixes and lacks notty/noauth', () => {
    const w = warningsOf('  command: sudo -n env LANG=C /usr/sbin/pppd debug\n').join('\n');
    expect(w).toContain('without "notty"');
    expect(w).toContain('without "noauth"');
  });

  it('explicit kind: pppd with a pppd command still warns', () => {
    const w = warningsOf('  command: /usr/sbin/pppd noauth\n  kind: pppd\n').join('\n');
    expect(w).toContain('without "notty"');
    expect(w).not.toContain('noauth');
  });

  it('a complete pppd command gives no warnings', () => {
    expect(warningsOf('  command: sudo pppd notty noauth\n')).toEqual([]);
  });
});

describe('dns.write-to', () => {
  const peerDns = 'ppp:\n  use-peer-dns: true\n';

  it('the system resolver file gets a warning saying it is replaced', () => {
    const cfg = parsePeerConfig(
      `${minimal}${peerDns}dns:\n  write-to: /etc/resolv.conf\n`,
      'p.yaml',
      ENV,
    );
    expect(cfg.warnings).toHaveLength(1);
    expect(cfg.warnings[0]).toMatch(
      /^dns\.write-to is \/etc\/resolv\.conf: ts-vpn up replaces the system resolver file/,
    );
    expect(describeConfig(cfg)).toContain('warning: dns.write-to is /etc/resolv.conf');
  });

  it('also when spelled another way', () => {
    const cfg = parsePeerConfig(
      `${minimal}${peerDns}dns:\n  write-to: /etc/../etc//resolv.conf\n`,
      'p.yaml',
      ENV,
    );
    expect(cfg.warnings.join('\n')).toContain('replaces the system resolver file');
  });

  it('the default file and other paths give no warning', () => {
    expect(parsePeerConfig(`${minimal}${peerDns}`, 'p.yaml', ENV).warnings).toEqual([]);
    expect(
      parsePeerConfig(`${minimal}${peerDns}dns:\n  write-to: /run/vpn-dns.conf\n`, 'p.yaml', ENV)
        .warnings,
    ).toEqual([]);
  });

  it('write-to without use-peer-dns says nothing will be written', () => {
    const cfg = parsePeerConfig(`${minimal}dns:\n  write-to: /etc/resolv.conf\n`, 'p.yaml', ENV);
    expect(cfg.warnings).toEqual([
      'dns.write-to is set but ppp.use-peer-dns is false: no DNS servers are asked for, nothing is written there',
    ]);
  });

  describe('loader', () => {
    let fx: Fixture;
    beforeAll(() => {
      fx = makeFixture();
    });
    afterAll(() => fx.cleanup());

    it('a link to the system resolver file is recognised', async () => {
      const system = fx.write('system-resolv.conf', 'nameserver 192.0.2.1\n', 0o644);
      symlinkSync(system, join(fx.dir, 'link.conf'));
      const p = fx.write(
        'linked.yaml',
        `ssh:\n  host: gw.example.com\n  identity-files: [${fx.dir}/key-0600]\n  host-key:\n    known-hosts: ${fx.dir}/known_hosts\n${peerDns}dns:\n  write-to: link.conf\n`,
      );
      const cfg = await loadPeerConfig(p, {
        env: fx.env,
        resolve: fakeResolver,
        systemResolvConf: system,
      });
      expect(cfg.warnings).toEqual([
        expect.stringContaining(
          `dns.write-to is ${join(fx.dir, 'link.conf')} (that is ${system}): ts-vpn up replaces the system resolver file`,
        ),
      ]);
    });

    it('the default DNS file follows --state-dir (stateRoot)', async () => {
      const p = fx.write(
        'office.yaml',
        `ssh:\n  host: gw.example.com\n  identity-files: [${fx.dir}/key-0600]\n  host-key:\n    known-hosts: ${fx.dir}/known_hosts\n${peerDns}`,
      );
      const moved = await loadPeerConfig(p, {
        env: fx.env,
        resolve: fakeResolver,
        stateRoot: '/tmp/tsvpn-state',
      });
      expect(moved.dns.writeTo).toBe('/tmp/tsvpn-state/office/resolv.conf');
      expect(describeConfig(moved)).toContain('→ /tmp/tsvpn-state/office/resolv.conf');
      const plain = await loadPeerConfig(p, { env: fx.env, resolve: fakeResolver });
      expect(plain.dns.writeTo).toBe('/run/ts-vpn/office/resolv.conf');
    });
  });

  it('parsePeerConfig takes the state root from the environment; an explicit write-to wins', () => {
    const env = { ...ENV, stateRoot: '/var/lib/tsvpn' };
    expect(parsePeerConfig(`name: lab\n${minimal}`, 'p.yaml', env).dns.writeTo).toBe(
      '/var/lib/tsvpn/lab/resolv.conf',
    );
    expect(
      parsePeerConfig(`${minimal}dns:\n  write-to: /run/x.conf\n`, 'p.yaml', env).dns.writeTo,
    ).toBe('/run/x.conf');
  });
});
