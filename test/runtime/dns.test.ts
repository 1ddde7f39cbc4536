import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CommandRunner,
  cleanServers,
  detectResolvectl,
  formatResolvConf,
  PeerDns,
  writeFileAtomic,
} from '../../src/runtime/dns.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvpn-dns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function captureLog() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m: string) => lines.push(`info: ${m}`),
      warn: (m: string) => lines.push(`warn: ${m}`),
      debug: (m: string) => lines.push(`debug: ${m}`),
    },
  };
}

function fakeResolvectl(fail?: string) {
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    if (fail && args[0] === fail)
      return {
        code: 1,
        stdout: '',
        stderr: 'Failed to set DNS configuration: Link tsvpn0 not known.\n',
      };
    return { code: 0, stdout: '', stderr: '' };
  };
  const detect = () => ({ available: true, path: '/usr/bin/resolvectl', reason: 'fake' });
  return { calls, run, detect };
}

describe('formatResolvConf / cleanServers', () => {
  it('writes nameserver lines with a comment', () => {
    expect(formatResolvConf('office', ['10.77.0.53', 'fd00::53'])).toBe(
      '# written by ts-vpn for tunnel office; removed when the tunnel stops\nnameserver 10.77.0.53\nnameserver fd00::53\n',
    );
  });
  it('keeps IP literals only, deduplicated, at most 3', () => {
    expect(
      cleanServers([
        '1.1.1.1',
        '1.1.1.1',
        'evil\nsearch x',
        '0.0.0.0',
        '2.2.2.2',
        '3.3.3.3',
        '4.4.4.4',
      ]),
    ).toEqual({
      ok: ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
      rejected: ['evil\nsearch x', '0.0.0.0'],
    });
  });
});

describe('writeFileAtomic', () => {
  it('creates parent directories, mode 0644 despite a strict umask, no temp file left', () => {
    const p = join(dir, 'a', 'b', 'resolv.conf');
    const old = process.umask(0o077);
    try {
      writeFileAtomic(p, 'x\n');
    } finally {
      process.umask(old);
    }
    expect(readFileSync(p, 'utf8')).toBe('x\n');
    expect(statSync(p).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['resolv.conf']);
  });
  it('replaces an existing file in one step and fixes its mode', () => {
    const p = join(dir, 'replace.conf');
    writeFileSync(p, 'old\n', { mode: 0o600 });
    writeFileAtomic(p, 'new\n');
    expect(readFileSync(p, 'utf8')).toBe('new\n');
    expect(statSync(p).mode & 0o777).toBe(0o644);
  });
  it('throws and leaves no temp file when the directory is not writable', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    writeFileSync(join(ro, 'blocker'), '');
    // A path whose "directory" is a file cannot be written, even by root.
    expect(() => writeFileAtomic(join(ro, 'blocker', 'resolv.conf'), 'x')).toThrow();
    expect(readdirSync(ro)).toEqual(['blocker']);
  });
});

describe('detectResolvectl', () => {
  it('reports unavailable when resolvectl is not installed', () => {
    const d = detectResolvectl({ pathDirs: [join(dir, 'empty-bin')] });
    expect(d).toEqual({
      available: false,
      path: null,
      reason: 'resolvectl not found (systemd-resolved is not installed)',
    });
  });
  it('reports unavailable when resolved does not run', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'resolvectl'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'resolvectl'), 0o755);
    const run = join(dir, 'no-resolve-dir');
    expect(detectResolvectl({ pathDirs: [bin], resolvedRunDir: run })).toEqual({
      available: false,
      path: join(bin, 'resolvectl'),
      reason: `systemd-resolved is not running (no ${run})`,
    });
    mkdirSync(run);
    expect(detectResolvectl({ pathDirs: [bin], resolvedRunDir: run }).available).toBe(true);
  });
  it('on this machine (no resolvectl) the real detection says unavailable', () => {
    const d = detectResolvectl();
    if (existsSync('/usr/bin/resolvectl') || existsSync('/bin/resolvectl')) return; // machine has it
    expect(d.available).toBe(false);
    expect(d.reason).toMatch(/not found|not running/);
  });
});

describe('PeerDns', () => {
  it('writes the file, rewrites it on reconnect, removes it on restore', async () => {
    const p = join(dir, 'run', 'office', 'resolv.conf');
    const { lines, log } = captureLog();
    const dns = new PeerDns({ name: 'office', ifname: 'tsvpn0', writeTo: p, log });
    const r = await dns.apply(['10.77.0.53', '10.77.0.54']);
    expect(r).toEqual({
      servers: ['10.77.0.53', '10.77.0.54'],
      rejected: [],
      file: p,
      resolved: 'not-requested',
      resolvedReason: 'not requested in the config',
    });
    expect(readFileSync(p, 'utf8')).toBe(formatResolvConf('office', ['10.77.0.53', '10.77.0.54']));
    expect(statSync(p).mode & 0o777).toBe(0o644);
    expect(dns.writtenFile).toBe(p);
    expect(lines).toContain(`info: dns: wrote 10.77.0.53 10.77.0.54 to ${p}`);

    await dns.apply(['10.77.0.99']);
    expect(readFileSync(p, 'utf8')).toBe(formatResolvConf('office', ['10.77.0.99']));

    await dns.restore();
    expect(existsSync(p)).toBe(false);
    expect(dns.writtenFile).toBeNull();
    await dns.restore(); // idempotent
  });

  it('leaves the file alone when someone else changed it', async () => {
    const p = join(dir, 'changed.conf');
    const { lines, log } = captureLog();
    const dns = new PeerDns({ name: 't', ifname: 'tsvpn0', writeTo: p, log });
    await dns.apply(['10.0.0.1']);
    writeFileSync(p, 'nameserver 192.0.2.1\n');
    dns.restoreSync();
    expect(readFileSync(p, 'utf8')).toBe('nameserver 192.0.2.1\n');
    expect(lines).toContain(`warn: dns: ${p} was changed by someone else; left in place`);
  });

  it('never writes peer junk into the file', async () => {
    const p = join(dir, 'junk.conf');
    const { lines, log } = captureLog();
    const dns = new PeerDns({ name: 't', ifname: 'tsvpn0', writeTo: p, log });
    const r = await dns.apply(['10.0.0.1\nsearch evil.example', '10.0.0.2']);
    expect(r.servers).toEqual(['10.0.0.2']);
    expect(readFileSync(p, 'utf8')).not.toContain('evil');
    expect(lines.some((l) => l.startsWith('warn: dns: ignoring invalid server(s)'))).toBe(true);
    await dns.restore();
  });

  it('says so when resolved is asked for but resolvectl is unavailable (this machine)', async () => {
    const { lines, log } = captureLog();
    const calls: string[] = [];
    const dns = new PeerDns({
      name: 't',
      ifname: 'tsvpn0',
      writeTo: null,
      resolved: true,
      log,
      run: async (f, a) => {
        calls.push([f, ...a].join(' '));
        return { code: 0, stdout: '', stderr: '' };
      },
      detect: () => detectResolvectl({ pathDirs: [join(dir, 'empty-bin')] }),
    });
    const r = await dns.apply(['10.0.0.1']);
    expect(r.resolved).toBe('unavailable');
    expect(r.resolvedReason).toBe('resolvectl not found (systemd-resolved is not installed)');
    expect(r.file).toBeNull();
    expect(calls).toEqual([]);
    expect(lines).toContain(
      'warn: dns: systemd-resolved per-link DNS not set: resolvectl not found (systemd-resolved is not installed)',
    );
    await dns.restore();
    expect(calls).toEqual([]);
  });

  it('does not touch resolved unless asked', async () => {
    const f = fakeResolvectl();
    const dns = new PeerDns({
      name: 't',
      ifname: 'tsvpn0',
      writeTo: null,
      run: f.run,
      detect: f.detect,
    });
    expect((await dns.apply(['10.0.0.1'])).resolved).toBe('not-requested');
    await dns.restore();
    expect(f.calls).toEqual([]);
  });

  it('sets per-link DNS and routing domain with resolvectl, and reverts it', async () => {
    const f = fakeResolvectl();
    const dns = new PeerDns({
      name: 't',
      ifname: 'tsvpn0',
      writeTo: null,
      resolved: true,
      domains: ['~.'],
      run: f.run,
      detect: f.detect,
    });
    const r = await dns.apply(['10.0.0.1', '10.0.0.2']);
    expect(r.resolved).toBe('applied');
    expect(r.resolvedReason).toBe('resolvectl dns tsvpn0 10.0.0.1 10.0.0.2; domain ~.');
    await dns.restore();
    expect(f.calls).toEqual([
      '/usr/bin/resolvectl dns tsvpn0 10.0.0.1 10.0.0.2',
      '/usr/bin/resolvectl domain tsvpn0 ~.',
      '/usr/bin/resolvectl revert tsvpn0',
    ]);
  });

  it('reports a failing resolvectl and still reverts', async () => {
    const f = fakeResolvectl('dns');
    const { lines, log } = captureLog();
    const dns = new PeerDns({
      name: 't',
      ifname: 'tsvpn0',
      writeTo: null,
      resolved: true,
      run: f.run,
      detect: f.detect,
      log,
    });
    const r = await dns.apply(['10.0.0.1']);
    expect(r.resolved).toBe('failed');
    expect(r.resolvedReason).toBe(
      'resolvectl dns tsvpn0 10.0.0.1: Failed to set DNS configuration: Link tsvpn0 not known.',
    );
    expect(lines).toContain(`warn: dns: ${r.resolvedReason}`);
    await dns.restore();
    expect(f.calls.at(-1)).toBe('/usr/bin/resolvectl revert tsvpn0');
  });

  it('no servers from the peer: nothing written, a previous file removed', async () => {
    const p = join(dir, 'none.conf');
    const dns = new PeerDns({ name: 't', ifname: 'tsvpn0', writeTo: p });
    await dns.apply(['10.0.0.1']);
    expect(existsSync(p)).toBe(true);
    const r = await dns.apply([]);
    expect(r.servers).toEqual([]);
    expect(r.file).toBeNull();
    expect(existsSync(p)).toBe(false);
  });
});
