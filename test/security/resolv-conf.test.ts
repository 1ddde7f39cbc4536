/**
 * A symlinked resolv.conf is never destroyed (issue 15 item 3). All paths are temp
 * files: `dns.write-to` is configurable, and the "systemd-resolved stub" is a symlink
 * whose target text merely points into /run/systemd/resolve/ (never followed, never
 * touched). The end-to-end kill -9 case is test/faults/resolv-symlink.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandRunner, PeerDns, recoverResolvConf } from '../../src/runtime/dns.js';
import { BACKUP_FILE } from '../../src/runtime/resolv-backup.js';

const STUB = '../run/systemd/resolve/stub-resolv.conf';
let dir = '';
let state = '';
let lines: string[] = [];
const log = {
  info: (m: string) => lines.push(`info: ${m}`),
  warn: (m: string) => lines.push(`warn: ${m}`),
  debug: () => {},
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-resolv-'));
  state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resolvectl(available: boolean) {
  const calls: string[] = [];
  const run: CommandRunner = async (_f, args) => {
    calls.push(args.join(' '));
    return { code: 0, stdout: '', stderr: '' };
  };
  const detect = () => ({
    available,
    path: available ? '/usr/bin/resolvectl' : null,
    reason: available ? 'test' : 'systemd-resolved is not running (test)',
  });
  return { calls, run, detect };
}

function dns(writeTo: string, available: boolean, backupDir: string | null = state) {
  const r = resolvectl(available);
  const d = new PeerDns({
    name: 't',
    ifname: 'tsvpn0',
    writeTo,
    backupDir,
    log,
    run: r.run,
    detect: r.detect,
  });
  return { d, calls: r.calls };
}

const isLink = (p: string) => lstatSync(p).isSymbolicLink();

describe('dns.write-to at a symlink', () => {
  it('a link to systemd-resolved’s stub, resolved running: per-link DNS via resolvectl, the link untouched, reverted on down', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync(STUB, path);
    const { d, calls } = dns(path, true);
    const r = await d.apply(['10.77.0.53']);
    expect(r.file).toBeNull();
    expect(r.resolved).toBe('applied');
    expect(calls).toEqual(['dns tsvpn0 10.77.0.53']);
    expect(readlinkSync(path)).toBe(STUB);
    expect(lines.join('\n')).toContain('(systemd-resolved): setting per-link DNS on tsvpn0');
    await d.restore();
    expect(calls).toEqual(['dns tsvpn0 10.77.0.53', 'revert tsvpn0']);
    expect(readlinkSync(path)).toBe(STUB);
  });

  it('any other link: replaced while up (said), the original kept in the state dir and put back on down', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync('/etc/some-other-resolv.conf', path);
    const { d } = dns(path, false);
    await d.apply(['10.77.0.53']);
    expect(isLink(path)).toBe(false);
    expect(readFileSync(path, 'utf8')).toContain('nameserver 10.77.0.53');
    expect(JSON.parse(readFileSync(join(state, BACKUP_FILE), 'utf8')).original).toEqual({
      kind: 'symlink',
      target: '/etc/some-other-resolv.conf',
    });
    expect(lines.join('\n')).toContain(
      `${path} was a symlink to /etc/some-other-resolv.conf; replaced while the tunnel is up`,
    );
    await d.apply(['10.77.0.54']); // a reconnect with other servers keeps the first original
    d.restoreSync();
    expect(readlinkSync(path)).toBe('/etc/some-other-resolv.conf');
    expect(() => statSync(join(state, BACKUP_FILE))).toThrow();
  });

  it('the stub link with resolved NOT running: kept as the original and put back, never deleted', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync(STUB, path);
    const { d } = dns(path, false);
    await d.apply(['10.77.0.53']);
    expect(isLink(path)).toBe(false);
    await d.restore();
    expect(readlinkSync(path)).toBe(STUB);
  });

  it('without a state directory (library use): a symlink is refused, never replaced', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync('/etc/x', path);
    const { d } = dns(path, false, null);
    const r = await d.apply(['10.77.0.53']);
    expect(r.file).toBeNull();
    expect(readlinkSync(path)).toBe('/etc/x');
    expect(lines.join('\n')).toContain(`${path} is a symlink to /etc/x; not replaced`);
    await d.restore();
    expect(readlinkSync(path)).toBe('/etc/x');
  });

  it('a regular file: its bytes and mode are put back on down', async () => {
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, 'nameserver 192.0.2.1\nsearch lan\n', { mode: 0o640 });
    const { d } = dns(path, false);
    await d.apply(['10.77.0.53']);
    expect(readFileSync(path, 'utf8')).toContain('nameserver 10.77.0.53');
    await d.restore();
    expect(readFileSync(path, 'utf8')).toBe('nameserver 192.0.2.1\nsearch lan\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('changed by someone else while up: left in place and said', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync('/etc/x', path);
    const { d } = dns(path, false);
    await d.apply(['10.77.0.53']);
    writeFileSync(path, 'nameserver 198.51.100.1\n');
    await d.restore();
    expect(readFileSync(path, 'utf8')).toBe('nameserver 198.51.100.1\n');
    expect(lines.join('\n')).toContain('was changed by someone else since we wrote it');
  });
});

describe('after a crash (kill -9: no exit handler ran)', () => {
  it('the next start puts the symlink back from the backup', async () => {
    const path = join(dir, 'resolv.conf');
    symlinkSync(STUB, path);
    const { d } = dns(path, false);
    await d.apply(['10.77.0.53']);
    // The process dies here: d.restore() never runs.
    expect(isLink(path)).toBe(false);
    recoverResolvConf(state, path, log);
    expect(readlinkSync(path)).toBe(STUB);
    expect(lines.join('\n')).toContain(
      `dns: put back ${path} (a symlink to ${STUB}) after the previous run`,
    );
    expect(() => statSync(join(state, BACKUP_FILE))).toThrow();
  });

  it('without a backup (the default path, nothing was there): our file is removed, a foreign one kept', async () => {
    const path = join(dir, 'resolv.conf');
    const { d } = dns(path, false, null);
    await d.apply(['10.77.0.53']);
    recoverResolvConf(state, path, log);
    expect(() => lstatSync(path)).toThrow();
    writeFileSync(path, 'nameserver 192.0.2.1\n');
    recoverResolvConf(state, path, log);
    expect(readFileSync(path, 'utf8')).toBe('nameserver 192.0.2.1\n');
  });
});
