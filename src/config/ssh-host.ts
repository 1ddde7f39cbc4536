/**
 * One host's SSH settings from ssh_config: the first value ssh_config gives for a name
 * fills each key peer.yaml did not set (`ssh.given`), remembering its file:line; OpenSSH's
 * value syntax (times, yes/no, Ciphers `+-^` lists, `~` and `%` tokens) is read here.
 * ssh-settings.ts applies it to the gateways and their jump hosts.
 */
import { createHash } from 'node:crypto';
import { SUPPORTED_CIPHERS } from './peer-defaults.js';
import type { PeerConfig } from './peer-types.js';
import {
  expandHostName,
  lookupSshConfig,
  SshConfigError,
  type SshConfigFile,
  type SshConfigLookup,
  type SshConfigValue,
} from './ssh-config.js';
import { matchPattern } from './ssh-patterns.js';

const ALLOWED_CIPHERS: readonly string[] = SUPPORTED_CIPHERS;

/** OpenSSH's default cipher list, the base of `Ciphers +x`, `-x`, `^x`. */
export const OPENSSH_DEFAULT_CIPHERS = [
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
];

export const OPENSSH_USER_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
export const OPENSSH_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

/** What `~`, `%d`, `%u`, `%l`, `$SSH_AUTH_SOCK` mean here (the config env fits). */
export interface SshEnv {
  home: string;
  user: string;
  hostname: string;
  sshAuthSock: string | undefined;
}

export interface ApplySshConfigOptions {
  /** Default `/etc/ssh/ssh_config` (tests point it elsewhere). */
  systemConfig?: string;
  uid?: number;
}

export type PeerSsh = PeerConfig['ssh'];

/** A copy of the ssh settings (the passphrase Secret is shared, not copied). */
export function copySsh(ssh: PeerSsh): PeerSsh {
  return {
    ...ssh,
    identityFiles: [...ssh.identityFiles],
    hostKey: { ...ssh.hostKey, knownHostsFiles: [...ssh.hostKey.knownHostsFiles] },
    ciphers: [...ssh.ciphers],
    typedAuth: { ...ssh.typedAuth },
    jump: [...ssh.jump],
    given: [...ssh.given],
    origins: { ...ssh.origins },
    notes: [],
    hops: null,
    alternates: [],
  };
}

/** ssh_config values into `ssh` where `ssh.given` does not name the key. */
export function mergeSshConfig(
  ssh: PeerSsh,
  warnings: string[],
  env: SshEnv,
  files: SshConfigFile[],
  opts: ApplySshConfigOptions,
): SshConfigLookup {
  const given = new Set(ssh.given);
  const look = lookupSshConfig(ssh.alias, {
    files,
    home: env.home,
    localUser: env.user,
    defaultUser: given.has('user') ? ssh.user : undefined,
  });
  warnings.push(...look.warnings);
  ssh.notes.push(...look.notes);
  if (look.files.length > 0) ssh.notes.push(`ssh config files read: ${look.files.join(', ')}`);
  const v = (kw: string) => look.values.get(kw);
  const take = (key: string, val: SshConfigValue | undefined): val is SshConfigValue => {
    if (!val || given.has(key)) return false;
    ssh.origins[key] = val.origin;
    return true;
  };

  const hn = v('hostname');
  if (hn) {
    ssh.host = expandHostName(hn.args[0], ssh.alias).toLowerCase();
    ssh.origins.host = hn.origin;
  }
  const port = v('port');
  if (take('port', port)) ssh.port = parsePort(port);
  const user = v('user');
  if (take('user', user)) ssh.user = user.args[0];

  const tokens = {
    '%': '%',
    d: env.home,
    h: ssh.host,
    i: String(opts.uid ?? process.getuid?.() ?? 0),
    L: env.hostname.split('.')[0],
    l: env.hostname,
    n: ssh.alias,
    p: String(ssh.port),
    r: ssh.user,
    u: env.user,
    k: ssh.alias,
    C: '',
  };
  const alias = v('hostkeyalias');
  if (take('host-key.alias', alias)) {
    ssh.hostKey.alias = alias.args[0];
    tokens.k = alias.args[0];
  } else if (ssh.hostKey.alias) tokens.k = ssh.hostKey.alias;
  tokens.C = createHash('sha1')
    .update(`${tokens.l}${tokens.h}${tokens.p}${tokens.r}`)
    .digest('hex');
  const expand = (s: string, origin: string) => expandPath(s, tokens, env, origin);

  if (!given.has('identity-files') && look.identityFiles.length > 0) {
    ssh.identityFiles = look.identityFiles.map((f) => expand(f.args[0], f.origin));
    ssh.identityFilesExplicit = false;
    ssh.origins['identity-files'] = look.identityFiles.map((f) => f.origin).join(', ');
  }

  const agent = v('identityagent');
  const only = v('identitiesonly');
  if (take('agent', agent)) {
    const a = agent.args[0];
    if (a === 'none') ssh.agent = false;
    else if (a === 'SSH_AUTH_SOCK') ssh.agent = env.sshAuthSock ?? false;
    else if (a.startsWith('$')) ssh.agent = process.env[a.slice(1)] || false;
    else ssh.agent = expand(a, agent.origin);
  } else if (!given.has('agent') && only && parseYesNo(only, 'IdentitiesOnly')) {
    ssh.agent = false;
    ssh.origins.agent = `${only.origin} (IdentitiesOnly yes: keys from files only)`;
  }

  // known_hosts: with ssh_config on, OpenSSH's files unless peer.yaml names some.
  if (!given.has('host-key.known-hosts')) {
    const uk = v('userknownhostsfile');
    const gk = v('globalknownhostsfile');
    const user = uk ? uk.args : OPENSSH_USER_KNOWN_HOSTS;
    const global = gk ? gk.args : OPENSSH_GLOBAL_KNOWN_HOSTS;
    const list = [...user, ...global].filter((f) => f !== 'none');
    ssh.hostKey.knownHostsFiles = list.map((f) =>
      expand(f, (user.includes(f) ? uk : gk)?.origin ?? 'default'),
    );
    ssh.origins['host-key.known-hosts'] =
      uk || gk
        ? [uk?.origin, gk?.origin].filter(Boolean).join(', ')
        : 'default (OpenSSH known_hosts files)';
  }
  const strict = v('stricthostkeychecking');
  if (take('host-key.accept-new', strict)) {
    const s = strict.args[0].toLowerCase();
    if (s === 'accept-new') ssh.hostKey.acceptNew = true;
    else if (s === 'yes' || s === 'ask' || s === 'true') ssh.hostKey.acceptNew = false;
    else if (s === 'no' || s === 'off' || s === 'false') {
      ssh.hostKey.acceptNew = true;
      warnings.push(
        `${strict.origin}: StrictHostKeyChecking ${strict.args[0]} is taken as accept-new: ts-vpn records unknown host keys but never connects to a host whose key changed`,
      );
    } else throw bad(strict, 'StrictHostKeyChecking', 'yes, accept-new, no or ask');
  }
  const hash = v('hashknownhosts');
  if (hash) {
    ssh.hostKey.hashNew = parseYesNo(hash, 'HashKnownHosts');
    ssh.origins['host-key.hash'] = hash.origin;
  }

  const sai = v('serveraliveinterval');
  if (take('keepalive-interval', sai))
    ssh.keepaliveIntervalMs = parseTime(sai, 'ServerAliveInterval') * 1000;
  const sac = v('serveralivecountmax');
  if (take('keepalive-count-max', sac)) {
    const n = parseInt10(sac.args[0]);
    if (n === null || n < 1 || n > 100)
      throw bad(sac, 'ServerAliveCountMax', 'a count from 1 to 100');
    ssh.keepaliveCountMax = n;
  }
  const ct = v('connecttimeout');
  if (ct && ct.args[0] !== 'none' && take('connect-timeout', ct))
    ssh.connectTimeoutMs = Math.max(1, parseTime(ct, 'ConnectTimeout')) * 1000;
  const ciphers = v('ciphers');
  if (take('ciphers', ciphers)) ssh.ciphers = allowedCiphers(ciphers);

  // Typed authentication (ts-vpn asks only on a terminal; peer.yaml has no keys for it).
  const batch = v('batchmode');
  const pwAuth = v('passwordauthentication');
  const kbdAuth = v('kbdinteractiveauthentication') ?? v('challengeresponseauthentication');
  const prompts = v('numberofpasswordprompts');
  if (pwAuth) {
    ssh.typedAuth.password = parseYesNo(pwAuth, 'PasswordAuthentication');
    ssh.origins['typed-auth'] = pwAuth.origin;
  }
  if (kbdAuth) {
    ssh.typedAuth.keyboardInteractive = parseYesNo(kbdAuth, 'KbdInteractiveAuthentication');
    ssh.origins['typed-auth'] = kbdAuth.origin;
  }
  if (prompts) {
    const n = parseInt10(prompts.args[0]);
    if (n === null || n > 100)
      throw bad(prompts, 'NumberOfPasswordPrompts', 'a count from 0 to 100');
    ssh.typedAuth.prompts = n;
  }
  if (batch && parseYesNo(batch, 'BatchMode')) {
    ssh.typedAuth = { ...ssh.typedAuth, password: false, keyboardInteractive: false };
    ssh.origins['typed-auth'] = `${batch.origin} (BatchMode yes)`;
  }

  const pc = v('proxycommand');
  const pj = v('proxyjump');
  // OpenSSH: whichever of ProxyCommand / ProxyJump comes first wins.
  if (pc && pc.args[0] !== 'none' && (!pj || before(pc, pj, look))) {
    warnings.push(
      `${pc.origin}: ProxyCommand is not run by ts-vpn's SSH client (it connects directly); use ssh.client: openssh, or ProxyJump`,
    );
  } else if (take('jump', pj)) {
    ssh.jump = pj.args[0] === 'none' ? [] : pj.args[0].split(',').filter(Boolean);
  }
  return look;
}

function before(a: SshConfigValue, b: SshConfigValue, look: SshConfigLookup): boolean {
  const pos = (o: string) => {
    const i = o.lastIndexOf(':');
    return [look.files.indexOf(o.slice(0, i)), Number(o.slice(i + 1))];
  };
  const [fa, la] = pos(a.origin);
  const [fb, lb] = pos(b.origin);
  return fa < fb || (fa === fb && la < lb);
}

function bad(val: SshConfigValue, kw: string, expected: string): SshConfigError {
  return new SshConfigError(
    `${val.origin}: ${kw} ${JSON.stringify(val.args.join(' '))}: expected ${expected}`,
  );
}

function parseInt10(s: string): number | null {
  return /^\d{1,9}$/.test(s) ? Number(s) : null;
}

function parsePort(val: SshConfigValue): number {
  const n = parseInt10(val.args[0]);
  if (n === null || n < 1 || n > 65535) throw bad(val, 'Port', 'a port number from 1 to 65535');
  return n;
}

function parseYesNo(val: SshConfigValue, kw: string): boolean {
  const s = val.args[0].toLowerCase();
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  throw bad(val, kw, 'yes or no');
}

/** OpenSSH convtime: `90`, `1m30s`, `2h`; seconds. */
export function parseTime(val: SshConfigValue, kw: string): number {
  const s = val.args[0].toLowerCase();
  if (!/^(\d+[smhdw]?)+$/.test(s)) throw bad(val, kw, 'a time like 30, 30s, 1m30s');
  let total = 0;
  for (const m of s.matchAll(/(\d+)([smhdw]?)/g)) {
    const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]] ?? 1;
    total += Number(m[1]) * mult;
  }
  if (total > 86400 * 365) throw bad(val, kw, 'at most a year');
  return total;
}

/**
 * OpenSSH's Ciphers syntax (a list, or `+list` appended to / `-patterns` removed from /
 * `^list` put in front of the default), then kept to what ts-vpn allows.
 */
export function allowedCiphers(val: SshConfigValue): string[] {
  const list = opensshCipherList(val.args[0]);
  const out = list.filter((c) => ALLOWED_CIPHERS.includes(c));
  if (out.length === 0)
    throw new SshConfigError(
      `${val.origin}: Ciphers ${val.args[0]} leaves no cipher ts-vpn allows (${ALLOWED_CIPHERS.join(', ')})`,
    );
  return out;
}

/** The cipher list OpenSSH computes from a Ciphers value (what `ssh -G` prints). */
export function opensshCipherList(value: string): string[] {
  const def = OPENSSH_DEFAULT_CIPHERS;
  const items = (s: string) => s.split(',').filter(Boolean);
  if (value.startsWith('+'))
    return [...def, ...items(value.slice(1)).filter((c) => !def.includes(c))];
  if (value.startsWith('^')) {
    const front = items(value.slice(1));
    return [...front, ...def.filter((c) => !front.includes(c))];
  }
  if (value.startsWith('-')) {
    const pats = items(value.slice(1));
    return def.filter((c) => !pats.some((p) => matchPattern(c, p)));
  }
  return items(value);
}

/** `~` and `%x` tokens as OpenSSH expands file names (unknown tokens are errors, like OpenSSH). */
export function expandPath(
  s: string,
  tokens: Record<string, string>,
  env: { home: string },
  origin: string,
): string {
  let p = s;
  if (p === '~' || p.startsWith('~/')) p = env.home + p.slice(1);
  return p.replace(/%(.)/g, (_m, k: string) => {
    const t = tokens[k];
    if (t === undefined)
      throw new SshConfigError(`${origin}: unknown token %${k} in ${JSON.stringify(s)}`);
    return t;
  });
}
