/** Temp dirs with secret files of given modes, and a fixed environment/resolver for config tests. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigEnv, ConfigError, type Resolver } from '../../src/config/index.js';

export interface Fixture {
  dir: string;
  env: ConfigEnv;
  write(name: string, text: string | Uint8Array, mode?: number): string;
  cleanup(): void;
}

export function makeFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'tsvpn-config-'));
  const write = (name: string, text: string | Uint8Array, mode = 0o600) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  write('key-0600', '-----BEGIN OPENSSH PRIVATE KEY-----\n', 0o600);
  write('key-0644', '-----BEGIN OPENSSH PRIVATE KEY-----\n', 0o644);
  write('secret-0600', 'hunter2\n', 0o600);
  write('secret-0640', 'hunter2\n', 0o640);
  write('known_hosts', '', 0o644);
  return {
    dir,
    env: { user: 'alice', home: dir, sshAuthSock: undefined, hostname: 'testhost', baseDir: dir },
    write,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const ENV: ConfigEnv = {
  user: 'alice',
  home: '/home/alice',
  sshAuthSock: undefined,
  hostname: 'testhost',
  baseDir: '/etc/ts-vpn',
};

/** gw.example.com → 198.18.0.2; vpn.example.com → 203.0.113.7; anything else fails like getaddrinfo. */
export const fakeResolver: Resolver = async (host) => {
  if (host === 'gw.example.com') return ['198.18.0.2'];
  if (host === 'vpn.example.com') return ['203.0.113.7', '2001:db8::7'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** The ConfigError `fn` throws; fails the test if it throws nothing or something else. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** The ConfigError `p` rejects with; fails the test if it resolves or rejects with something else. */
export async function configRejection(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
