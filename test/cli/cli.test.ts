/**
 * `ts-vpn` command line: help, usage errors, check, status/down without tunnels (nothing
 * touches the system). Runs the INSTALLED package's bin (npm pack + npm install -g,
 * test/support/installed.ts), as a user does.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedFromEnv, REPO, runInstalled } from '../support/installed.js';

let tmp: string;

function run(args: string[], env: Record<string, string> = {}) {
  return runInstalled(args, { cwd: REPO, env });
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

  it.each(['up', 'serve', 'check', 'status', 'down', 'version', 'help'])(
    '%s --help shows usage, examples and exit codes',
    (cmd) => {
      const r = run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ts-vpn ${cmd}`));
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes:');
      expect(r.stdout).toContain('10 permission denied');
      if (['up', 'status', 'down'].includes(cmd)) expect(r.stdout).toContain('--state-dir');
      expect(run(['help', cmd]).stdout).toBe(r.stdout);
      expect(run([cmd, '-h']).stdout).toBe(r.stdout);
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
      'ts-vpn: unknown command "frobnicate" (commands: up, serve, gateway, check, status, down, version, help; see "ts-vpn --help")',
    );
    const b = run(['up', '--frob']);
    expect(b.code).toBe(2);
    expect(b.stderr.trim()).toBe('ts-vpn: unknown option --frob (see "ts-vpn up --help")');
    const c = run(['status', '--log-format', 'xml']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--log-format: expected text or json');
  });

  it('a mistyped command or option gets "did you mean"', () => {
    const a = run(['stauts']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^ts-vpn: unknown command "stauts"; did you mean "status"\?/);
    const b = run(['chek', 'office.yaml']);
    expect(b.stderr).toContain('did you mean "check"?');
    const c = run(['serve', '--confg', 'x.yaml']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^ts-vpn: unknown option --confg; did you mean --config\?/);
    const d = run(['help', 'dwon']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('did you mean "down"?');
  });

  it("node's parseArgs wording never reaches the user: each message names the option and --help", () => {
    const cases: Array<[string[], string]> = [
      [
        ['serve', '--config'],
        'ts-vpn: --config needs a value (a server.yaml), as in --config VALUE',
      ],
      [['status', '--json=yes'], 'ts-vpn: --json takes no value'],
      [['up', '-x', 'p.yaml'], 'ts-vpn: unknown option -x'],
      [['status', '--state-dir'], 'ts-vpn: --state-dir needs a value (a directory)'],
      [
        ['up', 'p.yaml', '--json'],
        'ts-vpn: up does not take --json (it is an option of "ts-vpn status")',
      ],
    ];
    for (const [args, start] of cases) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.startsWith(start), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/see "ts-vpn (\w+ )?--help"/);
      expect(r.stderr).not.toMatch(
        /Option '|To specify a positional|ERR_PARSE_ARGS|argument missing/,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
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
    // --json: an empty list is the answer, exit 0 (docs/CLI.md).
    const j = run(['status', '--json', '--state-dir', join(tmp, 'empty')]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual([]);
    expect(j.stderr).toBe('');
    // A named tunnel that does not run is exit 9 in JSON too.
    const jn = run(['status', 'office', '--json', '--state-dir', join(tmp, 'empty')]);
    expect(jn.code).toBe(9);
  });

  it('down of an unknown tunnel exits 9', () => {
    const r = run(['down', 'office', '--state-dir', join(tmp, 'empty')]);
    expect(r.code).toBe(9);
    expect(r.stderr.trim()).toBe('ts-vpn: no tunnel named "office" is running');
  });
});

/** A complete peer file (keys and secrets in `tmp`), written under `name`. */
function writePeerFile(name: string): string {
  const key = join(tmp, 'id_ed25519');
  writeFileSync(key, 'not parsed by check\n', { mode: 0o600 });
  chmodSync(key, 0o600);
  const kh = join(tmp, 'known_hosts');
  writeFileSync(kh, '');
  const p = join(tmp, name);
  writeFileSync(
    p,
    `ssh:\n  host: 192.0.2.10\n  user: alice\n  identity-files: [${key}]\n  host-key:\n    known-hosts: ${kh}\nremote:\n  command: sudo ts-vpn serve\nroutes: [10.1.0.0/16]\n`,
  );
  return p;
}

describe('ts-vpn check: peer or server from the content, never the name', () => {
  it('a peer file is a peer file whatever it is called (office, server, gateway)', () => {
    for (const name of ['office.yaml', 'server.yaml', 'gw.yml']) {
      const p = writePeerFile(name);
      const r = run(['check', p]);
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
      expect(r.stdout).toContain(`ok: ${p} is a valid peer (ts-vpn up) configuration`);
    }
  });

  it('a server file called peer.yaml is a server file', () => {
    const p = join(tmp, 'peer.yaml');
    writeFileSync(p, 'pool: 10.9.0.0/24\nmax-sessions: 4\n');
    const r = run(['check', p]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is a valid server (ts-vpn serve) configuration');
  });

  it('an empty file is an error (exit 2), not a valid server configuration', () => {
    for (const text of ['', '\n\n', '# only a comment\n']) {
      const p = join(tmp, 'office.yaml');
      writeFileSync(p, text);
      const r = run(['check', p]);
      expect(r.code, JSON.stringify(text)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(
        `ts-vpn: ${p} is empty: nothing to check (a peer file needs at least ssh and routes; ts-vpn serve without a file uses its defaults)`,
      );
      // Forcing the kind does not make it valid either.
      expect(run(['check', p, '--server']).code).toBe(2);
      expect(run(['check', p, '--peer']).code).toBe(2);
    }
  });

  it('keys both kinds share, or keys of both kinds, need --peer / --server', () => {
    const shared = join(tmp, 'routes-only.yaml');
    writeFileSync(shared, 'routes: [10.1.0.0/16]\n');
    const a = run(['check', shared]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('cannot tell a peer file from a server file');
    expect(a.stderr).toContain('pass --peer or --server');
    const forced = run(['check', shared, '--server']);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('is a valid server (ts-vpn serve) configuration');

    const mixed = join(tmp, 'mixed.yaml');
    writeFileSync(mixed, 'ssh:\n  host: 192.0.2.1\npool: 10.9.0.0/24\n');
    const m = run(['check', mixed]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('mixes peer keys (ssh) and server keys (pool)');
    // Forced: the loader names the key that does not belong.
    const mp = run(['check', mixed, '--peer']);
    expect(mp.code).toBe(2);
    expect(mp.stderr).toMatch(/mixed\.yaml:3 pool: unknown key/);
    expect(run(['check', mixed, '--peer', '--server']).stderr).toContain(
      'give one of --peer, --server and --gateway',
    );
  });

  it('a gateway file is told by its keys, described (policies, LAN side, run-as), never its secrets', () => {
    const secret = join(tmp, 'alice.secret');
    writeFileSync(secret, 'not-printed-7731\n', { mode: 0o600 });
    const p = join(tmp, 'office.yaml');
    writeFileSync(
      p,
      `socket: { group: vpn }
local-address: 192.168.1.2
pools: { lan: 192.168.1.200-192.168.1.239, lab: 10.77.0.0/24 }
defaults: { pool: lan, routes: [192.168.1.0/24] }
unknown-users: refuse
users:
  alice: { address: 192.168.1.210, ppp-auth: chap }
  mallory: { allow: false }
groups: { lab: { pool: lab, max-sessions: 3 } }
lan-interface: eth0
proxy-arp: true
auth: { users: [{ user: alice, password-file: ${secret} }] }
run-as: { user: nobody, group: nogroup }
`,
    );
    const r = run(['check', p]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ts-vpn gateway (${p})`);
    expect(r.stdout).toContain('socket: /run/ts-vpn/gateway.sock (mode 0660, group vpn)');
    expect(r.stdout).toContain(
      'pools lan 192.168.1.200-192.168.1.239, lab 10.77.0.0/24 (10.77.0.1-10.77.0.254)',
    );
    // Listed users and groups inherit what they do not say from defaults.
    expect(r.stdout).toContain(
      'user alice: address 192.168.1.210, routes 192.168.1.0/24, 1 session, ppp auth chap',
    );
    expect(r.stdout).toContain('user mallory: refused');
    expect(r.stdout).toContain('group lab: pool lab, routes 192.168.1.0/24, 3 sessions');
    expect(r.stdout).toContain('users not listed: refused');
    expect(r.stdout).toContain(
      'LAN: eth0, proxy ARP on, masquerade off, forwarding checked at start',
    );
    expect(r.stdout).toContain('secrets for alice (hidden)');
    expect(r.stdout).toContain('runs as: user nobody, group nogroup, keeping only CAP_NET_ADMIN');
    expect(r.stdout).toContain('is a valid gateway (ts-vpn gateway) configuration');
    expect(r.stdout).not.toContain('not-printed-7731');
    // A mistake is named with its line, as in the other kinds.
    writeFileSync(p, 'lan-interface: eth0\nproxy-arp: yes please\n');
    const bad = run(['check', p]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/office\.yaml:2 proxy-arp: /);
    // Gateway keys next to keys only a server file takes: say so, and how to settle it.
    writeFileSync(p, 'pools: { a: 10.9.0.0/24 }\npeer-address: 10.9.0.2\n');
    const m = run(['check', p]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('mixes gateway keys (pools) and server keys (peer-address)');
    expect(m.stderr).toContain('pass --gateway or --server');
    // Keys a server and a gateway file share only: a server file, unless --gateway.
    writeFileSync(p, 'pool: 10.9.0.0/24\n');
    expect(run(['check', p]).stdout).toContain('valid server (ts-vpn serve) configuration');
    expect(run(['check', p, '--gateway']).stdout).toContain(
      'valid gateway (ts-vpn gateway) configuration',
    );
  });

  it.skipIf(process.getuid?.() !== 0)(
    'ts-vpn gateway with a run-as account that does not exist: exit 2 naming the field, nothing set up',
    () => {
      const p = join(tmp, 'gw-runas.yaml');
      const sock = join(tmp, 'gw-runas', 'gateway.sock');
      writeFileSync(p, `socket: { path: ${sock} }\nrun-as: { user: no-such-user-tsvpn }\n`);
      const r = run(['gateway', p]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `${p}: run-as.user: no account named "no-such-user-tsvpn" in /etc/passwd`,
      );
      expect(existsSync(sock)).toBe(false);
    },
  );

  it('--server on a peer file checks it as a server file (and says why it is not one)', () => {
    const p = writePeerFile('office.yaml');
    const r = run(['check', p, '--server']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/office\.yaml:1 ssh: unknown key/);
  });

  it('a YAML syntax error is reported with its line (the YAML parser is loaded in the bundle)', () => {
    const p = join(tmp, 'broken.yaml');
    writeFileSync(p, 'ssh:\n  host: [192.0.2.1\n');
    const r = run(['check', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ts-vpn: .*broken\.yaml:2 ssh\.host: YAML syntax error: the list opened/,
    );
    expect(r.stderr).not.toContain('unknown key');
  });
});

describe('ts-vpn serve refuses what a widened sudoers line could append', () => {
  // Each case fails before serve reads a config or checks for a terminal or root.
  it.each([
    [
      ['serve', '--config', '/etc/ts-vpn/server.yaml', '--config', '/tmp/mine.yaml'],
      '--config is given more than once',
    ],
    [
      ['serve', '-c', '/etc/ts-vpn/server.yaml', '--config=/tmp/mine.yaml'],
      '--config is given more than once',
    ],
    [
      ['serve', '--config', '/etc/ts-vpn/server.yaml', '/tmp/mine.yaml'],
      'serve takes at most one server.yaml',
    ],
    [
      ['serve', '--config', '/etc/ts-vpn/server.yaml', '--state-dir', '/tmp/x'],
      'serve does not take --state-dir',
    ],
    [
      [
        'serve',
        '--config',
        '/etc/ts-vpn/server.yaml',
        '--log-format',
        'json',
        '--log-format',
        'text',
      ],
      '--log-format is given more than once',
    ],
  ])('%j', (args, message) => {
    const r = run(args, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('--client-route may repeat (each claims one network)', () => {
    // Passes the command line and stops at the missing config file.
    const r = run([
      'serve',
      '--config',
      join(tmp, 'absent.yaml'),
      '--client-route',
      '192.168.100.0/24',
      '--client-route',
      '192.168.200.0/24',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('absent.yaml: cannot read the configuration: no such file');
  });

  it('the shipped sudoers example grants exact lines, without a wildcard', () => {
    const { pkgDir } = installedFromEnv();
    const text = readFileSync(join(pkgDir, 'examples', 'sudoers.ts-vpn'), 'utf8');
    const grants = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(grants.length).toBeGreaterThan(0);
    for (const g of grants) {
      expect(g).toMatch(
        /NOPASSWD: \/usr\/local\/bin\/ts-vpn serve --config \/etc\/ts-vpn\/server\.yaml/,
      );
      expect(g).not.toContain('*');
    }
    expect(grants.some((g) => g.includes('--client-route'))).toBe(true);
  });
});

describe('ts-vpn status / down as a user who cannot read the state directory', () => {
  const asNobody = (args: string[]) => runInstalled(args, { asNobody: true });

  it('say that root is needed (exit 10), never "no tunnel is running"', () => {
    // A root-only state dir (as `ts-vpn up` makes it) with one tunnel whose pid runs.
    const base = mkdtempSync(join(tmpdir(), 'tv-cli-perm-'));
    try {
      chmodSync(base, 0o755);
      const state = join(base, 'state');
      mkdirSync(join(state, 'office'), { recursive: true, mode: 0o700 });
      writeFileSync(join(state, 'office', 'pid'), `${process.pid}\n`);
      for (const [root, mode] of [
        [state, 0o700],
        // A readable root, but the tunnel's own directory is root's.
        [state, 0o755],
      ] as const) {
        chmodSync(root, mode);
        for (const cmd of [
          ['status'],
          ['status', '--json'],
          ['status', 'office'],
          ['down'],
          ['down', 'office'],
        ]) {
          const r = asNobody([...cmd, '--state-dir', state]);
          expect(r.code, `${cmd.join(' ')} (mode ${mode.toString(8)})`).toBe(10);
          expect(r.stdout).toBe('');
          expect(r.stderr).toMatch(
            new RegExp(
              `^ts-vpn: ${cmd[0]} needs root: the state directory ${state}(/office)? is not readable by this user \\(uid 65534\\)`,
            ),
          );
          expect(r.stderr).not.toContain('no tunnel');
        }
      }
      // An absent state dir still means that no tunnel runs.
      const none = asNobody(['status', '--state-dir', join(base, 'absent')]);
      expect(none.code).toBe(9);
      expect(none.stdout).toBe('no tunnel is running\n');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
