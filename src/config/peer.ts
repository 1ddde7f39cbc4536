/**
 * `peer.yaml`: the client side (`ts-vpn up`). YAML keys are kebab-case (like
 * pppd and OpenSSH option names); the typed result is camelCase with every
 * default filled in and durations converted to milliseconds (`…Ms` fields).
 * See docs/CONFIG.md for the reference.
 */
import { basename, join, normalize } from 'node:path';
import { z } from 'zod';
import { type ConfigEnv, defaultConfigEnv, expandPath } from './env.js';
import { ConfigError, type ConfigIssue, Secret } from './errors.js';
import {
  checkBool,
  checkCidr,
  checkEnum,
  checkInt,
  checkIpv4OrAsk,
  checkSeconds,
  checkSecret,
  checkString,
  describeValue,
  field,
  list,
  section,
} from './fields.js';
import { type Cidr, cidrContainsAddress, PRIVATE_IPV4_RANGES, parseCidr, parseIp } from './net.js';
import { checkRouteList, checkRoutesAgainstHost } from './routes.js';
import { type PathSegment, readYaml, type YamlSource } from './source.js';
import { validate } from './validate.js';

// ---------------------------------------------------------------- typed result

export interface PeerConfig {
  kind: 'peer';
  /** Where the config came from (file path or a label). */
  source: string;
  /** Tunnel name: [a-z0-9-], 1-32 chars; names the state dir /run/ts-vpn/<name> and the lock. */
  name: string;
  ssh: {
    /** The server to connect to: ssh.host, or the HostName ssh_config gives for it. */
    host: string;
    /** ssh.host as written (the name ssh_config's Host patterns are matched against). */
    alias: string;
    port: number;
    user: string;
    /** Private keys to try, in order (expanded, absolute). */
    identityFiles: string[];
    /** False when identityFiles are the defaults (only those that exist are used). */
    identityFilesExplicit: boolean;
    /** ssh-agent socket, or false for none. */
    agent: string | false;
    hostKey: {
      knownHostsFiles: string[];
      fingerprints: string[];
      acceptNew: boolean;
      /** Name looked up in known_hosts instead of host:port (HostKeyAlias). */
      alias?: string;
      /** accept-new writes hashed names (HashKnownHosts). */
      hashNew?: boolean;
    };
    keepaliveIntervalMs: number;
    keepaliveCountMax: number;
    connectTimeoutMs: number;
    ciphers: string[];
    passphraseFile: string | null;
    /** Read from passphraseFile by loadPeerConfig; never printed. */
    passphrase: Secret | null;
    /** Jump hosts, `[user@]host[:port]`, first hop first (ssh.jump or ProxyJump). */
    jump: string[];
    /** `ssh2`: the built-in client; `openssh`: run the system `ssh` as a local command. */
    client: 'ssh2' | 'openssh';
    /**
     * The jump hosts to cross, first hop first, each with its own settings (ssh_config
     * for its name, else the peer-wide ones); null until loadPeerConfig resolved them.
     */
    hops: SshHop[] | null;
    /** Read ssh_config (`enabled`); `file`: this one file instead of ~/.ssh/config + /etc/ssh/ssh_config. */
    config: { enabled: boolean; file: string | null };
    /** The ssh keys peer.yaml sets (ssh_config and defaults fill the others). */
    given: string[];
    /** Where each effective setting came from: `peer.yaml:12`, `/home/a/.ssh/config:3`, `default`. */
    origins: Record<string, string>;
    /** Debug lines from reading ssh_config (ignored keywords, files read). */
    notes: string[];
    /**
     * The other gateways when ssh.host is a list, in order, each with its own settings
     * (this object describes the first); tried in turn on every connect.
     */
    alternates: Array<PeerConfig['ssh']>;
  };
  /** `gateway`: the unix socket of a `ts-vpn gateway` (direct-streamlocal channel, no command). */
  remote: {
    /** `ssh`: run `command` on ssh.host; `command`: run it locally, PPP over its stdin/stdout. */
    transport: 'ssh' | 'command';
    command: string;
    kind: 'ts-vpn' | 'pppd' | 'gateway';
    kindDetected: boolean;
    gateway: string | null;
  };
  ppp: {
    /** Our IPv4 address, or null = ask the peer. */
    localAddress: string | null;
    /** The peer's IPv4 address, or null = ask (take what it says). */
    peerAddress: string | null;
    /** Prefixes the peer may assign us. */
    acceptLocal: string[];
    /** Prefixes the peer may use as its own address. */
    acceptPeer: string[];
    mru: number;
    accm: number;
    echoIntervalMs: number;
    echoFailures: number;
    ipv6: boolean;
    usePeerDns: boolean;
    /** Credentials when the far end demands PAP or CHAP; null when not configured. */
    auth: { user: string; password: Secret | null; passwordFile: string | null } | null;
    debug: boolean;
    restartMs: number;
    maxConfigure: number;
    maxTerminate: number;
    maxFailure: number;
  };
  /** `offload`: TCP segmentation offload through the TUN device and GSO frames on the link, when the far end (ts-vpn serve) supports them too. */
  tunnel: {
    interface: string;
    mtu: number | null;
    metric: number | null;
    offload: boolean;
    /** Run as this user / group once the device exists (CAP_NET_ADMIN kept); null = stay root. */
    user: string | null;
    group: string | null;
  };
  routes: string[];
  defaultRoute: boolean;
  dns: { writeTo: string };
  reconnect: {
    enabled: boolean;
    holdoffMs: number;
    maxBackoffMs: number;
    maxFail: number;
    /** A PPP refusal (authentication, unacceptable address): end the tunnel, or keep retrying. */
    onRefusal: 'stop' | 'retry';
  };
  hooks: { up: string | null; down: string | null; timeoutMs: number };
  /** Non-fatal remarks (e.g. pppd without `noauth`), for the log. */
  warnings: string[];
}

/** One jump host: where to connect and how (see PeerConfig.ssh.hops). */
export interface SshHop {
  /** As written in ssh.jump or ProxyJump, e.g. `bob@bastion:2200`. */
  spec: string;
  /** Where it was written: `peer.yaml:5` or `~/.ssh/config:7`. */
  origin: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  agent: string | false;
  hostKey: PeerConfig['ssh']['hostKey'];
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutMs: number;
  ciphers: string[];
}

// ---------------------------------------------------------------- defaults

export const PEER_DEFAULTS = {
  sshPort: 22,
  identityFiles: ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'],
  knownHosts: '~/.ssh/known_hosts',
  keepaliveInterval: 15,
  keepaliveCountMax: 3,
  connectTimeout: 15,
  ciphers: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  remoteCommand: 'sudo ts-vpn serve',
  mru: 1500,
  accm: 0,
  echoInterval: 10,
  echoFailures: 3,
  restart: 3,
  maxConfigure: 10,
  maxTerminate: 2,
  maxFailure: 5,
  interface: 'tsvpn%d',
  holdoff: 1,
  maxBackoff: 60,
  hookTimeout: 10,
  stateRoot: '/run/ts-vpn',
} as const;

/** Ciphers ssh2 implements that we allow (no CBC, arcfour, 3DES or Blowfish). */
export const SUPPORTED_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-gcm',
  'aes256-gcm',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

/** The ssh settings whose origin `ts-vpn check` shows (peer.yaml key names under ssh). */
export const SSH_SETTING_KEYS = [
  'host',
  'port',
  'user',
  'identity-files',
  'agent',
  'host-key.known-hosts',
  'host-key.fingerprint',
  'host-key.accept-new',
  'host-key.alias',
  'keepalive-interval',
  'keepalive-count-max',
  'connect-timeout',
  'ciphers',
  'jump',
] as const;

// ---------------------------------------------------------------- leaf checks

const NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const NAME_HELP =
  'is not a valid tunnel name: use 1-32 of a-z, 0-9 and "-", starting and ending with a letter or digit';
const HOSTNAME_RE =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function checkHost(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return { error: `expected a host name or IP address, got ${describeValue(v)}` };
  if (v.includes('@'))
    return { error: `"${v}" contains "@"; put the user in ssh.user and only the host here` };
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if ('value' in parseIp(bare)) return { value: bare };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (bracketed)
    return {
      error: `"${v}" contains a port; write host: ${bracketed[1]} and port: ${bracketed[2]}`,
    };
  const hp = /^([^:]+):(\d+)$/.exec(v);
  if (hp) return { error: `"${v}" contains a port; write host: ${hp[1]} and port: ${hp[2]}` };
  if (!HOSTNAME_RE.test(v)) return { error: `"${v}" is not a valid host name or IP address` };
  return { value: v };
}

/** `[user@]host[:port]` or `[user@][v6addr]:port` for ssh.jump. */
const JUMP_RE = /^(?:([^@\s:]+)@)?(\[[0-9A-Fa-f:.]+\]|[^@\s:[\]]+)(?::(\d{1,5}))?$/;
function checkJump(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return { error: `expected [user@]host[:port], got ${describeValue(v)}` };
  const m = JUMP_RE.exec(v);
  if (!m)
    return {
      error: `"${v}" is not [user@]host[:port] (an IPv6 address needs [brackets] with a port)`,
    };
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))
    return { error: `"${v}": port ${m[3]} is not from 1 to 65535` };
  return { value: v };
}

const FP_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
function checkFingerprint(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string')
    return {
      error: `expected a SHA256 fingerprint like "SHA256:abc…(43 base64 characters)", got ${describeValue(v)}`,
    };
  const s = v.trim();
  if (FP_RE.test(s)) return { value: s.replace(/=$/, '') };
  if (/^(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(s)) {
    return {
      error: `"${s}" is an MD5 fingerprint; pin the SHA256 one (ssh-keygen -lf <key> -E sha256 prints "SHA256:…")`,
    };
  }
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s))
    return { error: `"${s}" lacks the "SHA256:" prefix; write "SHA256:${s.replace(/=$/, '')}"` };
  return {
    error: `"${s}" is not a SHA256 fingerprint: expected "SHA256:" and 43 base64 characters, as printed by ssh-keygen -lf <key>`,
  };
}

function checkAgent(v: unknown): { value: boolean | string } | { error: string } {
  if (typeof v === 'boolean') return { value: v };
  if (typeof v === 'string' && v !== '') return { value: v };
  return {
    error: `expected true, false or the path of an ssh-agent socket, got ${describeValue(v)}`,
  };
}

function checkCipher(v: unknown) {
  const r = checkEnum(SUPPORTED_CIPHERS)(v);
  if ('error' in r && typeof v === 'string' && /cbc|arcfour|3des|blowfish|cast128/.test(v)) {
    return { error: `"${v}" is not allowed (weak); use one of ${SUPPORTED_CIPHERS.join(', ')}` };
  }
  return r;
}

function checkInterface(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return {
      error: `expected an interface name or pattern like "tsvpn%d", got ${describeValue(v)}`,
    };
  if (v.length > 15)
    return { error: `"${v}" is ${v.length} characters; Linux interface names are at most 15` };
  if (v === '.' || v === '..') return { error: `"${v}" is not a valid interface name` };
  const bad = /[/:\s]/.exec(v);
  if (bad)
    return {
      error: `"${v}" contains ${JSON.stringify(bad[0])}; interface names may not contain "/", ":" or spaces`,
    };
  if (/[^\x21-\x7e]/.test(v)) return { error: `"${v}" contains non-ASCII or control characters` };
  const pct = v.match(/%/g)?.length ?? 0;
  if (pct > 1 || (pct === 1 && !v.includes('%d')))
    return {
      error: `"${v}": a pattern may contain "%d" once (the kernel picks the number), and no other "%"`,
    };
  return { value: v };
}

const str = (what?: string) => field(checkString(what ? { what } : {}));
const path = () => field(checkString({ what: 'a file path' }));
const cidrs = (opts: { max?: number } = {}) => list(checkCidr(), opts);
const cidrs4 = () => list(checkCidr(4));

// ---------------------------------------------------------------- schema

export const peerSchema = z.strictObject({
  name: field(checkString({ pattern: NAME_RE, patternHelp: NAME_HELP })),
  ssh: section({
    host: list(checkHost, { single: true, min: 1, max: 8 }),
    port: field(checkInt(1, 65535)),
    user: field(checkString({ what: 'a user name', max: 255 })),
    'identity-files': list(checkString({ what: 'a file path' }), { single: true }),
    agent: field(checkAgent),
    'host-key': section({
      'known-hosts': list(checkString({ what: 'a file path' }), { single: true }),
      fingerprint: list(checkFingerprint, { single: true, min: 1 }),
      'accept-new': field(checkBool),
      alias: field(checkString({ what: 'a host name', max: 255 })),
    }),
    jump: list(checkJump, { single: true }),
    client: field(checkEnum(['ssh2', 'openssh'] as const)),
    config: field(checkBool),
    'config-file': path(),
    'keepalive-interval': field(checkSeconds(0, 3600)),
    'keepalive-count-max': field(checkInt(1, 100)),
    'connect-timeout': field(checkSeconds(1, 600)),
    ciphers: list(checkCipher, { min: 1 }),
    'passphrase-file': path(),
  }),
  remote: section({
    transport: field(checkEnum(['ssh', 'command'] as const)),
    command: str('a command line'),
    kind: field(checkEnum(['ts-vpn', 'pppd', 'gateway'] as const)),
    gateway: str('a socket path like /run/ts-vpn/gateway.sock'),
  }),
  ppp: section({
    'local-address': field(checkIpv4OrAsk),
    'peer-address': field(checkIpv4OrAsk),
    'accept-local': cidrs4(),
    'accept-peer': cidrs4(),
    mru: field(checkInt(128, 16384)),
    accm: field(checkInt(0, 0xffffffff, 'a 32-bit value (e.g. 0x000a0000),')),
    'echo-interval': field(checkSeconds(0, 3600)),
    'echo-failures': field(checkInt(1, 100)),
    ipv6: field(checkBool),
    'use-peer-dns': field(checkBool),
    auth: section({
      user: field(checkString({ what: 'a user name', max: 255 })),
      password: field(checkSecret(255)),
      'password-file': path(),
    }),
    debug: field(checkBool),
    restart: field(checkSeconds(0.1, 60)),
    'max-configure': field(checkInt(1, 255)),
    'max-terminate': field(checkInt(1, 255)),
    'max-failure': field(checkInt(1, 255)),
  }),
  tunnel: section({
    interface: field(checkInterface),
    mtu: field(checkInt(68, 16384)),
    metric: field(checkInt(0, 0xffffffff)),
    offload: field(checkBool),
    user: field(checkString({ what: 'a user name or uid', max: 255 })),
    group: field(checkString({ what: 'a group name or gid', max: 255 })),
  }),
  routes: cidrs(),
  'default-route': field(checkBool),
  dns: section({ 'write-to': path() }),
  reconnect: section({
    enabled: field(checkBool),
    holdoff: field(checkSeconds(0, 3600)),
    'max-backoff': field(checkSeconds(1, 86400)),
    'max-fail': field(checkInt(0, 1_000_000)),
    'on-refusal': field(checkEnum(['stop', 'retry'] as const)),
  }),
  hooks: section({
    up: str('a command line'),
    down: str('a command line'),
    timeout: field(checkSeconds(1, 3600)),
  }),
});

export type PeerYaml = z.output<typeof peerSchema>;

// ---------------------------------------------------------------- building

/** The system resolver file: `dns.write-to` naming it (or a link to it) gets a warning. */
export const SYSTEM_RESOLV_CONF = '/etc/resolv.conf';

/** The warning for `dns.write-to` at the system resolver file (see docs/CONFIG.md, `dns`). */
export function systemResolverWarning(writeTo: string, system = SYSTEM_RESOLV_CONF): string {
  return `dns.write-to is ${writeTo === system ? writeTo : `${writeTo} (that is ${system})`}: ts-vpn up replaces the system resolver file, so every program on this host resolves names through the far end's DNS servers while the tunnel is up; if that is not what you want, remove write-to (the default, <state dir>/<name>/resolv.conf, changes nothing by itself)`;
}

/** Detects `ts-vpn` vs `pppd` from the first real word of the command (after sudo/env/VAR=…). */
export function detectRemoteKind(command: string): 'ts-vpn' | 'pppd' | null {
  const words = command.trim().split(/\s+/);
  for (const w of words) {
    if (
      w === 'sudo' ||
      w === 'exec' ||
      w === 'env' ||
      w === 'doas' ||
      w.startsWith('-') ||
      /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)
    )
      continue;
    const base = w.split('/').pop() ?? w;
    if (base === 'pppd') return 'pppd';
    if (base === 'ts-vpn' || base === 'ts-vpn.js') return 'ts-vpn';
    return null;
  }
  return null;
}

/** Like detectRemoteKind, for a local command that runs the far end's (any word may be it). */
export function detectWrappedKind(command: string): 'ts-vpn' | 'pppd' | null {
  for (const w of command.trim().split(/\s+/)) {
    const base =
      w
        .replace(/^['"]|['"]$/g, '')
        .split('/')
        .pop() ?? w;
    if (base === 'pppd') return 'pppd';
    if (base === 'ts-vpn' || base === 'ts-vpn.js') return 'ts-vpn';
  }
  return null;
}

/** Default tunnel name from the file name: `office.yaml` → `office`; otherwise `default`. */
export function nameFromSource(source: string): string | null {
  const m = /^(.*)\.ya?ml$/i.exec(basename(source));
  if (!m) return 'default';
  const n = m[1].toLowerCase();
  return NAME_RE.test(n) ? n : null;
}

function cidrTexts(v: Cidr[] | undefined): string[] | undefined {
  return v?.map((c) => c.text);
}

/** Cross-field checks and defaults; `issues` collects problems. */
function buildPeer(
  y: PeerYaml,
  src: YamlSource,
  env: ConfigEnv,
): { cfg: PeerConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const at = (p: PathSegment[], msg: string) => issues.push(src.issue(p, msg));

  // name
  let name = y.name;
  if (name === undefined) {
    const derived = nameFromSource(src.name);
    if (derived === null) {
      at(
        [],
        `cannot derive a tunnel name from the file name "${basename(src.name)}"; add name: <a-z, 0-9, ->`,
      );
      name = 'default';
    } else name = derived;
  }

  // ssh
  const ssh = y.ssh ?? {};
  const transport = y.remote?.transport ?? 'ssh';
  if (transport === 'command') {
    if (y.remote?.command === undefined)
      at(
        ['remote'],
        'command is required with transport: command (the local program that speaks PPP on its stdin/stdout, e.g. "ssh -T gw sudo ts-vpn serve")',
      );
    if (y.ssh !== undefined)
      warnings.push(
        'the ssh section is not used with remote.transport: command (the command makes its own connection)',
      );
    if (y['default-route'])
      warnings.push(
        "default-route with remote.transport: command keeps no host route outside the tunnel: make sure the command's own traffic (e.g. its ssh connection) does not go through the tunnel",
      );
  } else if (ssh.host !== undefined) {
    ssh.host.forEach((h, i) => {
      if (ssh.host!.indexOf(h) !== i) at(['ssh', 'host', i], `"${h}" is listed twice`);
    });
  } else if (ssh.host === undefined)
    at(
      y.ssh ? ['ssh'] : [],
      y.ssh
        ? 'host is required (the SSH server to connect to)'
        : 'ssh.host is required (the SSH server to connect to)',
    );
  const hk = ssh['host-key'] ?? {};
  let agent: string | false;
  if (ssh.agent === undefined) agent = env.sshAuthSock ?? false;
  else if (ssh.agent === true) {
    if (!env.sshAuthSock) {
      at(
        ['ssh', 'agent'],
        'is true but SSH_AUTH_SOCK is not set (sudo drops it); give the socket path, or use sudo --preserve-env=SSH_AUTH_SOCK, or set agent: false',
      );
    }
    agent = env.sshAuthSock ?? false;
  } else if (ssh.agent === false) agent = false;
  else agent = expandPath(ssh.agent, env);

  // remote
  const command = y.remote?.command ?? PEER_DEFAULTS.remoteCommand;
  // A local command usually wraps the far end's (`ssh -T gw sudo pppd …`, `ip netns exec …`).
  const detected = transport === 'command' ? detectWrappedKind(command) : detectRemoteKind(command);
  const gatewayPath = y.remote?.gateway ?? null;
  const remoteKind = y.remote?.kind ?? (gatewayPath !== null ? 'gateway' : (detected ?? 'ts-vpn'));
  if (gatewayPath !== null && remoteKind !== 'gateway')
    at(
      ['remote', 'kind'],
      `is ${remoteKind}, but remote.gateway is set; use kind: gateway or drop gateway`,
    );
  if (remoteKind === 'gateway' && y.remote?.command !== undefined)
    at(
      ['remote', 'command'],
      'is not used with a gateway (the SSH channel connects to its socket); remove it',
    );
  if (remoteKind === 'gateway' && transport === 'command')
    at(['remote', 'transport'], 'must be ssh with a gateway (the socket is reached over SSH)');
  if (y.remote?.kind === undefined && gatewayPath === null && detected === null) {
    warnings.push(
      `remote.command "${command}" does not start ts-vpn or pppd; assuming kind: ts-vpn (set remote.kind to be explicit)`,
    );
  }

  // ppp
  const ppp = y.ppp ?? {};
  const localAddress = ppp['local-address'] ?? null;
  const peerAddress = ppp['peer-address'] ?? null;
  const acceptLocal =
    cidrTexts(ppp['accept-local']) ??
    (localAddress ? [`${localAddress}/32`] : [...PRIVATE_IPV4_RANGES]);
  const acceptPeer =
    cidrTexts(ppp['accept-peer']) ??
    (peerAddress ? [`${peerAddress}/32`] : [...PRIVATE_IPV4_RANGES]);
  const inAny = (addr: string, list: Cidr[]) => {
    const ip = parseIp(addr);
    return 'value' in ip && list.some((c) => cidrContainsAddress(c, ip.value));
  };
  if (localAddress && ppp['accept-local'] && !inAny(localAddress, ppp['accept-local'])) {
    at(
      ['ppp', 'accept-local'],
      `does not contain ppp.local-address ${localAddress}; add ${localAddress}/32 or change local-address`,
    );
  }
  if (peerAddress && ppp['accept-peer'] && !inAny(peerAddress, ppp['accept-peer'])) {
    at(
      ['ppp', 'accept-peer'],
      `does not contain ppp.peer-address ${peerAddress}; add ${peerAddress}/32 or change peer-address`,
    );
  }
  if (localAddress && peerAddress && localAddress === peerAddress)
    at(
      ['ppp', 'peer-address'],
      `is the same as ppp.local-address (${localAddress}); the two ends need different addresses`,
    );
  for (const key of ['accept-local', 'accept-peer'] as const) {
    (ppp[key] ?? []).forEach((c, i) => {
      if (c.prefix === 0)
        at(
          ['ppp', key, i],
          `${c.text} would accept any address, including public ones the peer could use to capture your traffic; list the ranges you expect (e.g. 10.77.0.0/24)`,
        );
    });
  }
  let auth: PeerConfig['ppp']['auth'] = null;
  if (ppp.auth) {
    const a = ppp.auth;
    if (a.user === undefined) at(['ppp', 'auth'], 'user is required when auth is given');
    if (a.password !== undefined && a['password-file'] !== undefined)
      at(['ppp', 'auth', 'password-file'], 'give either password or password-file, not both');
    if (a.password === undefined && a['password-file'] === undefined)
      at(['ppp', 'auth'], 'needs password-file (recommended) or password');
    auth = {
      user: a.user ?? '',
      password: a.password !== undefined ? secret(a.password) : null,
      passwordFile: a['password-file'] !== undefined ? expandPath(a['password-file'], env) : null,
    };
  }
  // Only when the command really starts pppd: with kind: pppd and a relay such as
  // `socat - UNIX-CONNECT:…`, pppd's options are not on this command line at all.
  if (remoteKind === 'pppd' && detected === 'pppd') {
    const words = command.split(/\s+/);
    if (!words.includes('notty'))
      warnings.push(
        'remote.command runs pppd without "notty"; over an SSH exec channel pppd must use stdin/stdout (add notty)',
      );
    if (!words.includes('noauth') && !auth) {
      warnings.push(
        'remote.command runs pppd without "noauth" and ppp.auth is not set; pppd 2.4.9 demands authentication when the server has a default route',
      );
    }
  }
  const usePeerDns = ppp['use-peer-dns'] ?? false;
  const stateRoot = env.stateRoot ?? PEER_DEFAULTS.stateRoot;
  const writeTo =
    y.dns?.['write-to'] !== undefined
      ? expandPath(y.dns['write-to'], env)
      : join(stateRoot, name, 'resolv.conf');
  if (y.dns?.['write-to'] !== undefined) {
    if (!usePeerDns)
      warnings.push(
        'dns.write-to is set but ppp.use-peer-dns is false: no DNS servers are asked for, nothing is written there',
      );
    else if (normalize(writeTo) === SYSTEM_RESOLV_CONF)
      warnings.push(systemResolverWarning(writeTo));
  }
  const ipv6 = ppp.ipv6 ?? true;
  const mtu = y.tunnel?.mtu ?? null;
  if (ipv6 && mtu !== null && mtu < 1280)
    warnings.push(
      `tunnel.mtu ${mtu} is below IPv6's minimum 1280: IPv6 will not come up (set ppp.ipv6: false to silence this)`,
    );
  if (ipv6 && (ppp.mru ?? PEER_DEFAULTS.mru) < 1280)
    warnings.push(`ppp.mru ${ppp.mru} is below IPv6's minimum 1280: IPv6 will not come up`);

  // routes
  const routes = y.routes ?? [];
  const defaultRoute = y['default-route'] ?? false;
  checkRouteList(routes, ['routes'], at);
  // With jump hosts the TCP connection goes to the first one (loadPeerConfig checks that).
  const hostIps =
    transport === 'ssh' && !(ssh.jump ?? []).length
      ? (ssh.host ?? []).map((h) => parseIp(h)).flatMap((r) => ('value' in r ? [r.value.text] : []))
      : [];
  if (hostIps.length > 0) checkRoutesAgainstHost(routes, defaultRoute, hostIps, at);

  // reconnect
  const rc = y.reconnect ?? {};
  const holdoffMs = rc.holdoff ?? PEER_DEFAULTS.holdoff * 1000;
  const maxBackoffMs = rc['max-backoff'] ?? PEER_DEFAULTS.maxBackoff * 1000;
  if (maxBackoffMs < holdoffMs)
    at(
      ['reconnect', 'max-backoff'],
      `(${maxBackoffMs / 1000} s) is shorter than reconnect.holdoff (${holdoffMs / 1000} s)`,
    );

  // Which ssh keys peer.yaml sets (they win over ssh_config), and where.
  const given: string[] = [];
  const origins: Record<string, string> = {};
  for (const key of SSH_SETTING_KEYS) {
    const p = ['ssh', ...key.split('.')];
    let v: unknown = y;
    for (const seg of p) v = (v as Record<string, unknown> | undefined)?.[seg];
    if (v !== undefined) {
      given.push(key);
      origins[key] = `${src.name}:${src.lineOf(p) ?? '?'}`;
    } else origins[key] = 'default';
  }

  const cfg: PeerConfig = {
    kind: 'peer',
    source: src.name,
    name,
    ssh: {
      host: ssh.host?.[0] ?? '',
      alias: ssh.host?.[0] ?? '',
      port: ssh.port ?? PEER_DEFAULTS.sshPort,
      user: ssh.user ?? env.user,
      identityFiles: (ssh['identity-files'] ?? [...PEER_DEFAULTS.identityFiles]).map((p) =>
        expandPath(p, env),
      ),
      identityFilesExplicit: ssh['identity-files'] !== undefined,
      agent,
      hostKey: {
        knownHostsFiles: (hk['known-hosts'] ?? [PEER_DEFAULTS.knownHosts]).map((p) =>
          expandPath(p, env),
        ),
        fingerprints: hk.fingerprint ?? [],
        acceptNew: hk['accept-new'] ?? false,
        ...(hk.alias !== undefined ? { alias: hk.alias } : {}),
      },
      keepaliveIntervalMs: ssh['keepalive-interval'] ?? PEER_DEFAULTS.keepaliveInterval * 1000,
      keepaliveCountMax: ssh['keepalive-count-max'] ?? PEER_DEFAULTS.keepaliveCountMax,
      connectTimeoutMs: ssh['connect-timeout'] ?? PEER_DEFAULTS.connectTimeout * 1000,
      ciphers: ssh.ciphers ?? [...PEER_DEFAULTS.ciphers],
      passphraseFile:
        ssh['passphrase-file'] !== undefined ? expandPath(ssh['passphrase-file'], env) : null,
      passphrase: null,
      jump: ssh.jump ?? [],
      client: ssh.client ?? 'ssh2',
      hops: null,
      config: {
        enabled: ssh.config ?? true,
        file: ssh['config-file'] !== undefined ? expandPath(ssh['config-file'], env) : null,
      },
      given,
      origins,
      notes: [],
      alternates: [],
    },
    remote: {
      transport,
      command,
      kind: remoteKind,
      kindDetected: y.remote?.kind === undefined,
      gateway: remoteKind === 'gateway' ? (gatewayPath ?? '/run/ts-vpn/gateway.sock') : null,
    },
    ppp: {
      localAddress,
      peerAddress,
      acceptLocal,
      acceptPeer,
      mru: ppp.mru ?? PEER_DEFAULTS.mru,
      accm: ppp.accm ?? PEER_DEFAULTS.accm,
      echoIntervalMs: ppp['echo-interval'] ?? PEER_DEFAULTS.echoInterval * 1000,
      echoFailures: ppp['echo-failures'] ?? PEER_DEFAULTS.echoFailures,
      ipv6,
      usePeerDns,
      auth,
      debug: ppp.debug ?? false,
      restartMs: ppp.restart ?? PEER_DEFAULTS.restart * 1000,
      maxConfigure: ppp['max-configure'] ?? PEER_DEFAULTS.maxConfigure,
      maxTerminate: ppp['max-terminate'] ?? PEER_DEFAULTS.maxTerminate,
      maxFailure: ppp['max-failure'] ?? PEER_DEFAULTS.maxFailure,
    },
    tunnel: {
      interface: y.tunnel?.interface ?? PEER_DEFAULTS.interface,
      mtu,
      metric: y.tunnel?.metric ?? null,
      offload: y.tunnel?.offload ?? true,
      user: y.tunnel?.user ?? null,
      group: y.tunnel?.group ?? null,
    },
    routes: routes.map((c) => c.text),
    defaultRoute,
    dns: { writeTo },
    reconnect: {
      enabled: rc.enabled ?? true,
      holdoffMs,
      maxBackoffMs,
      maxFail: rc['max-fail'] ?? 0,
      onRefusal: rc['on-refusal'] ?? 'stop',
    },
    hooks: {
      up: y.hooks?.up ?? null,
      down: y.hooks?.down ?? null,
      timeoutMs: y.hooks?.timeout ?? PEER_DEFAULTS.hookTimeout * 1000,
    },
    warnings,
  };
  cfg.ssh.alternates = (ssh.host ?? []).slice(1).map((h) => ({
    ...cfg.ssh,
    host: h,
    alias: h,
    hostKey: { ...cfg.ssh.hostKey },
    origins: { ...cfg.ssh.origins },
    notes: [],
    alternates: [],
  }));
  return { cfg, issues };
}

function secret(v: string): Secret {
  return new Secret(v);
}

/**
 * Parses and validates peer.yaml text (no file access: secret files are checked
 * and read by loadPeerConfig). Throws ConfigError listing every problem.
 */
export function parsePeerConfig(
  text: string,
  sourceName: string,
  env: ConfigEnv = defaultConfigEnv(),
): PeerConfig {
  const src = readYaml(text, sourceName);
  const { data, issues } = validate(peerSchema, src);
  if (data === null) throw new ConfigError(sourceName, issues);
  const built = buildPeer(data, src, env);
  if (built.issues.length > 0) throw new ConfigError(sourceName, built.issues);
  return built.cfg;
}

/** Re-parses a route list for the loader's host checks. */
export function routesAsCidrs(cfg: PeerConfig): Cidr[] {
  return cfg.routes.map((r) => (parseCidr(r) as { value: Cidr }).value);
}
