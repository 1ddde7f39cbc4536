/**
 * The connect step of `ts-vpn up`: from peer.yaml's `ssh:` and `remote:` to a
 * running remote command whose stdin/stdout carry PPP. The one place where the
 * client chooses and opens its transport (SSH with real host-key checking today);
 * everything after it sees a Transport.
 */
import type { PeerConfig } from '../config/index.js';
import { SshConnection, type Transport } from '../transport/index.js';
import { TunnelError, toTunnelError } from './errors.js';
import type { Logger } from './logger.js';

const ms = (t: number) => `${Math.round(t)} ms`;

export interface ConnectedTransport {
  transport: Transport;
  /** Address of the server we connected to (its host route is kept off the tunnel). */
  serverAddr: string;
  cipher: string | null;
  hostKey: string | null;
}

/**
 * Connects, authenticates (host key verified first), runs `remote.command`.
 * `closing()` is asked after the handshake: true ends the connection (start-up cancelled).
 * `beforeExec` runs once the server address is known (the client watches the route to it).
 */
export async function connectTransport(
  cfg: PeerConfig,
  log: Logger,
  closing: () => boolean,
  beforeExec: (serverAddr: string) => Promise<void>,
): Promise<ConnectedTransport> {
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
      if (t) lastTried = t[1] === 'agent' ? 'publickey, agent' : t[1]!;
      if (/accept|added|warning/i.test(m)) log.warn(m);
      else log.debug(m);
    },
  }).catch((err) => {
    throw toTunnelError(err);
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
  if (closing()) {
    await conn.end();
    throw new TunnelError('internal', 'closed');
  }
  await beforeExec(serverAddr);
  let transport: Transport;
  try {
    transport = await conn.exec(cfg.remote.command);
  } catch (err) {
    await conn.end();
    throw toTunnelError(err);
  }
  log.debug(`ssh: running ${JSON.stringify(cfg.remote.command)}`);
  return {
    transport,
    serverAddr,
    cipher: info.cipher ?? null,
    hostKey: info.hostKeyFingerprint ?? null,
  };
}
