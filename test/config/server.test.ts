import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultServerConfig, describeConfig, parseServerConfig } from '../../src/config/index.js';
import { ENV } from './fixtures.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');

describe('server.yaml', () => {
  it('works with no file at all (every default)', () => {
    expect(defaultServerConfig(ENV)).toEqual({
      kind: 'server',
      source: '(defaults)',
      pool: '10.77.0.0/24',
      peerAddress: null,
      localAddress: '10.77.0.1',
      dns: [],
      allowClientRoutes: [],
      routes: [],
      maxSessions: 16,
      mru: 1500,
      echoIntervalMs: 10_000,
      echoFailures: 3,
      ipv6: true,
      offload: true,
      auth: { require: 'none', name: 'testhost', users: [] },
      debug: false,
      stateDir: '/run/ts-vpn',
      warnings: [],
    });
    expect(parseServerConfig('# nothing here\n', 's.yaml', ENV).pool).toBe('10.77.0.0/24');
  });

  it('parses examples/server.yaml', () => {
    const cfg = parseServerConfig(
      readFileSync(join(EXAMPLES, 'server.yaml'), 'utf8'),
      'examples/server.yaml',
      ENV,
    );
    expect(cfg).toMatchObject({
      pool: '10.77.0.0/24',
      localAddress: '10.77.0.1',
      dns: ['10.1.0.53'],
      allowClientRoutes: ['192.168.100.0/24'],
    });
  });

  it('supports a fixed single client', () => {
    const cfg = parseServerConfig(
      'peer-address: 10.9.0.2\nlocal-address: 10.9.0.1\n',
      's.yaml',
      ENV,
    );
    expect(cfg).toMatchObject({
      pool: null,
      peerAddress: '10.9.0.2',
      localAddress: '10.9.0.1',
      maxSessions: 1,
    });
  });

  it('takes the server address from the pool unless given', () => {
    expect(parseServerConfig('pool: 100.64.10.0/28\n', 's.yaml', ENV)).toMatchObject({
      localAddress: '100.64.10.1',
      maxSessions: 13,
    });
    expect(
      parseServerConfig(
        'pool: 100.64.10.0/28\nlocal-address: 100.64.9.1\nmax-sessions: 14\n',
        's.yaml',
        ENV,
      ).maxSessions,
    ).toBe(14);
  });

  it('reads users for PAP/CHAP, keeping passwords hidden', () => {
    const cfg = parseServerConfig(
      'auth:\n  require: chap\n  name: gw\n  users:\n    - user: alice\n      password: pw1\n    - user: bob\n      password-file: bob.secret\n',
      '/etc/ts-vpn/server.yaml',
      ENV,
    );
    expect(cfg.auth.require).toBe('chap');
    expect(cfg.auth.name).toBe('gw');
    expect(
      cfg.auth.users.map((u) => [u.user, u.password?.reveal() ?? null, u.passwordFile]),
    ).toEqual([
      ['alice', 'pw1', null],
      ['bob', null, '/etc/ts-vpn/bob.secret'],
    ]);
    expect(JSON.stringify(cfg)).not.toContain('pw1');
    expect(describeConfig(cfg)).toContain('users: alice, bob');
    expect(describeConfig(cfg)).not.toContain('pw1');
  });

  it('warns when users are listed but not required', () => {
    const cfg = parseServerConfig(
      'auth:\n  users:\n    - user: a\n      password-file: /x\n',
      's.yaml',
      ENV,
    );
    expect(cfg.warnings[0]).toContain('auth.require is none');
  });

  it('accepts one DNS server as a scalar', () => {
    expect(parseServerConfig('dns: 10.0.0.53\n', 's.yaml', ENV).dns).toEqual(['10.0.0.53']);
  });
});
