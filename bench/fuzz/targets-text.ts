/**
 * Fuzz targets for the text formats a user (or an attacker who can write a
 * file) controls: known_hosts lines and peer.yaml / server.yaml. Only a
 * ConfigError may come out of the config parsers; known_hosts parsing never throws.
 */
import {
  type ConfigEnv,
  ConfigError,
  parsePeerConfig,
  parseServerConfig,
} from '../../src/config/index.js';
import {
  entryMatchesHost,
  matchHostPatterns,
  parseKnownHosts,
} from '../../src/transport/known-hosts.js';
import { loadCorpus } from './corpus.js';
import { mutate } from './mutate.js';
import type { Rng } from './rng.js';
import { type FuzzInput, type FuzzRunner, type FuzzTarget, InvariantError } from './types.js';

const latin1 = new TextDecoder('latin1');
const enc = new TextEncoder();

function mutateText(rng: Rng, s: string, other: string): string {
  return latin1.decode(mutate(rng, enc.encode(s), enc.encode(other), 16_384));
}

// ---- known_hosts ------------------------------------------------------------------------------

const HOSTS = [
  'gw.example.com',
  '198.18.0.2',
  '[198.18.0.2]:2222',
  '*',
  '?',
  '*.lan',
  '!evil.lan',
  '[*]:*',
  '',
  ',',
  '!',
  '[',
  ']:',
  'h'.repeat(300),
  '*a*a*a*a*a*a*b',
  '|1|',
  '|1|AAAA|BBBB',
  '|2|x|y',
  'ÄÖ',
  'a\tb',
];
const TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'x', ''];
const LOOKUPS = [
  'gw.example.com',
  '198.18.0.2',
  '[198.18.0.2]:2222',
  'evil.lan',
  'a.lan',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac',
  '',
];

class KnownHostsRunner implements FuzzRunner {
  next(rng: Rng): FuzzInput {
    const c = loadCorpus();
    const r = rng.int(10);
    if (r < 4) return mutateText(rng, c.knownHosts, c.knownHosts);
    if (r < 8) {
      const lines: string[] = [];
      for (let k = rng.range(1, 6); k > 0; k--) {
        const f: string[] = [];
        if (rng.chance(0.2)) f.push(rng.pick(['@revoked', '@cert-authority', '@bogus', '@']));
        const hs: string[] = [];
        for (let j = rng.range(1, 3); j > 0; j--) hs.push(rng.pick(HOSTS));
        f.push(hs.join(','));
        f.push(rng.pick(TYPES));
        const key = rng.pick(c.hostKeys);
        f.push(
          rng.chance(0.6)
            ? key.toString('base64')
            : rng.chance(0.5)
              ? Buffer.from(rng.bytes(rng.len(80))).toString('base64')
              : latin1.decode(rng.bytes(rng.len(40))),
        );
        if (rng.chance(0.3)) f.push('comment with spaces');
        lines.push(f.join(rng.pick([' ', '\t', '  ', ' \t '])));
      }
      return lines.join(rng.pick(['\n', '\r\n', '\n\n']));
    }
    return latin1.decode(rng.bytes(rng.len(400)));
  }

  run(input: FuzzInput): void {
    const text = input as string;
    const entries = parseKnownHosts(text, 'fuzz');
    for (const e of entries) {
      for (const name of LOOKUPS) entryMatchesHost(e, name);
      if (e.key.length === 0) throw new InvariantError('known_hosts entry with an empty key');
    }
    matchHostPatterns(LOOKUPS[5], text.slice(0, 200));
  }
}

// ---- peer.yaml / server.yaml --------------------------------------------------------------------

const ENV: ConfigEnv = {
  user: 'alice',
  home: '/home/alice',
  sshAuthSock: undefined,
  hostname: 'gw',
  baseDir: '/etc/ts-vpn',
};

const VALUES = [
  '0',
  '-1',
  '1e309',
  '0x10',
  '65536',
  '3.5',
  'true',
  'no',
  'null',
  '~',
  "''",
  '""',
  '[]',
  '{}',
  '[a, b]',
  '{a: 1}',
  '10.77.0.0/24',
  '0.0.0.0/0',
  '::/0',
  '10.77.0.1',
  '256.1.1.1',
  'ask',
  'fe80::1/64',
  '*',
  '!!binary aGVsbG8=',
  '!!js/function "f"',
  '&a [1]',
  '*a',
  '*nope',
  "'s3cret-inline'",
  '"\\u0000"',
  'x'.repeat(5000),
  '|\n  multi\n  line',
  'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  '/etc/shadow',
  '../../../etc/passwd',
  '~root/.ssh/id_rsa',
  '"$(reboot)"',
  '`id`',
];
const KEYS = [
  'name',
  'ssh',
  'host',
  'port',
  'user',
  'identity-files',
  'agent',
  'host-key',
  'fingerprint',
  'accept-new',
  'known-hosts',
  'remote',
  'command',
  'kind',
  'ppp',
  'local-address',
  'peer-address',
  'accept-local',
  'accept-peer',
  'mru',
  'accm',
  'auth',
  'password',
  'password-file',
  'routes',
  'default-route',
  'reconnect',
  'hooks',
  'up',
  'pool',
  'dns',
  'allow-client-routes',
  'max-sessions',
  'require',
  'users',
  'state-dir',
  '<<',
  '? complex',
  '__proto__',
  'constructor',
];

/** Billion-laughs shaped alias bombs (the yaml package bounds alias expansion). */
function aliasBomb(rng: Rng): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  let prev = 'a';
  for (let i = 0; i < rng.range(2, 9); i++) {
    const n = String.fromCharCode(98 + i);
    lines.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = n;
  }
  lines.push(`routes: *${prev}`);
  return lines.join('\n');
}

class ConfigRunner implements FuzzRunner {
  constructor(private readonly kind: 'peer' | 'server') {}

  private texts(): string[] {
    const c = loadCorpus();
    return this.kind === 'peer' ? c.peerYaml : c.serverYaml;
  }

  next(rng: Rng): FuzzInput {
    const texts = this.texts();
    const base = rng.pick(texts);
    const r = rng.int(20);
    if (r === 0) return aliasBomb(rng);
    if (r === 1) return latin1.decode(rng.bytes(rng.len(300)));
    if (r < 8) return mutateText(rng, base, rng.pick(texts));
    // Line-level edits: replace a value, a key, delete / duplicate / re-indent a line, insert a key.
    const lines = base.split('\n');
    if (lines.length === 0) lines.push('');
    for (let k = rng.range(1, 4); k > 0; k--) {
      const i = rng.int(lines.length);
      const line = lines[i] ?? '';
      switch (rng.int(6)) {
        case 0:
          lines[i] = line.replace(/:\s.*$/, `: ${rng.pick(VALUES)}`);
          break;
        case 1:
          lines[i] = line.replace(/^(\s*)[\w-]+:/, `$1${rng.pick(KEYS)}:`);
          break;
        case 2:
          lines.splice(i, 1);
          break;
        case 3:
          lines.splice(i, 0, line);
          break;
        case 4:
          lines[i] = ' '.repeat(rng.int(6)) + line.trimStart();
          break;
        default:
          lines.splice(
            i,
            0,
            `${' '.repeat(rng.pick([0, 2, 4]))}${rng.pick(KEYS)}: ${rng.pick(VALUES)}`,
          );
      }
    }
    return lines.join('\n');
  }

  run(input: FuzzInput): void {
    const text = input as string;
    try {
      if (this.kind === 'peer') parsePeerConfig(text, 'fuzz.yaml', ENV);
      else parseServerConfig(text, 'fuzz.yaml', ENV);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (e.exitCode !== 2) throw new InvariantError('ConfigError without exit code 2');
    }
  }
}

export const TEXT_TARGETS: FuzzTarget[] = [
  {
    name: 'known-hosts',
    what: 'parseKnownHosts + host matching',
    create: () => new KnownHostsRunner(),
  },
  {
    name: 'config-peer',
    what: 'parsePeerConfig (YAML-ish text)',
    create: () => new ConfigRunner('peer'),
  },
  {
    name: 'config-server',
    what: 'parseServerConfig (YAML-ish text)',
    create: () => new ConfigRunner('server'),
  },
];
