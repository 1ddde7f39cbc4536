/**
 * The client's connect step: from a peer config to a running Transport that carries PPP.
 * `remote.transport: ssh` (default) connects with ssh2 and runs `remote.command` in an
 * exec channel (or, with `remote.kind: gateway`, a direct-streamlocal channel to the
 * gateway's unix socket); `remote.transport: command` runs `remote.command` locally and speaks PPP
 * over its stdin/stdout (like pppd's `pty`). The runtime calls `connectTransport` once
 * per attempt and does not care which it got.
 */
import { existsSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { sshSettingValues } from '../config/describe.js';
import type { PeerConfig } from '../config/peer.js';
import { jumpHostsOf, refreshSshConfig } from '../config/ssh-settings.js';
import { CommandTransport } from './command.js';
import { TransportError } from './errors.js';
import { connectChain, hopLabel } from './hop-chain.js';
import { startOpenssh } from './openssh.js';
import { SshConnection, type SshConnectOptions, type SshPrompter } from './ssh.js';
import { openGatewayChannel } from './streamlocal.js';
import type { Transport } from './types.js';

/** Where the connect step writes what it did (the runtime's logger fits). */
export interface ConnectLog {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export interface ConnectHooks {
  log: ConnectLog;
  /**
   * Called when the far end is reached, before the PPP command starts, with the address
   * of the server the tunnel must not route into (ssh), or null (local command). May
   * throw to abort the attempt (the connection is then closed).
   */
  beforeStart?: (serverAddr: string | null) => Promise<void>;
  /**
   * Called once the TCP connection to the SSH server is up and the first SSH byte is on
   * its way (ssh2 without jump hosts only; see SshConnectOptions.onTcpConnected).
   */
  onTcpConnected?: () => void;
  /**
   * Asks for SSH passwords / keyboard-interactive answers (on every hop) when keys do not
   * do; `ts-vpn up` passes a terminal prompter when stdin is a TTY. Without it, a server
   * that wants a password refuses with a message saying so.
   */
  prompter?: SshPrompter;
  /** Gives the attempt up (close() while connecting): rejects with ABORTED at once. */
  signal?: AbortSignal;
}

export interface ConnectedTransport {
  transport: Transport;
  /** The SSH server's address (kept outside the tunnel by default-route), or null. */
  serverAddr: string | null;
}

/** A short name for the far end, for logs and status: `user@host:port` or `command: …`. */
export function describeRemote(cfg: PeerConfig): string {
  if (cfg.remote.transport === 'command') return `command ${JSON.stringify(cfg.remote.command)}`;
  const first = `${cfg.ssh.user}@${cfg.ssh.host}:${cfg.ssh.port}`;
  const others = cfg.ssh.alternates.map((a) => `${a.user}@${a.host}:${a.port}`);
  return others.length > 0 ? `${first} (then ${others.join(', ')})` : first;
}

/** Connects as `cfg` says; rejects with a TransportError (or what beforeStart threw). */
export function connectTransport(
  cfg: PeerConfig,
  hooks: ConnectHooks,
): Promise<ConnectedTransport> {
  return cfg.remote.transport === 'command' ? connectCommand(cfg, hooks) : connectSsh(cfg, hooks);
}

async function connectCommand(cfg: PeerConfig, hooks: ConnectHooks): Promise<ConnectedTransport> {
  await hooks.beforeStart?.(null);
  const transport = await CommandTransport.start({ command: cfg.remote.command });
  hooks.log.info(
    `command: started ${JSON.stringify(cfg.remote.command)} (pid ${transport.info.pid})`,
  );
  return { transport, serverAddr: null };
}

function ms(v: number): string {
  return `${Math.round(v)} ms`;
}

/** The ssh settings each config connected with last (ssh_config as read then). */
const lastSettings = new WeakMap<PeerConfig, PeerConfig['ssh']>();

/**
 * The ssh settings for this attempt. The first uses what loadPeerConfig resolved; every
 * later one (a reconnect) reads ssh_config again, so an edited ~/.ssh/config (HostName,
 * Port, IdentityFile, UserKnownHostsFile, ProxyJump…) takes effect without a restart,
 * as it would for a new `ssh`. A file that no longer reads keeps the settings from before
 * (with a warning). known_hosts files themselves are read on every connect anyway.
 */
function sshSettingsNow(cfg: PeerConfig, log: ConnectLog): PeerConfig['ssh'] {
  const last = lastSettings.get(cfg);
  if (!last) {
    for (const n of cfg.ssh.notes) log.debug(`ssh config: ${n}`);
    lastSettings.set(cfg, cfg.ssh);
    return cfg.ssh;
  }
  let r: ReturnType<typeof refreshSshConfig>;
  try {
    r = refreshSshConfig(cfg);
  } catch (err) {
    log.warn(
      `ssh config: cannot read it again (${(err as Error).message}); connecting with the settings from before`,
    );
    return last;
  }
  if (!r) return last;
  const changed = sshChanges(last, r.ssh);
  log.debug(
    `ssh config: read again for this connect: ${r.files.join(', ') || 'none (ssh.config: false)'}; ${
      changed.length > 0 ? `changed: ${changed.join('; ')}` : 'nothing changed'
    }`,
  );
  for (const w of r.warnings) if (!cfg.warnings.includes(w)) log.warn(w);
  lastSettings.set(cfg, r.ssh);
  return r.ssh;
}

/** `port 2222 -> 2223 [~/.ssh/config:3]` for each effective setting that differs. */
function sshChanges(a: PeerConfig['ssh'], b: PeerConfig['ssh']): string[] {
  const out: string[] = [];
  const pairs = [a, ...a.alternates].map((x, i) => [x, [b, ...b.alternates][i]] as const);
  for (const [i, [x, y]] of pairs.entries()) {
    if (!y) continue;
    const before = sshSettingValues(x);
    const after = sshSettingValues(y);
    for (const k of Object.keys(after)) {
      if (before[k] === after[k]) continue;
      const who = pairs.length > 1 ? `gateway ${i + 1}: ` : '';
      out.push(`${who}${k} ${before[k]} -> ${after[k]} [${y.origins[k] ?? 'default'}]`);
    }
  }
  return out;
}

/** Errors after which trying the next gateway cannot help the user less than stopping. */
const FINAL: ReadonlySet<string> = new Set([
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_MISMATCH',
  'HOST_KEY_REVOKED',
  'AUTH_FAILED',
  'IDENTITY_INVALID',
]);

/**
 * ssh.host may list several gateways: each is tried in order (the whole list on every
 * connect and reconnect); the first that connects and starts the remote command wins.
 * When all fail, the error lists each; its code is the first retryable one's (so the
 * reconnect loop keeps trying while some gateway is merely unreachable), else the first.
 */
async function connectSsh(cfg: PeerConfig, hooks: ConnectHooks): Promise<ConnectedTransport> {
  const { log } = hooks;
  if (cfg.ssh.client === 'openssh') return connectOpenssh(cfg, hooks);
  const current = sshSettingsNow(cfg, log);
  const targets = [current, ...current.alternates];
  if (targets.length === 1) return connectGateway(cfg, current, hooks);
  const failures: Array<{ label: string; err: TransportError }> = [];
  for (const [i, ssh] of targets.entries()) {
    const label = `gateway ${i + 1} of ${targets.length} (${ssh.alias})`;
    try {
      const c = await connectGateway(cfg, ssh, hooks);
      if (i > 0) log.info(`ssh: using ${label}`);
      return c;
    } catch (err) {
      if (!(err instanceof TransportError)) throw err; // beforeStart: closing
      if (err.code === 'ABORTED') throw err;
      failures.push({ label, err });
      if (i + 1 < targets.length)
        log.warn(`ssh: ${label}: ${err.message.split('\n')[0]}; trying ${targets[i + 1].alias}`);
    }
  }
  const pick = failures.find((f) => !FINAL.has(f.err.code)) ?? failures[0];
  throw new TransportError(
    pick.err.code,
    `no gateway could be reached:\n${failures.map((f) => `  ${f.label}: ${f.err.message}`).join('\n')}`,
    { cause: pick.err },
  );
}

/** `ssh.client: openssh`: the system ssh does the connection (no server address known). */
async function connectOpenssh(cfg: PeerConfig, hooks: ConnectHooks): Promise<ConnectedTransport> {
  await hooks.beforeStart?.(null);
  const transport = await startOpenssh(cfg);
  hooks.log.info(
    `ssh: started the system ssh: ${transport.info.command} (pid ${transport.info.pid})`,
  );
  return { transport, serverAddr: null };
}

/** One gateway (with its jump hosts): connect, check, authenticate, start the far end. */
async function connectGateway(
  cfg: PeerConfig,
  ssh: PeerConfig['ssh'],
  hooks: ConnectHooks,
): Promise<ConnectedTransport> {
  const { log } = hooks;
  let lastTried = '';
  const hops = jumpHostsOf(ssh, {
    home: homedir(),
    user: userInfo().username,
    hostname: hostname(),
    sshAuthSock: process.env.SSH_AUTH_SOCK,
  });
  // The passphrase is peer-wide (loadPeerConfig reads it into the first gateway's settings).
  const passphrase = (ssh.passphrase ?? cfg.ssh.passphrase)?.reveal();
  const logSsh = (m: string) => {
    const t = / trying (\S+)/.exec(m);
    if (t && !m.startsWith('jump host')) lastTried = t[1] === 'agent' ? 'publickey, agent' : t[1];
    if (/accept|added|warning/i.test(m)) log.warn(m);
    else log.debug(m);
  };
  for (const [i, h] of hops.entries())
    log.info(`ssh: ${hopLabel(i, hops.length, h)}: ${h.user}@${h.host}:${h.port}`);
  const target: SshConnectOptions = {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    // Default keys (not named anywhere) only where they exist, as loadPeerConfig keeps them.
    identities: (ssh.identityFilesExplicit
      ? ssh.identityFiles
      : ssh.identityFiles.filter((f) => existsSync(f))
    ).map((path) => ({ path, passphrase })),
    agent: ssh.agent,
    hostKey: ssh.hostKey,
    keepaliveIntervalMs: ssh.keepaliveIntervalMs,
    keepaliveCountMax: ssh.keepaliveCountMax,
    readyTimeoutMs: ssh.connectTimeoutMs,
    ciphers: ssh.ciphers,
    typedAuth: ssh.typedAuth,
    prompter: hooks.prompter,
    log: logSsh,
    onTcpConnected: hooks.onTcpConnected,
    signal: hooks.signal,
  };
  const conn =
    hops.length > 0
      ? await connectChain(hops, target, {
          common: { log: logSsh, prompter: hooks.prompter, signal: hooks.signal },
          passphrase,
        })
      : await SshConnection.connect(target);
  const info = conn.info;
  log.info(
    `ssh: connected in ${ms(info.handshakeMs ?? 0)} (${info.cipher}, host key ${info.hostKeyFingerprint} verified by ${info.hostKeyVerifiedBy})`,
  );
  log.info(
    `ssh: authenticated as ${ssh.user} (${lastTried || 'publickey'}) in ${ms(info.authMs ?? 0)}`,
  );
  // With jump hosts, the TCP connection goes to the first one: that is what stays outside.
  const serverAddr = conn.socketAddress ?? hops[0]?.host ?? ssh.host;
  try {
    await hooks.beforeStart?.(serverAddr);
    if (cfg.remote.kind === 'gateway') {
      const path = cfg.remote.gateway ?? '/run/ts-vpn/gateway.sock';
      const transport = await openGatewayChannel(conn, path, {
        clientRoutes: cfg.remote.clientRoutes,
      });
      log.debug(`ssh: channel to gateway ${path}`);
      return { transport, serverAddr };
    }
    const transport = await conn.exec(cfg.remote.command);
    log.debug(`ssh: running ${JSON.stringify(cfg.remote.command)}`);
    return { transport, serverAddr };
  } catch (err) {
    await conn.end();
    throw err;
  }
}
