/**
 * The effective SSH settings of a peer: peer.yaml keys win, then the first value
 * ssh_config gives for `ssh.host` (ssh-host.ts, ssh-config.ts), then ts-vpn's defaults.
 * Each setting remembers where it came from (`peer.yaml:12`, `/home/a/.ssh/config:3`,
 * `default`) for `ts-vpn check`. Every gateway of the list gets its own settings, and so
 * does each jump host (ssh.jump / ProxyJump), resolved here into `ssh.hops`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerConfig, SshHop } from './peer-types.js';
import { SshConfigError, type SshConfigFile, type SshConfigLookup } from './ssh-config.js';
import {
  type ApplySshConfigOptions,
  copySsh,
  mergeSshConfig,
  type PeerSsh,
  type SshEnv,
} from './ssh-host.js';

export type { ApplySshConfigOptions, SshEnv } from './ssh-host.js';

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** `[user@]host[:port]`, `[user@][v6]:port` or `ssh://[user@]host[:port]`; null if malformed. */
export function parseJumpSpec(spec: string): JumpSpec | null {
  const s = spec.startsWith('ssh://') ? spec.slice(6).replace(/\/$/, '') : spec;
  const m = /^(?:([^@\s:/]+)@)?(\[[0-9A-Fa-f:.]+\]|[^@\s:[\]/]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { ...(m[1] ? { user: m[1] } : {}), host, ...(port ? { port } : {}) };
}

/** The ssh_config files to read for `cfg` (none with `ssh.config: false`). */
export function sshConfigFiles(
  cfg: PeerConfig,
  env: SshEnv,
  opts: ApplySshConfigOptions = {},
): SshConfigFile[] {
  if (!cfg.ssh.config.enabled) return [];
  if (cfg.ssh.config.file) return [{ path: cfg.ssh.config.file, kind: 'user' }];
  return [
    { path: join(env.home, '.ssh', 'config'), kind: 'user' },
    { path: opts.systemConfig ?? '/etc/ssh/ssh_config', kind: 'system' },
  ];
}

/**
 * Fills `cfg.ssh` from ssh_config where peer.yaml did not set a key, records origins,
 * adds warnings/notes, then resolves the jump hosts (ssh.jump / ProxyJump, each completed
 * from ssh_config the same way) into `cfg.ssh.hops`. Throws SshConfigError (file:line
 * and the fix) on bad values and ProxyJump cycles.
 */
export function applySshConfig(
  cfg: PeerConfig,
  env: SshEnv,
  opts: ApplySshConfigOptions = {},
): SshConfigLookup | null {
  if (!peerYamlSsh.has(cfg)) peerYamlSsh.set(cfg, { ssh: copyTree(cfg.ssh), env, opts });
  const files = sshConfigFiles(cfg, env, opts);
  let look: SshConfigLookup | null = null;
  for (const ssh of [cfg.ssh, ...cfg.ssh.alternates]) {
    const base = copySsh(ssh);
    const l = files.length > 0 ? mergeSshConfig(ssh, cfg.warnings, env, files, opts) : null;
    look ??= l;
    ssh.hops = resolveHops(ssh, base, cfg.warnings, env, files, opts);
  }
  return look;
}

/** The ssh settings peer.yaml alone gave (before ssh_config), for refreshSshConfig. */
const peerYamlSsh = new WeakMap<
  PeerConfig,
  { ssh: PeerSsh; env: SshEnv; opts: ApplySshConfigOptions }
>();

/** copySsh of the first gateway and of each alternate. */
function copyTree(ssh: PeerSsh): PeerSsh {
  return { ...copySsh(ssh), alternates: ssh.alternates.map((a) => copySsh(a)) };
}

export interface SshRefresh {
  /** The settings ssh_config gives now (the gateways, each with its jump hosts). */
  ssh: PeerSsh;
  /** ssh_config remarks of this reading (unknown ProxyCommand and the like). */
  warnings: string[];
  /** The ssh_config files read. */
  files: string[];
}

/**
 * Reads ssh_config again for a config loadPeerConfig resolved (so an edited
 * ~/.ssh/config takes effect on the next connect, like a new `ssh` would): peer.yaml's
 * own values again, then ssh_config as it is now. Default identity files are kept to
 * those that exist, as loadPeerConfig does. Null when ssh_config was never applied to
 * `cfg` (ssh.config: false still re-reads nothing, and returns the same values). Throws
 * SshConfigError like loadPeerConfig.
 */
export function refreshSshConfig(cfg: PeerConfig): SshRefresh | null {
  const saved = peerYamlSsh.get(cfg);
  if (!saved) return null;
  const fresh: PeerConfig = { ...cfg, ssh: copyTree(saved.ssh), warnings: [] };
  peerYamlSsh.set(fresh, saved);
  applySshConfig(fresh, saved.env, saved.opts);
  for (const ssh of [fresh.ssh, ...fresh.ssh.alternates])
    if (!ssh.identityFilesExplicit) ssh.identityFiles = ssh.identityFiles.filter(existsSync);
  return {
    ssh: fresh.ssh,
    warnings: fresh.warnings,
    files: sshConfigFiles(fresh, saved.env, saved.opts).map((f) => f.path),
  };
}

/** Most jump hosts in one chain (OpenSSH has no limit; a longer chain is a mistake). */
export const MAX_HOPS = 8;

/**
 * The jump hosts of `ssh` (its `jump` list), first hop first. Like `ssh -J a,b gw`: the
 * first hop's own ProxyJump (from ssh_config) is followed, the later ones' are not. Each
 * hop starts from the peer-wide settings peer.yaml gives (`base`), its spec's user and
 * port, then ssh_config for its name. A name met twice on the way is a ProxyJump cycle.
 */
function resolveHops(
  ssh: PeerSsh,
  base: PeerSsh,
  warnings: string[],
  env: SshEnv,
  files: SshConfigFile[],
  opts: ApplySshConfigOptions,
): SshHop[] {
  const out: SshHop[] = [];
  const expand = (specs: string[], origin: string, path: string[]): void => {
    specs.forEach((spec, i) => {
      const parsed = parseJumpSpec(spec);
      if (!parsed)
        throw new SshConfigError(`${origin}: jump host "${spec}" is not [user@]host[:port]`);
      if (path.includes(parsed.host))
        throw new SshConfigError(
          `${origin}: ProxyJump cycle: ${[...path, parsed.host].join(' → ')}`,
        );
      const hop = hopSettings(base, parsed, spec, origin, env);
      if (files.length > 0) mergeSshConfig(hop, warnings, env, files, opts);
      if (i === 0 && hop.jump.length > 0)
        expand(hop.jump, hop.origins.jump ?? origin, [...path, parsed.host]);
      if (out.length >= MAX_HOPS)
        throw new SshConfigError(`${origin}: more than ${MAX_HOPS} jump hosts`);
      out.push({
        spec,
        origin,
        host: hop.host,
        port: hop.port,
        user: hop.user,
        identityFiles: hop.identityFilesExplicit
          ? hop.identityFiles
          : hop.identityFiles.filter((f) => existsSync(f)),
        agent: hop.agent,
        hostKey: hop.hostKey,
        keepaliveIntervalMs: hop.keepaliveIntervalMs,
        keepaliveCountMax: hop.keepaliveCountMax,
        connectTimeoutMs: hop.connectTimeoutMs,
        ciphers: hop.ciphers,
        typedAuth: hop.typedAuth,
      });
    });
  };
  expand(ssh.jump, ssh.origins.jump ?? 'ssh.jump', [ssh.alias]);
  return out;
}

/** Peer-wide keys a jump host takes from peer.yaml (the others are the target's own). */
const HOP_INHERITS = [
  'identity-files',
  'agent',
  'host-key.known-hosts',
  'host-key.accept-new',
  'keepalive-interval',
  'keepalive-count-max',
  'connect-timeout',
  'ciphers',
];

function hopSettings(
  base: PeerSsh,
  spec: JumpSpec,
  text: string,
  origin: string,
  env: SshEnv,
): PeerSsh {
  const hop = copySsh(base);
  hop.alias = spec.host;
  hop.host = spec.host;
  hop.port = spec.port ?? 22;
  hop.user = spec.user ?? env.user;
  hop.jump = [];
  hop.hostKey = { ...hop.hostKey, fingerprints: [] };
  delete hop.hostKey.alias;
  hop.given = [
    ...base.given.filter((k) => HOP_INHERITS.includes(k)),
    ...(spec.port ? ['port'] : []),
    ...(spec.user ? ['user'] : []),
  ];
  hop.origins = { host: `${origin} (${text})` };
  return hop;
}

/** The jump hosts of a config that loadPeerConfig did not resolve (library use): no ssh_config. */
export function jumpHostsOf(ssh: PeerSsh, env: SshEnv): SshHop[] {
  if (ssh.hops) return ssh.hops;
  if (ssh.jump.length === 0) return [];
  return resolveHops(ssh, copySsh(ssh), [], env, [], {});
}
