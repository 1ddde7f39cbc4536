import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadGatewayConfig, parseGatewayConfig, policyFor } from '../../src/config/gateway.js';
import { ENV, makeFixture } from './fixtures.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');

function errorsOf(text: string): string[] {
  try {
    parseGatewayConfig(text, 'gw.yaml', ENV);
  } catch (e) {
    if (e instanceof ConfigError)
      return e.issues.map((i) => `${i.line ?? '-'} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('gateway.yaml', () => {
  it('works with no file at all (every default)', () => {
    const cfg = parseGatewayConfig('', '(defaults)', ENV);
    expect(cfg.socket).toEqual({ path: '/run/ts-vpn/gateway.sock', group: null, mode: 0o660 });
    expect(cfg.pools).toEqual([
      { name: 'default', text: '10.77.0.0/24', first: '10.77.0.1', last: '10.77.0.254' },
    ]);
    expect(cfg.localAddress).toBe('10.77.0.1');
    expect(cfg.unknownUsers).toBe('defaults');
    expect(cfg.defaults).toEqual({
      allow: true,
      address: null,
      pool: 'default',
      routes: [],
      allowClientRoutes: [],
      dns: [],
      maxSessions: 4,
      pppAuth: 'none',
    });
    expect(cfg.forwarding).toBe('check');
    expect(cfg.proxyArp).toBe(false);
    expect(cfg.interfaceName).toBe('tsvg%d');
    expect(cfg.runAs).toEqual({ user: null, group: null });
  });

  it('takes run-as: { user, group } (names or numbers), and names a mistake in it', () => {
    expect(parseGatewayConfig('run-as: { user: ts-vpn-gw }\n', 'gw.yaml', ENV).runAs).toEqual({
      user: 'ts-vpn-gw',
      group: null,
    });
    expect(
      parseGatewayConfig('run-as:\n  user: "998"\n  group: "998"\n', 'gw.yaml', ENV).runAs,
    ).toEqual({ user: '998', group: '998' });
    expect(errorsOf('run-as:\n  uesr: nobody\n')[0]).toMatch(/^2 run-as.uesr: unknown key/);
  });

  it('parses examples/gateway.yaml', () => {
    const cfg = parseGatewayConfig(
      readFileSync(join(EXAMPLES, 'gateway.yaml'), 'utf8'),
      'examples/gateway.yaml',
      ENV,
    );
    expect(cfg.socket.group).toBe('ts-vpn');
    expect(cfg.pools.map((p) => [p.name, p.first, p.last])).toEqual([
      ['lan', '192.168.1.200', '192.168.1.239'],
      ['lab', '10.77.0.1', '10.77.0.254'],
    ]);
    expect(cfg.users.get('alice')).toMatchObject({
      address: '192.168.1.210',
      maxSessions: 1,
      routes: ['192.168.1.0/24'],
      allowClientRoutes: ['10.20.0.0/16'],
    });
    expect(cfg.users.get('mallory')?.allow).toBe(false);
    expect(cfg.groups.get('lab-users')).toMatchObject({
      pool: 'lab',
      maxSessions: 4,
      dns: ['192.168.1.1'],
    });
    expect(cfg.proxyArp).toBe(true);
    expect(cfg.lanInterface).toBe('eth0');
  });

  it('looks a user up by name, then by first listed group, then the defaults or refusal', () => {
    const text = `
users: { alice: { address: 10.77.0.9 } }
groups: { staff: { max-sessions: 1 }, lab: { max-sessions: 3 } }
`;
    const cfg = parseGatewayConfig(text, 'gw.yaml', ENV);
    expect(policyFor(cfg, 'alice', ['staff'])?.via).toBe('users.alice');
    expect(policyFor(cfg, 'bob', ['lab', 'staff'])?.via).toBe('groups.staff');
    expect(policyFor(cfg, 'carol', [])?.via).toBe('defaults');
    const strict = parseGatewayConfig(`unknown-users: refuse\n${text}`, 'gw.yaml', ENV);
    expect(policyFor(strict, 'carol', [])).toBeNull();
    expect(policyFor(strict, 'bob', ['lab'])?.policy.maxSessions).toBe(3);
  });

  it('names file line and field for each mistake', () => {
    expect(errorsOf('socket:\n  mode: 0660\n')).toEqual([
      '2 socket.mode: expected a file mode like "0660", got 660',
    ]);
    expect(errorsOf('pools:\n  a: 10.0.0.0/24\n  b: 10.0.0.128/25\n')).toEqual([
      '3 pools.b: overlaps pool a (10.0.0.0/24)',
    ]);
    expect(errorsOf('users:\n  bob:\n    pool: nope\n')).toEqual([
      '3 users.bob.pool: no pool named "nope"; pools are default',
    ]);
    expect(errorsOf('users:\n  a: { address: 10.77.0.5 }\n  b: { address: 10.77.0.5 }\n')).toEqual([
      '3 users.b.address: 10.77.0.5 is already given to users.a',
    ]);
    expect(errorsOf('proxy-arp: true\n')).toEqual([
      '1 proxy-arp: needs lan-interface: the interface on which to answer ARP for client addresses (e.g. eth0)',
    ]);
    expect(errorsOf('forwarding: on\n')[0]).toMatch(/^1 forwarding: expected one of enable, check/);
    expect(errorsOf('users:\n  bob:\n    pol: x\n')[0]).toMatch(/^3 users.bob.pol: unknown key/);
    expect(errorsOf('interface-name: tsv\n')[0]).toMatch(/must contain %d/);
    expect(errorsOf('defaults: { ppp-auth: pap }\n')[0]).toMatch(
      /auth.users: ppp-auth is asked for/,
    );
    expect(errorsOf('pool: 10.0.0.0/31\n')[0]).toMatch(/too small/);
  });

  it('reads PPP password files when loading', async () => {
    const fx = makeFixture();
    try {
      const p = fx.write(
        'gw.yaml',
        `defaults: { ppp-auth: chap }\nauth:\n  users:\n    - { user: alice, password-file: ${join(fx.dir, 'secret-0600')} }\n`,
      );
      const cfg = await loadGatewayConfig(p, fx.env);
      expect(cfg.auth.users[0]?.password?.reveal()).toBe('hunter2');
      await expect(loadGatewayConfig(join(fx.dir, 'missing.yaml'), fx.env)).rejects.toThrow(
        /does not exist/,
      );
    } finally {
      fx.cleanup();
    }
  });
});

describe('peer.yaml remote for a gateway', () => {
  const base = 'ssh: { host: gw.example.net, user: alice }\n';
  it('takes remote.gateway, or kind: gateway with the default socket path', async () => {
    const { parsePeerConfig } = await import('../../src/config/peer.js');
    const a = parsePeerConfig(`${base}remote: { gateway: /srv/gw.sock }\n`, 'p.yaml', ENV);
    expect(a.remote).toMatchObject({ kind: 'gateway', gateway: '/srv/gw.sock' });
    const b = parsePeerConfig(`${base}remote: { kind: gateway }\n`, 'p.yaml', ENV);
    expect(b.remote.gateway).toBe('/run/ts-vpn/gateway.sock');
    const c = parsePeerConfig(base, 'p.yaml', ENV);
    expect(c.remote).toMatchObject({ kind: 'ts-vpn', gateway: null });
  });
  it('refuses a command or another kind next to a gateway', async () => {
    const { parsePeerConfig } = await import('../../src/config/peer.js');
    expect(() =>
      parsePeerConfig(
        `${base}remote: { gateway: /x.sock, command: ts-vpn serve }\n`,
        'p.yaml',
        ENV,
      ),
    ).toThrow(/remote.command: is not used with a gateway/);
    expect(() =>
      parsePeerConfig(`${base}remote: { gateway: /x.sock, kind: pppd }\n`, 'p.yaml', ENV),
    ).toThrow(/remote.kind: is pppd, but remote.gateway is set/);
  });
  it('takes remote.client-routes with a gateway only, as strict IPv4 prefixes', async () => {
    const { parsePeerConfig } = await import('../../src/config/peer.js');
    const a = parsePeerConfig(
      `${base}remote: { gateway: /x.sock, client-routes: [192.168.100.0/24, 10.9.0.0/16] }\n`,
      'p.yaml',
      ENV,
    );
    expect(a.remote.clientRoutes).toEqual(['192.168.100.0/24', '10.9.0.0/16']);
    expect(() =>
      parsePeerConfig(
        `${base}remote: { command: ts-vpn serve, client-routes: [10.9.0.0/16] }\n`,
        'p.yaml',
        ENV,
      ),
    ).toThrow(/remote.client-routes: is only for a gateway; for ts-vpn serve put --client-route/);
    expect(() =>
      parsePeerConfig(
        `${base}remote: { gateway: /x.sock, client-routes: [10.9.0.1/16] }\n`,
        'p.yaml',
        ENV,
      ),
    ).toThrow(/remote.client-routes/);
  });
});
