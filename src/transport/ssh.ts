/**
 * SSH transport: one ssh2 connection (directly or through a jump host's forwarded
 * channel), host key checked like OpenSSH before authentication (host-key.ts), the
 * client authenticated (ssh-auth.ts), then one `exec` channel without a pty (8-bit
 * clean) carrying PPP (ssh-channel.ts). Connect errors are worded in ssh-errors.ts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig, NegotiatedAlgorithms } from 'ssh2';
import { ssh2 } from '../native-modules.js';
import { TransportError } from './errors.js';
import {
  type HostKeyPolicy,
  type HostKeyVerdict,
  hostKeyAlgorithmsFor,
  verifyHostKey,
} from './host-key.js';
import { planAuth, type SshIdentity, type SshPrompter, type TypedAuth } from './ssh-auth.js';
import { SshTransport } from './ssh-channel.js';
import { mapConnectError } from './ssh-errors.js';
import type { TransportInfo } from './types.js';

export type { SshIdentity, SshPrompter, TypedAuth } from './ssh-auth.js';
export { type SshChannelOwner, SshTransport } from './ssh-channel.js';

export interface SshConnectOptions {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /**
   * Private key files. Explicit files must load (else IDENTITY_INVALID). When omitted,
   * ~/.ssh/id_ed25519, id_ecdsa and id_rsa are used if they exist and load without a passphrase.
   */
  identities?: Array<string | SshIdentity>;
  /** ssh-agent socket; default `$SSH_AUTH_SOCK`; false disables the agent. */
  agent?: string | false;
  hostKey?: Partial<HostKeyPolicy>;
  /** Keepalive probe interval (ms, 0 = off; default 15000) and unanswered probes before the link is declared dead (default 3). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Limit for TCP connect + key exchange + authentication (ms, default 20000). */
  readyTimeoutMs?: number;
  /**
   * Gives the attempt up when it fires (Ctrl-C while a server is slow to answer): the
   * connection is destroyed at once and connect() rejects with ABORTED.
   */
  signal?: AbortSignal;
  /** Cipher preference, put in front of ssh2's defaults. Default: AES-GCM first. */
  ciphers?: string[];
  /**
   * Reach the server through this (authenticated) connection's forwarded channel
   * (`direct-tcpip`) instead of TCP: a jump host. The new connection ends `via` when it ends.
   */
  via?: SshConnection;
  /** Names this connection in messages (e.g. `jump host 1 of 2 (bastion)`). */
  label?: string;
  /**
   * Asks for a password / keyboard-interactive answers when keys do not do (a terminal;
   * `ts-vpn up` passes one when stdin is a TTY). Without it those methods are never tried.
   */
  prompter?: SshPrompter;
  /** Which typed methods may be asked and how often (default both, 3 rounds each). */
  typedAuth?: TypedAuth;
  /** Notices for the user's log (accept-new, auth attempts, skipped identities). Never secrets. */
  log?: (msg: string) => void;
  /** ssh2 protocol debug output. */
  debug?: (msg: string) => void;
  /**
   * Called once the TCP connection is up, right after ssh2 queued its identification
   * line (the first SSH byte): start-up work that need not delay that byte starts here
   * (`ts-vpn up`: the route snapshot, the TUN/netlink code), while the server answers.
   */
  onTcpConnected?: () => void;
}

export interface SshExecOptions {
  /** ms to wait for the remote command to finish after our EOF before closing the channel (default 1000). */
  closeGraceMs?: number;
}

export const DEFAULT_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
];

/** Opens a `direct-tcpip` channel to host:port through `via` (rejects with CONNECT_FAILED). */
function forwardThrough(via: SshConnection, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) =>
      reject(
        new TransportError(
          'CONNECT_FAILED',
          `ssh: connect to host ${host} port ${port} through ${via.label}: ${err.message}`,
          { cause: err },
        ),
      );
    try {
      via.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) =>
        err ? fail(err) : resolve(channel),
      );
    } catch (err) {
      fail(err as Error);
    }
  });
}

/** An authenticated SSH connection. */
export class SshConnection {
  private ending = false;
  private constructor(
    readonly client: Client,
    readonly info: TransportInfo,
    private readonly lastError: { err: Error | null },
    /** The connection this one runs through (a jump host), or null for plain TCP. */
    readonly via: SshConnection | null,
    /** How messages name this connection: `user@host:port` or the jump host label. */
    readonly label: string,
  ) {}

  /** The TCP peer address of the first connection in the chain (what must stay outside a tunnel). */
  get socketAddress(): string | undefined {
    if (this.via) return this.via.socketAddress;
    return (this.client as unknown as { _sock?: { remoteAddress?: string } })._sock?.remoteAddress;
  }

  /** Connects, verifies the host key, authenticates. Rejects with a TransportError. */
  static async connect(opts: SshConnectOptions): Promise<SshConnection> {
    const log = opts.log ?? (() => {});
    const port = opts.port ?? 22;
    const remote = `${opts.user}@${opts.host}:${port}`;
    const label = opts.label ?? remote;
    const sock = opts.via ? await forwardThrough(opts.via, opts.host, port) : undefined;
    const agentSock =
      opts.agent === false ? undefined : (opts.agent ?? process.env.SSH_AUTH_SOCK) || undefined;
    const policy: HostKeyPolicy = {
      knownHostsFiles: opts.hostKey?.knownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts')],
      alias: opts.hostKey?.alias,
      hashNew: opts.hostKey?.hashNew,
      acceptNew: opts.hostKey?.acceptNew ?? false,
      fingerprints: opts.hostKey?.fingerprints ?? [],
    };

    const client = new (ssh2().Client)();
    const asker = opts.prompter;
    // While someone types, ssh2's ready timer (connect-timeout) must not run out; the
    // server's LoginGraceTime still bounds the wait.
    const prompter: SshPrompter | undefined = asker && {
      ask: (q, echo) => {
        clearTimeout((client as unknown as { _readyTimeout?: NodeJS.Timeout })._readyTimeout);
        return asker.ask(q, echo);
      },
      show: (t) => asker.show(t),
    };
    const auth = planAuth({
      user: opts.user,
      host: opts.host,
      remote,
      prompter,
      typedAuth: opts.typedAuth,
      identities: opts.identities,
      agentSock,
      log,
    });

    const t0 = performance.now();
    const info: TransportInfo = { kind: 'ssh', remote };
    let tConnect = 0;
    let tKex = 0;
    let hostKeyError: TransportError | null = null;
    let verdict: HostKeyVerdict | null = null;
    let stage: 'tcp connect' | 'key exchange' | 'authentication' = 'tcp connect';
    const lastError = { err: null as Error | null };

    const cfg: ConnectConfig = {
      host: opts.host,
      port,
      ...(sock ? { sock: sock as unknown as ConnectConfig['sock'] } : {}),
      username: opts.user,
      authHandler: auth.handler,
      readyTimeout: opts.readyTimeoutMs ?? 20_000,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      algorithms: {
        cipher: { prepend: opts.ciphers ?? DEFAULT_CIPHERS },
        serverHostKey: hostKeyAlgorithmsFor(opts.host, port, policy, (m) =>
          log(`ssh ${remote}: ${m}`),
        ),
      } as unknown as ConnectConfig['algorithms'],
      hostVerifier: (key: Buffer) => {
        try {
          verdict = verifyHostKey(opts.host, port, key, policy, (m) => log(`ssh ${remote}: ${m}`));
          return true;
        } catch (err) {
          hostKeyError =
            err instanceof TransportError
              ? err
              : new TransportError(
                  'SSH_ERROR',
                  `host key check failed: ${(err as Error).message}`,
                  { cause: err },
                );
          return false;
        }
      },
      debug: opts.debug,
    };

    return new Promise<SshConnection>((resolve, reject) => {
      let settled = false;
      const onAbort = () =>
        fail(new TransportError('ABORTED', `ssh ${remote}: given up during ${stage}`));
      const fail = (e: TransportError) => {
        if (settled) return;
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors after we gave up
        client.end();
        client.destroy();
        reject(e);
      };
      client.on('connect', () => {
        tConnect = performance.now();
        stage = 'key exchange';
        // ssh2 writes its identification line in a microtask after this event: the hook
        // runs after it (setImmediate), so that line is never held up.
        if (opts.onTcpConnected) setImmediate(opts.onTcpConnected);
      });
      client.on('handshake', (neg: NegotiatedAlgorithms) => {
        if (tKex !== 0) return; // re-keying
        tKex = performance.now();
        stage = 'authentication';
        info.cipher = neg.cs.cipher;
        info.mac = neg.cs.mac;
        info.kex = neg.kex;
        info.hostKeyAlgorithm = neg.serverHostKey;
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (err.level === 'agent') {
          log(`ssh ${remote}: agent ${agentSock}: ${err.message}`);
          return;
        }
        if (settled) {
          lastError.err = err;
          return;
        }
        fail(
          mapConnectError(err, {
            host: opts.host,
            readyTimeoutMs: opts.readyTimeoutMs,
            port,
            remote,
            stage,
            hostKeyError,
            tried: auth.tried,
            serverAllows: auth.serverAllows(),
            prompted: opts.prompter !== undefined,
            cancelled: auth.cancelled(),
            agentSock,
          }),
        );
      });
      client.on('close', () => {
        if (!settled)
          fail(new TransportError('SSH_ERROR', `ssh ${remote}: connection closed during ${stage}`));
      });
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        // Each SSH message carries whole IP packets (pings, TCP ACKs): never hold one back
        // behind Nagle's algorithm (bench/tunnel/RESULTS.md).
        client.setNoDelay(true);
        const tReady = performance.now();
        info.connectMs = round(tConnect - t0);
        info.handshakeMs = round(tKex - t0);
        info.authMs = round(tReady - tKex);
        info.serverSoftware = (client as unknown as { _remoteVer?: string })._remoteVer;
        if (verdict) {
          info.hostKeyFingerprint = verdict.fingerprint;
          info.hostKeyVerifiedBy = verdict.verifiedBy;
        }
        const conn = new SshConnection(client, info, lastError, opts.via ?? null, label);
        if (opts.via) {
          const via = opts.via;
          // The hop below went away: say so when this connection's loss is reported.
          via.client.once('close', () => {
            if (!conn.ending)
              lastError.err ??= new Error(
                `${via.label} closed${via.lastError.err ? `: ${via.lastError.err.message}` : ''}`,
              );
          });
        }
        resolve(conn);
      });
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        client.connect(cfg);
      } catch (err) {
        fail(
          new TransportError('SSH_ERROR', `ssh ${remote}: ${(err as Error).message}`, {
            cause: err,
          }),
        );
      }
    });
  }

  /**
   * Runs `command` at the far end without a pty. With `ownsConnection` (default) the
   * connection is ended when the transport closes.
   */
  exec(
    command: string,
    opts: SshExecOptions & { ownsConnection?: boolean } = {},
  ): Promise<SshTransport> {
    return new Promise((resolve, reject) => {
      const onErr = (err: Error) =>
        reject(
          new TransportError(
            'EXEC_FAILED',
            `ssh ${this.info.remote}: cannot run ${JSON.stringify(command)}: ${err.message}`,
            { cause: err },
          ),
        );
      try {
        this.client.exec(command, (err, channel) => {
          if (err) return onErr(err);
          resolve(
            new SshTransport(
              this,
              channel,
              command,
              opts.ownsConnection ?? true,
              opts.closeGraceMs ?? 1000,
              this.lastError,
            ),
          );
        });
      } catch (err) {
        onErr(err as Error);
      }
    });
  }

  /** Ends the connection (then the jump hosts below it); resolves when all are closed. */
  async end(timeoutMs = 2000): Promise<void> {
    this.ending = true;
    await this.endOwn(timeoutMs);
    if (this.via) await this.via.end(timeoutMs);
  }

  private endOwn(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const sock = (this.client as unknown as { _sock?: { destroyed?: boolean } })._sock;
      if (!sock || sock.destroyed) return resolve();
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, timeoutMs);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Connect + exec in one step; the transport owns the connection. */
export async function openSshTransport(
  opts: SshConnectOptions & SshExecOptions & { command: string },
): Promise<SshTransport> {
  const conn = await SshConnection.connect(opts);
  try {
    return await conn.exec(opts.command, { closeGraceMs: opts.closeGraceMs });
  } catch (err) {
    await conn.end();
    throw err;
  }
}
