/**
 * The client's connect step: from a peer config to a running Transport that carries PPP.
 * `remote.transport: ssh` (default) connects with ssh2 and runs `remote.command` in an
 * exec channel (or, with `remote.kind: gateway`, a direct-streamlocal channel to the
 * gateway's unix socket); `remote.transport: command` runs `remote.command` locally and speaks PPP
 * over its stdin/stdout (like pppd's `pty`). The runtime calls `connectTransport` once
 * per attempt and does not care which it got.
 */
import type { PeerConfig } from '../config/peer.js';
import { CommandTransport } from './command.js';
import { SshConnection } from './ssh.js';
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
}

export interface ConnectedTransport {
  transport: Transport;
  /** The SSH server's address (kept outside the tunnel by default-route), or null. */
  serverAddr: string | null;
}

/** A short name for the far end, for logs and status: `user@host:port` or `command: …`. */
export function describeRemote(cfg: PeerConfig): string {
  if (cfg.remote.transport === 'command') return `command ${JSON.stringify(cfg.remote.command)}`;
  return `${cfg.ssh.user}@${cfg.ssh.host}:${cfg.ssh.port}`;
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

/** Configs whose ssh_config notes were logged already (once per run, not per attempt). */
const notesLogged = new WeakSet<PeerConfig>();

async function connectSsh(cfg: PeerConfig, hooks: ConnectHooks): Promise<ConnectedTransport> {
  const { log } = hooks;
  if (!notesLogged.has(cfg)) {
    notesLogged.add(cfg);
    for (const n of cfg.ssh.notes) log.debug(`ssh config: ${n}`);
  }
  let lastTried = '';
  const conn = await SshConnection.connect({
    host: cfg.ssh.host,
    port: cfg.ssh.port,
    user: cfg.ssh.user,
    identities: cfg.ssh.identityFiles.map((path) => ({
      path,
      passphrase: cfg.ssh.passphrase?.reveal(),
    })),
    agent: cfg.ssh.agent,
    hostKey: cfg.ssh.hostKey,
    keepaliveIntervalMs: cfg.ssh.keepaliveIntervalMs,
    keepaliveCountMax: cfg.ssh.keepaliveCountMax,
    readyTimeoutMs: cfg.ssh.connectTimeoutMs,
    ciphers: cfg.ssh.ciphers,
    log: (m) => {
      const t = / trying (\S+)/.exec(m);
      if (t) lastTried = t[1] === 'agent' ? 'publickey, agent' : t[1];
      if (/accept|added|warning/i.test(m)) log.warn(m);
      else log.debug(m);
    },
  });
  const info = conn.info;
  log.info(
    `ssh: connected in ${ms(info.handshakeMs ?? 0)} (${info.cipher}, host key ${info.hostKeyFingerprint} verified by ${info.hostKeyVerifiedBy})`,
  );
  log.info(
    `ssh: authenticated as ${cfg.ssh.user} (${lastTried || 'publickey'}) in ${ms(info.authMs ?? 0)}`,
  );
  const serverAddr =
    (conn.client as unknown as { _sock?: { remoteAddress?: string } })._sock?.remoteAddress ??
    cfg.ssh.host;
  try {
    await hooks.beforeStart?.(serverAddr);
    if (cfg.remote.kind === 'gateway') {
      const path = cfg.remote.gateway ?? '/run/ts-vpn/gateway.sock';
      const transport = await openGatewayChannel(conn, path);
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
