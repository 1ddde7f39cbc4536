/**
 * The I/O half of config loading: read the file, check secret files (exist,
 * not readable by others), read passwords/passphrases, check known_hosts and
 * resolve the SSH host when routes depend on it. Parsing itself is in peer.ts
 * and server.ts and touches nothing.
 */
import { lookup } from 'node:dns/promises';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type ConfigEnv, defaultConfigEnv } from './env.js';
import { ConfigError, type ConfigIssue, Secret } from './errors.js';
import { parseIp } from './net.js';
import {
  type PeerConfig,
  parsePeerConfig,
  routesAsCidrs,
  SYSTEM_RESOLV_CONF,
  systemResolverWarning,
} from './peer.js';
import { checkRoutesAgainstHost } from './routes.js';
import { defaultServerConfig, parseServerConfig, type ServerConfig } from './server.js';
import { readYaml } from './source.js';
import { SshConfigError } from './ssh-config.js';
import { applySshConfig } from './ssh-settings.js';
import { checkHookCommand, checkTrustedFile, type StrictModesOptions } from './strict-modes.js';
import { decodeConfigBytes } from './yaml-diagnostics.js';

function mode(m: number): string {
  return `0${(m & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Checks that a secret file (private key, passphrase, password, or a config
 * holding inline secrets) exists, is a regular file and is not accessible by
 * group or others, like OpenSSH does for keys. Returns the problem, or null.
 */
export async function checkSecretFilePermissions(
  path: string,
  field: string,
): Promise<ConfigIssue | null> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path: field, message: `${path} does not exist` };
    if (code === 'EACCES')
      return { path: field, message: `${path} cannot be read (permission denied)` };
    return { path: field, message: `${path} cannot be read (${code ?? (e as Error).message})` };
  }
  if (!st.isFile()) return { path: field, message: `${path} is not a regular file` };
  const m = Number(st.mode);
  if (m & 0o044)
    return {
      path: field,
      message: `${path} is readable by others (mode ${mode(m)}); run chmod 600 ${path}`,
    };
  if (m & 0o022)
    return {
      path: field,
      message: `${path} is writable by others (mode ${mode(m)}); run chmod 600 ${path}`,
    };
  if (m & 0o011)
    return {
      path: field,
      message: `${path} is accessible by others (mode ${mode(m)}); run chmod 600 ${path}`,
    };
  return null;
}

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a one-line secret: trailing newline(s) removed. */
async function readSecret(
  path: string,
  field: string,
  issues: ConfigIssue[],
): Promise<Secret | null> {
  const bad = await checkSecretFilePermissions(path, field);
  if (bad) {
    issues.push(bad);
    return null;
  }
  try {
    const text = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    if (text === '') {
      issues.push({ path: field, message: `${path} is empty` });
      return null;
    }
    return new Secret(text);
  } catch (e) {
    issues.push({
      path: field,
      message: `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    });
    return null;
  }
}

/** Reads a configuration file: it must be UTF-8 text (a binary file is said to be one). */
async function readConfigText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (code ?? (e as Error).message);
    throw new ConfigError(path, [{ path: '', message: `cannot read the configuration: ${why}` }]);
  }
  const r = decodeConfigBytes(bytes);
  if ('issue' in r) throw new ConfigError(path, [r.issue]);
  return r.text;
}

export type Resolver = (host: string) => Promise<string[]>;

/** getaddrinfo with a time limit. */
export const systemResolver: Resolver = async (host) => {
  const timeout = new Promise<never>((_, rej) =>
    setTimeout(
      () => rej(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })),
      5000,
    ).unref(),
  );
  const r = await Promise.race([lookup(host, { all: true }), timeout]);
  return r.map((x) => x.address);
};

export interface LoadOptions {
  env?: ConfigEnv;
  /** Resolves ssh.host when routes or default-route depend on its address (tests inject one). */
  resolve?: Resolver;
  /** `--state-dir`: the default dns.write-to is `<stateRoot>/<name>/resolv.conf` (default /run/ts-vpn). */
  stateRoot?: string;
  /** The system resolver file, for the dns.write-to warning (tests point it elsewhere). */
  systemResolvConf?: string;
  /** Who may own hook programs and configs with hooks or passwords (default: see strict-modes.ts). */
  strictModes?: StrictModesOptions;
}

/**
 * StrictModes for a config file whose contents decide what runs as root (hooks)
 * or hold passwords: owner and mode of the file and of its directories.
 */
async function checkSensitiveConfig(
  abs: string,
  reasons: { field: string; why: string }[],
  opts: LoadOptions,
): Promise<ConfigIssue[]> {
  if (reasons.length === 0) return [];
  return checkTrustedFile(
    abs,
    reasons[0].field,
    reasons.map((r) => r.why).join(' and '),
    'read',
    opts.strictModes,
  );
}

/** Attaches line numbers from the source to issues found after parsing. */
function withLines(issues: ConfigIssue[], text: string, source: string): ConfigIssue[] {
  let src: ReturnType<typeof readYaml> | null = null;
  try {
    src = readYaml(text, source);
  } catch {
    return issues;
  }
  return issues.map((i) => {
    if (i.line !== undefined || !i.path) return i;
    const segs = i.path
      .split(/\.|(?=\[)/)
      .map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s));
    return { ...i, line: src?.lineOf(segs) };
  });
}

/**
 * Reads, parses and checks peer.yaml: secret files must exist and be private,
 * known_hosts must exist unless a fingerprint is pinned or accept-new is on,
 * and default-route needs ssh.host to resolve. Throws ConfigError (exit code 2).
 */
export async function loadPeerConfig(path: string, opts: LoadOptions = {}): Promise<PeerConfig> {
  const abs = resolve(path);
  const env: ConfigEnv = {
    ...(opts.env ?? defaultConfigEnv(dirname(abs))),
    ...(opts.stateRoot !== undefined ? { stateRoot: opts.stateRoot } : {}),
  };
  const text = await readConfigText(path);
  const cfg = parsePeerConfig(text, path, env);
  const issues: ConfigIssue[] = [];

  // dns.write-to reaching the system resolver file through a link (the parser saw the name only).
  if (cfg.ppp.usePeerDns && !cfg.warnings.some((w) => w.startsWith('dns.write-to is'))) {
    const system = opts.systemResolvConf ?? SYSTEM_RESOLV_CONF;
    const [a, b] = await Promise.all([realOrNull(cfg.dns.writeTo), realOrNull(system)]);
    if (a !== null && a === b) cfg.warnings.push(systemResolverWarning(cfg.dns.writeTo, system));
  }

  // ssh_config (~/.ssh/config, /etc/ssh/ssh_config) fills what peer.yaml does not set.
  const viaSsh = cfg.remote.transport === 'ssh';
  if (viaSsh) {
    try {
      applySshConfig(cfg, env);
    } catch (e) {
      if (!(e instanceof SshConfigError)) throw e;
      throw new ConfigError(path, [{ path: 'ssh', message: `${e.message}` }]);
    }
  }

  // Keys: explicit ones must exist; defaults are used only when present.
  if (!viaSsh) cfg.ssh.identityFiles = [];
  else if (cfg.ssh.identityFilesExplicit) {
    for (const [i, f] of cfg.ssh.identityFiles.entries()) {
      const bad = await checkSecretFilePermissions(f, `ssh.identity-files[${i}]`);
      if (bad) issues.push(bad);
    }
  } else {
    const present: string[] = [];
    for (const f of cfg.ssh.identityFiles) {
      if (!(await exists(f))) continue;
      const bad = await checkSecretFilePermissions(f, 'ssh.identity-files');
      if (bad) issues.push({ ...bad, message: `${bad.message} (a default key)` });
      present.push(f);
    }
    cfg.ssh.identityFiles = present;
  }
  if (viaSsh && cfg.ssh.passphraseFile)
    cfg.ssh.passphrase = await readSecret(cfg.ssh.passphraseFile, 'ssh.passphrase-file', issues);
  if (cfg.ppp.auth?.passwordFile)
    cfg.ppp.auth.password = await readSecret(
      cfg.ppp.auth.passwordFile,
      'ppp.auth.password-file',
      issues,
    );
  if (cfg.ppp.auth && cfg.ppp.auth.passwordFile === null) {
    const bad = await checkSecretFilePermissions(abs, 'ppp.auth.password');
    if (bad)
      issues.push({
        ...bad,
        message: `is written inline, but ${bad.message}; or move it to password-file`,
      });
  }

  // StrictModes: hooks run as root; whoever can change them, or the file naming them, is root.
  const reasons: { field: string; why: string }[] = [];
  if (cfg.hooks.up || cfg.hooks.down)
    reasons.push({ field: 'hooks', why: 'names hooks that run as root' });
  if (cfg.remote.transport === 'command')
    reasons.push({ field: 'remote.command', why: 'names a local command that runs as root' });
  if (cfg.ppp.auth && cfg.ppp.auth.passwordFile === null)
    reasons.push({ field: 'ppp.auth.password', why: 'holds a password' });
  issues.push(...(await checkSensitiveConfig(abs, reasons, opts)));
  for (const k of ['up', 'down'] as const) {
    const cmd = cfg.hooks[k];
    if (cmd)
      issues.push(...(await checkHookCommand(cmd, `hooks.${k}`, env.baseDir, opts.strictModes)));
  }
  if (cfg.remote.transport === 'command')
    issues.push(
      ...(await checkHookCommand(
        cfg.remote.command,
        'remote.command',
        env.baseDir,
        opts.strictModes,
        process.env.PATH || undefined,
      )),
    );

  const hk = cfg.ssh.hostKey;
  // OpenSSH's own list (from ssh_config or its defaults): one existing file is enough.
  const khFromYaml = cfg.ssh.given.includes('host-key.known-hosts');
  const anyKh = async () => {
    for (const f of hk.knownHostsFiles) if (await exists(f)) return true;
    return false;
  };
  if (
    viaSsh &&
    hk.fingerprints.length === 0 &&
    !hk.acceptNew &&
    (khFromYaml || !cfg.ssh.config.enabled || !(await anyKh()))
  ) {
    for (const [i, f] of (khFromYaml || !cfg.ssh.config.enabled
      ? hk.knownHostsFiles
      : hk.knownHostsFiles.slice(0, 1)
    ).entries()) {
      if (!(await exists(f))) {
        issues.push({
          path:
            hk.knownHostsFiles.length > 1
              ? `ssh.host-key.known-hosts[${i}]`
              : 'ssh.host-key.known-hosts',
          message: `${f} does not exist, so the server's host key cannot be checked; add it (ssh-keyscan -p ${cfg.ssh.port} ${cfg.ssh.host} >> ${f}, then compare the fingerprint), pin ssh.host-key.fingerprint, or set ssh.host-key.accept-new: true`,
        });
      }
    }
  }

  // Routes vs. the SSH server's address: the first jump host when there are some, the
  // HostName ssh_config gave, or ssh.host (IP literals there were checked by the parser).
  const server = cfg.ssh.hops?.[0]?.host ?? cfg.ssh.host;
  const serverIp = parseIp(server);
  if (viaSsh && 'value' in serverIp && server !== cfg.ssh.alias)
    checkRoutesAgainstHost(routesAsCidrs(cfg), cfg.defaultRoute, [serverIp.value.text], (p, m) =>
      issues.push({ path: `routes[${p[1]}]`, message: m }),
    );
  if (viaSsh && 'error' in serverIp && (cfg.defaultRoute || cfg.routes.length > 0)) {
    let addrs: string[] | null = null;
    let why = '';
    try {
      addrs = await (opts.resolve ?? systemResolver)(server);
      if (addrs.length === 0) why = 'no addresses';
    } catch (e) {
      why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    if (addrs === null || addrs.length === 0) {
      if (cfg.defaultRoute) {
        issues.push({
          path: 'default-route',
          message: `needs ssh.host to resolve (ts-vpn keeps a host route to the SSH server outside the tunnel), but "${server}" did not resolve (${why}); fix the name or use its IP address`,
        });
      } else {
        cfg.warnings.push(
          `ssh.host "${server}" did not resolve (${why}); could not check that routes do not contain the SSH server`,
        );
      }
    } else {
      checkRoutesAgainstHost(routesAsCidrs(cfg), cfg.defaultRoute, addrs, (p, m) =>
        issues.push({ path: `routes[${p[1]}]`, message: m }),
      );
    }
  }

  if (issues.length > 0) throw new ConfigError(path, withLines(issues, text, path));
  return cfg;
}

/** Reads server.yaml; with no path, returns the defaults. Password files are checked and read. */
export async function loadServerConfig(
  path?: string,
  opts: LoadOptions = {},
): Promise<ServerConfig> {
  if (path === undefined) return defaultServerConfig(opts.env ?? defaultConfigEnv());
  const abs = resolve(path);
  const env = opts.env ?? defaultConfigEnv(dirname(abs));
  const text = await readConfigText(path);
  const cfg = parseServerConfig(text, path, env);
  const issues: ConfigIssue[] = [];
  let inline = false;
  for (const [i, u] of cfg.auth.users.entries()) {
    if (u.passwordFile)
      u.password = await readSecret(u.passwordFile, `auth.users[${i}].password-file`, issues);
    else inline = true;
  }
  if (inline) {
    const bad = await checkSecretFilePermissions(abs, 'auth.users');
    if (bad)
      issues.push({
        ...bad,
        message: `hold inline passwords, but ${bad.message}; or use password-file`,
      });
    issues.push(
      ...(await checkSensitiveConfig(abs, [{ field: 'auth.users', why: 'holds passwords' }], opts)),
    );
  }
  if (issues.length > 0) throw new ConfigError(path, withLines(issues, text, path));
  return cfg;
}
