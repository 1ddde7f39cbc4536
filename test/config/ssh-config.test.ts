/**
 * ssh_config lookup against OpenSSH itself: for a table of configs and host names, the
 * values our lookup gives (shown the way `ssh -G` prints them) equal what
 * `ssh -G <host> -F <file>` prints. Then the bad inputs: Include loops, unreadable
 * includes, huge files, bad values: a clear error naming file:line, never a hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  expandHostName,
  lookupSshConfig,
  SshConfigError,
  type SshConfigLookup,
} from '../../src/config/ssh-config.js';
import {
  expandPath,
  OPENSSH_DEFAULT_CIPHERS,
  OPENSSH_GLOBAL_KNOWN_HOSTS,
  OPENSSH_USER_KNOWN_HOSTS,
  opensshCipherList,
  parseTime,
} from '../../src/config/ssh-host.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-sshcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `ssh -G` expands `~` and %d with the passwd home of the user running it.
const me = userInfo();
const HOME = me.homedir;
const USER = me.username;
const haveSsh = spawnSync('ssh', ['-V']).status === 0;

function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const KEYS = [
  'hostname',
  'port',
  'user',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'userknownhostsfile',
  'globalknownhostsfile',
  'hostkeyalias',
  'stricthostkeychecking',
  'hashknownhosts',
  'serveraliveinterval',
  'serveralivecountmax',
  'connecttimeout',
  'ciphers',
] as const;

/** What `ssh -G host -F file` prints for KEYS (one `key value` line each; identityfile repeats). */
function sshG(host: string, file: string): string[] {
  const out = execFileSync('ssh', ['-G', host, '-F', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => (KEYS as readonly string[]).includes(l.split(' ')[0]))
    .sort();
}

/** Our lookup, printed like ssh -G (OpenSSH's defaults where nothing is set). */
function ours(host: string, file: string): string[] {
  const look = lookupSshConfig(host, {
    files: [{ path: file, kind: 'user' }],
    home: HOME,
    localUser: USER,
  });
  return view(host, look);
}

function view(host: string, look: SshConfigLookup): string[] {
  const v = (k: string) => look.values.get(k)?.args;
  const h = host;
  const hostname = (v('hostname') ? expandHostName(v('hostname')![0], h) : h).toLowerCase();
  const port = v('port')?.[0] ?? '22';
  const user = v('user')?.[0] ?? USER;
  const tokens: Record<string, string> = {
    '%': '%',
    d: HOME,
    h: hostname,
    n: h,
    p: port,
    r: user,
    u: USER,
    k: v('hostkeyalias')?.[0] ?? h,
  };
  const exp = (s: string) => expandPath(s, tokens, { home: HOME }, 'test');
  const lines: string[] = [
    `hostname ${hostname}`,
    `port ${port}`,
    `user ${user}`,
    `identitiesonly ${yesNo(v('identitiesonly')?.[0] ?? 'no')}`,
    `hashknownhosts ${yesNo(v('hashknownhosts')?.[0] ?? 'no')}`,
    `stricthostkeychecking ${strict(v('stricthostkeychecking')?.[0] ?? 'ask')}`,
    `serveraliveinterval ${v('serveraliveinterval') ? parseTime({ args: v('serveraliveinterval')!, origin: 't' }, 'x') : 0}`,
    `serveralivecountmax ${v('serveralivecountmax')?.[0] ?? 3}`,
    `connecttimeout ${v('connecttimeout') ? parseTime({ args: v('connecttimeout')!, origin: 't' }, 'x') : 'none'}`,
    `ciphers ${(v('ciphers') ? opensshCipherList(v('ciphers')![0]) : OPENSSH_DEFAULT_CIPHERS).join(',')}`,
    `userknownhostsfile ${(v('userknownhostsfile') ?? OPENSSH_USER_KNOWN_HOSTS).map(exp).join(' ')}`,
    // ssh -G prints the global files as written (it expands only the user's).
    `globalknownhostsfile ${(v('globalknownhostsfile') ?? OPENSSH_GLOBAL_KNOWN_HOSTS).join(' ')}`,
  ];
  if (v('identityagent')) lines.push(`identityagent ${exp(v('identityagent')![0])}`);
  if (v('proxyjump')) lines.push(`proxyjump ${v('proxyjump')![0]}`);
  if (v('hostkeyalias')) lines.push(`hostkeyalias ${v('hostkeyalias')![0]}`);
  const ids = look.identityFiles.map((f) => f.args[0]);
  for (const f of ids.length > 0
    ? ids
    : ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map(
        (n) => `~/.ssh/${n}`,
      ))
    lines.push(`identityfile ${f}`);
  return lines.sort();
}

function yesNo(s: string): string {
  return /^(yes|true)$/i.test(s) ? 'yes' : 'no';
}
function strict(s: string): string {
  const l = s.toLowerCase();
  if (l === 'yes' || l === 'true') return 'true';
  if (l === 'no' || l === 'off' || l === 'false') return 'false';
  return l;
}

const inc = write(
  'inc/one.conf',
  'Port 5022\nHost x.example.com\n  User xuser\nHost *\n  IdentityFile ~/.ssh/from_include\n',
);
write('inc.d/20-b.conf', 'Host web*\n  User web-b\n  Port 8022\n');
write('inc.d/10-a.conf', 'Host web1\n  User web-a\n');
write('inc.d/.hidden.conf', 'Host *\n  User hidden\n');

const TABLE: Array<{ name: string; config: string; hosts: string[] }> = [
  {
    name: 'alias with HostName, Port, User and IdentityFile tokens',
    config: `Host gw
  HostName 10.1.2.3
  Port 2222
  User alice
  IdentityFile ~/.ssh/id_%h_%r
  IdentityFile %d/keys/%u-%p
  UserKnownHostsFile ~/kh/%h %d/kh2-%r-%p %u
  HostKeyAlias gw-alias
Host *
  User zed
  ConnectTimeout 9
`,
    hosts: ['gw', 'other', 'GW', 'Gw'],
  },
  {
    name: 'first match wins: Host * before a specific Host',
    config:
      'Host *\n  Port 1111\n  User star\nHost gw\n  Port 2222\n  User gwuser\n  HostName real-gw\n',
    hosts: ['gw', 'any'],
  },
  {
    name: 'negation and wildcards',
    config: `Host *.example.com !bad.example.com
  User ex
Host !gw
  Port 9999
Host gw? *-jump ??.net
  Port 2200
Host GW
  Port 3333
Host *
  Port 2201
`,
    hosts: ['gw', 'a.example.com', 'bad.example.com', 'gw1', 'x-jump', 'ab.net', 'abc.net'],
  },
  {
    name: 'HostName with %h, ProxyJump, IdentityAgent, keywords in any case and = / tabs / quotes / comments',
    config: `host=gw
\tHOSTNAME %h.example.com
  proxyjump bob@bastion:22,carol@b2:2200
  IdentityAgent "~/agent sock.%h"
  PORT = 2022 # trailing comment
  identityfile "~/.ssh/with space"
`,
    hosts: ['gw'],
  },
  {
    name: 'Include (absolute path, glob, inside a Host block that matches or not)',
    config: `Host gw
  Include ${inc}
Host web*
  Include ${join(dir, 'inc.d')}/*.conf
Host *
  Port 22
  User fallback
`,
    hosts: ['gw', 'x.example.com', 'web1', 'web2'],
  },
  {
    name: 'IdentityFile accumulates across blocks, the rest is first-wins',
    config: `Host gw
  IdentityFile ~/.ssh/first
  IdentitiesOnly yes
Host g*
  IdentityFile ~/.ssh/second
  IdentitiesOnly no
  HashKnownHosts yes
Host *
  IdentityFile ~/.ssh/third
`,
    hosts: ['gw', 'gx'],
  },
  {
    name: 'Ciphers lists and +, -, ^ modifiers',
    config: `Host a
  Ciphers aes256-ctr,aes128-gcm@openssh.com
Host b
  Ciphers -aes*
Host c
  Ciphers +aes128-cbc
Host d
  Ciphers ^aes256-gcm@openssh.com,aes128-ctr
`,
    hosts: ['a', 'b', 'c', 'd'],
  },
  {
    name: 'StrictHostKeyChecking, HashKnownHosts, ServerAlive*, ConnectTimeout with time units',
    config: `Host s1
  StrictHostKeyChecking accept-new
  ServerAliveInterval 2m
  ServerAliveCountMax 7
  ConnectTimeout 1m30s
Host s2
  StrictHostKeyChecking no
  ServerAliveInterval 15
Host s3
  StrictHostKeyChecking yes
  GlobalKnownHostsFile /etc/ssh/other_known_hosts %d/global-%h
Host s4
  StrictHostKeyChecking ask
  HashKnownHosts no
`,
    hosts: ['s1', 's2', 's3', 's4'],
  },
  {
    name: 'Match all / host / originalhost / user / localuser, negated criteria',
    config: `Host gw
  HostName gateway.example.com
Match host gateway.example.com
  Port 4000
Match originalhost gw user nobody
  User matched-wrong
Match originalhost gw !user nobody
  User matched-right
Match localuser ${USER}
  IdentityFile ~/.ssh/local-%u
Match all
  ServerAliveInterval 33
`,
    hosts: ['gw', 'other'],
  },
];

describe.skipIf(!haveSsh)('ssh_config lookup equals `ssh -G`', () => {
  for (const c of TABLE) {
    it(c.name, () => {
      const file = write(`${c.name.replace(/\W+/g, '-')}.conf`, c.config);
      for (const host of c.hosts) {
        expect({ host, lines: ours(host, file) }).toEqual({ host, lines: sshG(host, file) });
      }
    });
  }
});

describe('ssh_config lookup details', () => {
  it('names the file and line of every value, through includes', () => {
    const main = write(
      'origins.conf',
      `# comment

Host gw
  HostName 10.0.0.9

  Include ${inc}
  Port 2222
`,
    );
    const look = lookupSshConfig('gw', {
      files: [{ path: main, kind: 'user' }],
      home: HOME,
      localUser: USER,
    });
    expect(look.values.get('hostname')?.origin).toBe(`${main}:4`);
    expect(look.values.get('port')).toEqual({ args: ['5022'], origin: `${inc}:1` });
    expect(look.identityFiles).toEqual([{ args: ['~/.ssh/from_include'], origin: `${inc}:5` }]);
    expect(look.files).toEqual([main, inc]);
  });

  it('resolves relative Include against ~/.ssh for user files and ignores a missing one', () => {
    const home = join(dir, 'home');
    write('home/.ssh/conf.d/a.conf', 'Host gw\n  User from-relative\n');
    const main = write('home/.ssh/config', 'Include conf.d/*.conf missing.conf\n');
    const look = lookupSshConfig('gw', {
      files: [{ path: main, kind: 'user' }],
      home,
      localUser: USER,
    });
    expect(look.values.get('user')?.args).toEqual(['from-relative']);
    expect(look.notes.join('\n')).toMatch(/Include missing\.conf matched no file/);
  });

  it('ignores unknown keywords with a debug note, and skips Match exec with a warning', () => {
    const f = write(
      'unknown.conf',
      'Host gw\n  FrobnicateHarder yes\n  ForwardAgent yes\nMatch exec "true"\n  Port 1\n',
    );
    const look = lookupSshConfig('gw', {
      files: [{ path: f, kind: 'user' }],
      home: HOME,
      localUser: USER,
    });
    expect(look.notes).toContain(`${f}:2: FrobnicateHarder is not used by ts-vpn; ignored`);
    expect(look.notes).toContain(`${f}:3: ForwardAgent is not used by ts-vpn; ignored`);
    expect(look.warnings.join('\n')).toMatch(/:4: Match exec is not evaluated/);
    expect(look.values.has('port')).toBe(false);
  });

  it('a missing top-level file is no error', () => {
    const look = lookupSshConfig('gw', {
      files: [{ path: join(dir, 'nope'), kind: 'user' }],
      home: HOME,
      localUser: USER,
    });
    expect(look.files).toEqual([]);
  });
});

describe('bad ssh_config input: clear errors, no hang', () => {
  const lookFile = (f: string, limits?: { maxFileBytes?: number }) => () =>
    lookupSshConfig('gw', {
      files: [{ path: f, kind: 'user' }],
      home: HOME,
      localUser: USER,
      limits,
    });

  it('an Include loop names the chain', () => {
    const a = join(dir, 'loop-a.conf');
    const b = write('loop-b.conf', `Include ${a}\n`);
    write('loop-a.conf', `Host *\n  Include ${b}\n`);
    expect(lookFile(a)).toThrow(SshConfigError);
    expect(lookFile(a)).toThrow(`ssh config Include loop: ${a} → ${b} → ${a}`);
    const self = join(dir, 'self.conf');
    write('self.conf', `Include ${self}\n`);
    expect(lookFile(self)).toThrow(/Include loop/);
  });

  it('Include nesting deeper than 16 is an error', () => {
    for (let i = 0; i < 20; i++)
      write(`deep/${i}.conf`, `Include ${join(dir, 'deep', `${i + 1}.conf`)}\n`);
    write('deep/20.conf', 'Port 1\n');
    expect(lookFile(join(dir, 'deep/0.conf'))).toThrow(/nesting deeper than 16/);
  });

  it('an Include that is a FIFO, a directory or a dangling symlink is refused (no hang)', () => {
    const fifo = join(dir, 'fifo.conf');
    execFileSync('mkfifo', [fifo]);
    expect(lookFile(write('inc-fifo.conf', `Include ${fifo}\n`))).toThrow(
      `ssh config ${fifo} (included from ${join(dir, 'inc-fifo.conf')}:1) is not a regular file`,
    );
    mkdirSync(join(dir, 'adir.conf'));
    expect(lookFile(write('inc-dir.conf', `Include ${join(dir, 'adir.conf')}\n`))).toThrow(
      /is not a regular file/,
    );
    symlinkSync(join(dir, 'no-such-target'), join(dir, 'dangling.conf'));
    // glob(3) does not list a dangling symlink either: OpenSSH ignores it, so do we.
    const look = lookFile(write('inc-dangling.conf', `Include ${join(dir, 'dangling.conf')}\n`))();
    expect(look.notes.join('\n')).toMatch(/matched no file/);
  });

  it('a 10 MB config is refused at once with the limit and the way out', () => {
    const big = join(dir, 'big.conf');
    writeFileSync(big, 'Host a\n  Port 1\n'.repeat((10 * 1024 * 1024) / 16));
    expect(lookFile(big)).toThrow(
      /big\.conf is 10485760 bytes; ts-vpn reads ssh_config files up to 262144 bytes \(set ssh\.config: false/,
    );
  });

  it('a binary file, a keyword without argument and an unterminated quote are errors', () => {
    const bin = join(dir, 'bin.conf');
    writeFileSync(bin, Buffer.from([0x48, 0x6f, 0x73, 0x74, 0, 1, 2, 0x0a]));
    expect(lookFile(bin)).toThrow(/not a text file/);
    expect(lookFile(write('noarg.conf', 'Host gw\n  Port\n  User x\n'))).toThrow(
      /noarg\.conf:2: Port: missing argument/,
    );
    expect(lookFile(write('quote.conf', 'Host gw\n  User "x\n'))).toThrow(SshConfigError);
  });
});
