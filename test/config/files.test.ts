import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkSecretFilePermissions,
  loadPeerConfig,
  loadServerConfig,
} from '../../src/config/index.js';
import { configRejection, type Fixture, fakeResolver, makeFixture } from './fixtures.js';

let fx: Fixture;
beforeEach(() => {
  fx = makeFixture();
});
afterEach(() => fx.cleanup());

describe('checkSecretFilePermissions', () => {
  it('accepts a 0600 and 0400 file', async () => {
    expect(await checkSecretFilePermissions(join(fx.dir, 'key-0600'), 'f')).toBeNull();
    const p = fx.write('k400', 'x', 0o400);
    expect(await checkSecretFilePermissions(p, 'f')).toBeNull();
  });

  it('names the field, the mode and the fix', async () => {
    const p = join(fx.dir, 'key-0644');
    expect(await checkSecretFilePermissions(p, 'ssh.identity-files[0]')).toEqual({
      path: 'ssh.identity-files[0]',
      message: `${p} is readable by others (mode 0644); run chmod 600 ${p}`,
    });
    const w = fx.write('k620', 'x', 0o620);
    expect((await checkSecretFilePermissions(w, 'f'))?.message).toContain(
      'is writable by others (mode 0620)',
    );
  });

  it('reports missing files and directories', async () => {
    expect((await checkSecretFilePermissions(join(fx.dir, 'nope'), 'f'))?.message).toContain(
      'does not exist',
    );
    expect((await checkSecretFilePermissions(fx.dir, 'f'))?.message).toContain(
      'is not a regular file',
    );
  });
});

describe('loadPeerConfig', () => {
  it('loads a config, keeping only default keys that exist, and reads secret files', async () => {
    fx.write('id_ed25519', 'k', 0o600); // next to the config, not in ~/.ssh: not a default key
    mkdirSync(join(fx.dir, '.ssh'));
    fx.write('.ssh/id_ecdsa', 'k', 0o600);
    fx.write('.ssh/known_hosts', '', 0o644);
    const p = fx.write(
      'office.yaml',
      'ssh:\n  host: vpn.example.com\n  passphrase-file: secret-0600\nppp:\n  auth:\n    user: alice\n    password-file: secret-0600\nroutes: [10.1.0.0/16]\ndefault-route: true\n',
      0o644,
    );
    const cfg = await loadPeerConfig(p, { env: fx.env, resolve: fakeResolver });
    expect(cfg.name).toBe('office');
    expect(cfg.ssh.identityFiles).toEqual([join(fx.dir, '.ssh/id_ecdsa')]);
    expect(cfg.ssh.passphrase?.reveal()).toBe('hunter2');
    expect(cfg.ppp.auth?.password?.reveal()).toBe('hunter2');
    expect(JSON.stringify(cfg)).not.toContain('hunter2');
  });

  it('flags a too-open default key', async () => {
    mkdirSync(join(fx.dir, '.ssh'));
    fx.write('.ssh/id_rsa', 'k', 0o644);
    const p = fx.write(
      'p.yaml',
      'ssh:\n  host: 192.0.2.1\n  host-key:\n    accept-new: true\n',
      0o600,
    );
    const e = await configRejection(loadPeerConfig(p, { env: fx.env }));
    expect(e.message).toContain('id_rsa is readable by others (mode 0644)');
    expect(e.message).toContain('(a default key)');
  });

  it('does not need known_hosts when a fingerprint is pinned or accept-new is on', async () => {
    const base =
      'ssh:\n  host: 192.0.2.1\n  identity-files: []\n  host-key:\n    known-hosts: /nonexistent/kh\n';
    const p1 = fx.write('a.yaml', `${base}    accept-new: true\n`, 0o600);
    await expect(loadPeerConfig(p1, { env: fx.env })).resolves.toBeTruthy();
    const p2 = fx.write(
      'b.yaml',
      `${base}    fingerprint: SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\n`,
      0o600,
    );
    await expect(loadPeerConfig(p2, { env: fx.env })).resolves.toBeTruthy();
    const p3 = fx.write('c.yaml', base, 0o600);
    const e = await configRejection(loadPeerConfig(p3, { env: fx.env }));
    expect(e.issues[0]).toMatchObject({ path: 'ssh.host-key.known-hosts', line: 5 });
  });

  it('accepts an inline password only in a private config file', async () => {
    const text =
      'ssh:\n  host: 192.0.2.1\n  identity-files: []\n  host-key: { accept-new: true }\nppp:\n  auth: { user: a, password: pw }\n';
    const ok = fx.write('ok.yaml', text, 0o600);
    await expect(loadPeerConfig(ok, { env: fx.env })).resolves.toBeTruthy();
    const bad = fx.write('bad.yaml', text, 0o644);
    chmodSync(bad, 0o644);
    const e = await configRejection(loadPeerConfig(bad, { env: fx.env }));
    expect(e.issues[0]).toMatchObject({ path: 'ppp.auth.password', line: 6 });
  });

  it('only warns when the host does not resolve and default-route is off', async () => {
    const p = fx.write(
      'w.yaml',
      'ssh:\n  host: nowhere.example\n  identity-files: []\n  host-key: { accept-new: true }\nroutes: [10.1.0.0/16]\n',
      0o600,
    );
    const cfg = await loadPeerConfig(p, { env: fx.env, resolve: fakeResolver });
    expect(cfg.warnings[0]).toContain('did not resolve (ENOTFOUND)');
  });

  it('reports a missing config file as a config error', async () => {
    const e = await configRejection(loadPeerConfig(join(fx.dir, 'missing.yaml'), { env: fx.env }));
    expect(e.message).toContain('cannot read the configuration: no such file');
    expect(e.exitCode).toBe(2);
  });
});

describe('loadServerConfig', () => {
  it('returns the defaults without a path', async () => {
    const cfg = await loadServerConfig(undefined, { env: fx.env });
    expect(cfg.pool).toBe('10.77.0.0/24');
  });

  it('reads user password files', async () => {
    const p = fx.write(
      'server.yaml',
      'auth:\n  require: pap\n  users:\n    - user: alice\n      password-file: secret-0600\n',
      0o644,
    );
    const cfg = await loadServerConfig(p, { env: fx.env });
    expect(cfg.auth.users[0].password?.reveal()).toBe('hunter2');
  });

  it('refuses inline passwords in a world-readable file', async () => {
    const p = fx.write(
      'server.yaml',
      'auth:\n  require: pap\n  users:\n    - user: alice\n      password: pw\n',
      0o644,
    );
    const e = await configRejection(loadServerConfig(p, { env: fx.env }));
    expect(e.message).toContain('hold inline passwords, but');
  });
});
