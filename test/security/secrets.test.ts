/**
 * Secrets never appear in debug logs, config summaries or config errors:
 * PAP passwords print as <hidden>, CHAP secrets are never printed, describe()
 * and JSON/inspect of a config hide passwords, and a ConfigError about a
 * password field never repeats the value.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildEngine, SECRET } from '../../bench/fuzz/engines.js';
import {
  type ConfigEnv,
  describeConfig,
  parsePeerConfig,
  parseServerConfig,
} from '../../src/config/index.js';
import { configErrorOf } from '../config/fixtures.js';

const ENV: ConfigEnv = {
  user: 'alice',
  home: '/home/alice',
  sshAuthSock: undefined,
  hostname: 'gw',
  baseDir: '/etc/ts-vpn',
};
const PW = 'Hunter2-Very-Secret';
const peer = (auth: string) =>
  `ssh:\n  host: 198.18.0.2\n  host-key:\n    accept-new: true\nppp:\n  accept-local: [10.77.0.0/24]\n  auth:\n    user: alice\n${auth}\n`;

describe('secrets in engine debug logs', () => {
  for (const require of ['pap', 'chap'] as const) {
    for (const role of ['client', 'server'] as const) {
      it(`${require} ${role}: the secret never appears; PAP passwords print as <hidden>`, () => {
        const log: string[] = [];
        const b = buildEngine(role, 'up', 11, (l) => log.push(l), undefined, require);
        expect(b).not.toBeNull();
        const text = log.join('\n');
        expect(text).toContain(require === 'pap' ? '[PAP AuthReq' : '[CHAP Response');
        expect(text).not.toContain(SECRET);
        if (require === 'pap')
          expect(text).toMatch(/\[PAP AuthReq id=0x[0-9a-f]+ user="alice" password=<hidden>\]/);
      });
    }
  }
});

describe('secrets in configs', () => {
  it('describe(), JSON and inspect of a peer config hide an inline password', () => {
    const cfg = parsePeerConfig(peer(`    password: ${PW}`), 'peer.yaml', ENV);
    expect(cfg.ppp.auth?.password?.reveal()).toBe(PW);
    expect(describeConfig(cfg)).not.toContain(PW);
    expect(describeConfig(cfg)).toContain('(hidden)');
    expect(JSON.stringify(cfg)).not.toContain(PW);
    expect(inspect(cfg, { depth: 20 })).not.toContain(PW);
    expect(String(cfg.ppp.auth?.password)).toBe('<hidden>');
  });

  it('describe(), JSON and inspect of a server config hide user passwords', () => {
    const cfg = parseServerConfig(
      `auth:\n  require: chap\n  users:\n    - user: bob\n      password: ${PW}\n`,
      'server.yaml',
      ENV,
    );
    for (const s of [describeConfig(cfg), JSON.stringify(cfg), inspect(cfg, { depth: 20 })])
      expect(s).not.toContain(PW);
  });

  const cases: [string, string][] = [
    ['an unquoted numeric password', '    password: 918273645'],
    ['an over-long password', `    password: ${PW.repeat(20)}`],
    ['a password that YAML reads as an alias', `    password: *${PW}`],
    ['a password in a list', `    password: [${PW}]`],
    ['a boolean-looking password', '    password: true'],
  ];
  for (const [what, line] of cases) {
    it(`a ConfigError for ${what} does not repeat the value`, () => {
      const e = configErrorOf(() => parsePeerConfig(peer(line), 'peer.yaml', ENV));
      expect(e.exitCode).toBe(2);
      expect(e.message).not.toContain(PW);
      expect(e.message).not.toContain('918273645');
      expect(e.message).not.toMatch(/got true/);
    });
  }

  it('server user passwords get the same treatment', () => {
    const e = configErrorOf(() =>
      parseServerConfig(
        'auth:\n  require: pap\n  users:\n    - user: bob\n      password: 918273645\n',
        'server.yaml',
        ENV,
      ),
    );
    expect(e.message).toContain('auth.users[0].password: expected a password, got a number');
    expect(e.message).not.toContain('918273645');
  });
});
