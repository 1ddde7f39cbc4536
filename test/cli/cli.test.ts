/** `ts-vpn` command line: help, usage errors, check, status/down without tunnels (nothing touches the system). */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'src', 'cli', 'main.ts');

let tmp: string;

function run(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tv-cli-test-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('ts-vpn help', () => {
  it('--help lists every command, examples and the exit codes', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of [
      'up <peer.yaml>',
      'serve [server.yaml]',
      'check <file.yaml>',
      'status [name]',
      'down [name]',
      'version',
    ]) {
      expect(r.stdout).toContain(`ts-vpn ${cmd}`);
    }
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*4 {2}SSH host key unknown, changed or revoked/);
  });

  it.each(['up', 'serve', 'check', 'status', 'down'])(
    '%s --help shows usage, examples and exit codes',
    (cmd) => {
      const r = run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ts-vpn ${cmd}`));
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes:');
      expect(r.stdout).toContain('--state-dir');
      expect(run(['help', cmd]).stdout).toBe(r.stdout);
    },
  );

  it('without a command prints the usage and exits 2', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage:');
  });

  it('an unknown command or option is one clear line and exit 2', () => {
    const a = run(['frobnicate']);
    expect(a.code).toBe(2);
    expect(a.stderr.trim()).toBe(
      'ts-vpn: unknown command "frobnicate"; commands: up, serve, check, status, down, version, help',
    );
    const b = run(['up', '--frob']);
    expect(b.code).toBe(2);
    expect(b.stderr.trim()).toBe('ts-vpn: unknown option --frob (see "ts-vpn help")');
    const c = run(['status', '--log-format', 'xml']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--log-format: expected text or json');
  });

  it('version prints the package version', () => {
    const r = run(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^ts-vpn \d+\.\d+\.\d+/);
  });
});

describe('ts-vpn check', () => {
  it('accepts examples/server.yaml and describes it', () => {
    const r = run(['check', 'examples/server.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('addresses: server 10.77.0.1, clients from pool 10.77.0.0/24');
    expect(r.stdout).toContain(
      'ok: examples/server.yaml is a valid server (ts-vpn serve) configuration',
    );
  });

  it('accepts a complete peer.yaml and describes it without secrets', () => {
    const key = join(tmp, 'id_ed25519');
    writeFileSync(key, 'not parsed by check\n', { mode: 0o600 });
    chmodSync(key, 0o600);
    const kh = join(tmp, 'known_hosts');
    writeFileSync(kh, '');
    const pw = join(tmp, 'ppp.secret');
    writeFileSync(pw, 'hunter2\n', { mode: 0o600 });
    const peer = join(tmp, 'office.yaml');
    writeFileSync(
      peer,
      `ssh:\n  host: 192.0.2.10\n  user: alice\n  identity-files: [${key}]\n  host-key:\n    known-hosts: ${kh}\nremote:\n  command: sudo ts-vpn serve\nppp:\n  auth:\n    user: alice\n    password-file: ${pw}\nroutes: [10.1.0.0/16]\n`,
    );
    const r = run(['check', peer]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tunnel "office"');
    expect(r.stdout).toContain('ssh: alice@192.0.2.10:22');
    expect(r.stdout).toContain('routes: 10.1.0.0/16');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).toContain('is a valid peer (ts-vpn up) configuration');
  });

  it('reports a bad config as file:line field: message, exit 2', () => {
    const r = run(['check', 'test/config/bad/port-zero.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'ts-vpn: test/config/bad/port-zero.yaml:4 ssh.port: expected an integer 1-65535, got 0',
    );
    expect(r.stdout).toBe('');
  });

  it('reports a missing file with exit 2', () => {
    const r = run(['check', join(tmp, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\.yaml: cannot read the configuration: no such file/);
  });

  it('up with a bad config exits 2 before touching anything', () => {
    const r = run(['up', 'test/config/bad/port-zero.yaml', '--state-dir', join(tmp, 'state')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ssh.port: expected an integer 1-65535, got 0');
  });
});

describe('ts-vpn status / down without tunnels', () => {
  it('status says no tunnel is running, exit 9', () => {
    const r = run(['status', '--state-dir', join(tmp, 'empty')]);
    expect(r.code).toBe(9);
    expect(r.stdout).toBe('no tunnel is running\n');
    const n = run(['status', 'office', '--state-dir', join(tmp, 'empty')]);
    expect(n.code).toBe(9);
    expect(n.stderr.trim()).toBe('ts-vpn: no tunnel named "office" is running');
    const j = run(['status', '--json', '--state-dir', join(tmp, 'empty')]);
    expect(j.code).toBe(9);
    expect(JSON.parse(j.stdout)).toEqual([]);
  });

  it('down of an unknown tunnel exits 9', () => {
    const r = run(['down', 'office', '--state-dir', join(tmp, 'empty')]);
    expect(r.code).toBe(9);
    expect(r.stderr.trim()).toBe('ts-vpn: no tunnel named "office" is running');
  });
});
