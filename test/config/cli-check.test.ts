/**
 * The configuration messages as a user meets them: `ts-vpn check` of the INSTALLED
 * package (test/support/installed.ts) on files with the mistakes of issue 12 §3 and
 * issue 15 item 2. Exit 2 and `file:line field: message` on stderr, or exit 0 with
 * the warning in the description.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstalled } from '../support/installed.js';

let tmp: string;

function write(name: string, text: string | Uint8Array, mode = 0o600): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function peer(extra: string): string {
  return `ssh:\n  host: 192.0.2.10\n  identity-files: [${join(tmp, 'key')}]\n  agent: false\n  host-key:\n    known-hosts: ${join(tmp, 'known_hosts')}\nroutes: [10.1.0.0/16]\n${extra}`;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tv-cfg-cli-'));
  write('key', 'not parsed by check\n');
  write('known_hosts', '', 0o644);
  write('up.sh', '#!/bin/sh\n', 0o755);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ts-vpn check: configuration messages', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'a 0666 peer file with hooks.up is refused with exit 2 and the chmod (it used to pass)',
    () => {
      const p = write('office.yaml', peer(`hooks:\n  up: ${join(tmp, 'up.sh')}\n`), 0o666);
      const r = runInstalled(['check', p]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toContain(
        `${p}:8 hooks: ${p} names hooks that run as root, but it is writable by group and others (mode 0666); run chmod go-w ${p}`,
      );
      chmodSync(p, 0o644);
      expect(runInstalled(['check', p]).code).toBe(0);
    },
  );

  it('dns.write-to: /etc/resolv.conf is accepted with a warning in the description', () => {
    const p = write(
      'dns.yaml',
      peer('ppp:\n  use-peer-dns: true\ndns:\n  write-to: /etc/resolv.conf\n'),
    );
    const r = runInstalled(['check', p]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'warning: dns.write-to is /etc/resolv.conf: ts-vpn up replaces the system resolver file',
    );
  });

  it('a binary file is "not a text file", not YAML syntax errors', () => {
    const p = write('office.bin', Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x0a, 0xff]));
    const r = runInstalled(['check', p, '--peer']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${p}:1: not a text file (a NUL byte at offset 3)`);
    expect(r.stderr).not.toContain('YAML syntax error');
  });

  it('an unclosed [ is reported at the line and field where it was opened', () => {
    const p = write(
      'bracket.yaml',
      `${peer('').replace('routes: [10.1.0.0/16]\n', '')}routes: [10.1.0.0/16,\n  10.2.0.0/16\n`,
    );
    const r = runInstalled(['check', p, '--peer']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `ts-vpn: ${p}:7 routes: YAML syntax error: the list opened with "[" here is never closed; add "]" after its last item`,
    );
  });
});
