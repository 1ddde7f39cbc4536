/**
 * SSH transport: one ssh2 connection, host key checked like OpenSSH before
 * authentication, one `exec` channel without a pty (8-bit clean) carrying PPP.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type {
  AuthenticationType,
  AuthHandlerMiddleware,
  Client,
  ClientChannel,
  ConnectConfig,
  NegotiatedAlgorithms,
  ParsedKey,
} from 'ssh2';
import { ssh2 } from '../native-modules.js';
import { asBuffer, BaseTransport, LineSplitter } from './base.js';
import { TransportError } from './errors.js';
import {
  fingerprintSha256,
  type HostKeyPolicy,
  type HostKeyVerdict,
  hostKeyAlgorithmsFor,
  keyTypeLabel,
  verifyHostKey,
} from './host-key.js';
import type { CloseReason, TransportInfo } from './types.js';

export interface SshIdentity {
  path: string;
  /** Never logged. */
  passphrase?: string;
}

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
  /** Cipher preference, put in front of ssh2's defaults. Default: AES-GCM first. */
  ciphers?: string[];
  /**
   * Reach the server through this (authenticated) connection's forwarded channel
   * (`direct-tcpip`) instead of TCP: a jump host. The new connection ends `via` when it ends.
   */
  via?: SshConnection;
  /** Names this connection in messages (e.g. `jump host 1 of 2 (bastion)`). */
  label?: string;
  /** Notices for the user's log (accept-new, auth attempts, skipped identities). Never secrets. */
  log?: (msg: string) => void;
  /** ssh2 protocol debug output. */
  debug?: (msg: string) => void;
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

interface LoadedIdentity {
  label: string;
  key: ParsedKey;
}

function loadIdentities(opts: SshConnectOptions, log: (m: string) => void): LoadedIdentity[] {
  const out: LoadedIdentity[] = [];
  const explicit = opts.identities !== undefined;
  const list: SshIdentity[] = explicit
    ? opts.identities!.map((i) => (typeof i === 'string' ? { path: i } : i))
    : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => ({ path: join(homedir(), '.ssh', n) }));
  for (const id of list) {
    let data: Buffer;
    try {
      data = readFileSync(id.path);
    } catch (err) {
      if (!explicit) continue;
      throw new TransportError(
        'IDENTITY_INVALID',
        `Cannot read identity file ${id.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const parsed = ssh2().utils.parseKey(data, id.passphrase);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key || !key.isPrivateKey()) {
      const why = key instanceof Error ? key.message : 'not a private key';
      if (!explicit) {
        log(`skipping identity ${id.path}: ${why}`);
        continue;
      }
      throw new TransportError('IDENTITY_INVALID', `Cannot load identity file ${id.path}: ${why}`);
    }
    const fp = fingerprintSha256(key.getPublicSSH());
    out.push({ label: `publickey ${id.path} (${keyTypeLabel(key.type)} ${fp})`, key });
  }
  return out;
}

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
    const identities = loadIdentities(opts, log);
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

    // Auth plan: every identity, then the agent, each tried once in order.
    type Method = { label: string; method: 'publickey' | 'agent'; make: () => object };
    const plan: Method[] = identities.map((id) => ({
      label: id.label,
      method: 'publickey' as const,
      make: () => ({ type: 'publickey', username: opts.user, key: id.key }),
    }));
    if (agentSock) {
      plan.push({
        label: `agent ${agentSock}`,
        method: 'agent',
        make: () => ({ type: 'agent', username: opts.user, agent: agentSock }),
      });
    }
    const tried: string[] = [];
    let serverAllows: AuthenticationType[] | null = null;

    const client = new (ssh2().Client)();
    const t0 = performance.now();
    const info: TransportInfo = { kind: 'ssh', remote };
    let tConnect = 0;
    let tKex = 0;
    let hostKeyError: TransportError | null = null;
    let verdict: HostKeyVerdict | null = null;
    let stage: 'tcp connect' | 'key exchange' | 'authentication' = 'tcp connect';
    const lastError = { err: null as Error | null };

    const authHandler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
      if (authsLeft) serverAllows = authsLeft;
      while (plan.length > 0) {
        const m = plan.shift()!;
        if (authsLeft && !authsLeft.includes('publickey')) continue;
        tried.push(m.label);
        log(`ssh ${remote}: trying ${m.label}`);
        next(m.make() as Parameters<typeof next>[0]);
        return;
      }
      next(false as unknown as Parameters<typeof next>[0]);
    };

    const cfg: ConnectConfig = {
      host: opts.host,
      port,
      ...(sock ? { sock: sock as unknown as ConnectConfig['sock'] } : {}),
      username: opts.user,
      authHandler,
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
      const fail = (e: TransportError) => {
        if (settled) return;
        settled = true;
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors after we gave up
        client.end();
        client.destroy();
        reject(e);
      };
      client.on('connect', () => {
        tConnect = performance.now();
        stage = 'key exchange';
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
            opts,
            port,
            remote,
            stage,
            hostKeyError,
            tried,
            serverAllows,
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

function mapConnectError(
  err: Error & { level?: string; code?: string },
  ctx: {
    opts: SshConnectOptions;
    port: number;
    remote: string;
    stage: string;
    hostKeyError: TransportError | null;
    tried: string[];
    serverAllows: AuthenticationType[] | null;
    agentSock: string | undefined;
  },
): TransportError {
  if (ctx.hostKeyError) return ctx.hostKeyError;
  const where = `connect to host ${ctx.opts.host} port ${ctx.port}`;
  if (err.level === 'client-socket' || err.level === 'client-dns') {
    switch (err.code) {
      case 'ECONNREFUSED':
        return new TransportError('CONNECT_REFUSED', `ssh: ${where}: Connection refused`, {
          cause: err,
        });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NONAME':
      case 'EAI_NODATA':
        return new TransportError(
          'DNS',
          `ssh: Could not resolve hostname ${ctx.opts.host}: ${err.message}`,
          { cause: err },
        );
      case 'ETIMEDOUT':
        return new TransportError('CONNECT_TIMEOUT', `ssh: ${where}: Connection timed out`, {
          cause: err,
        });
      default:
        if (err.level === 'client-dns')
          return new TransportError(
            'DNS',
            `ssh: Could not resolve hostname ${ctx.opts.host}: ${err.message}`,
            { cause: err },
          );
        return new TransportError('CONNECT_FAILED', `ssh: ${where}: ${err.message}`, {
          cause: err,
        });
    }
  }
  if (err.level === 'client-timeout') {
    return new TransportError(
      'CONNECT_TIMEOUT',
      `ssh: ${where}: timed out after ${ctx.opts.readyTimeoutMs ?? 20_000} ms during ${ctx.stage}`,
      { cause: err },
    );
  }
  if (err.level === 'client-authentication') {
    const allows = ctx.serverAllows ? ctx.serverAllows.join(',') : 'unknown';
    const tried =
      ctx.tried.length > 0
        ? ctx.tried.join('; ')
        : 'nothing (no identity files loaded and no ssh-agent)';
    const wantsPassword =
      ctx.serverAllows !== null &&
      !ctx.serverAllows.includes('publickey') &&
      ctx.serverAllows.some((m) => m === 'password' || m === 'keyboard-interactive');
    return new TransportError(
      'AUTH_FAILED',
      `${ctx.remote}: Permission denied (${allows}). Tried: ${tried}.${
        wantsPassword
          ? ' The server asks for a password (or keyboard-interactive) only; ts-vpn does not prompt for SSH passwords: authorize a key for this user on the server'
          : ''
      }`,
      { cause: err },
    );
  }
  return new TransportError('SSH_ERROR', `ssh ${ctx.remote}: ${err.message}`, { cause: err });
}

/** The exec channel as a Transport. Create with `SshTransport.open` or `SshConnection.exec`. */
export class SshTransport extends BaseTransport {
  readonly info: TransportInfo;
  private flowAttached = false;
  private localClose = false;
  private closing: Promise<void> | null = null;
  private exit: { code?: number; signal?: string } | null = null;
  private channelClosed = false;
  private connClosed = false;
  private readonly stderrLines: LineSplitter;

  /** Connect + exec in one step; the transport owns the connection. */
  static async open(
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

  constructor(
    readonly connection: SshConnection,
    private readonly channel: ClientChannel,
    command: string,
    private readonly ownsConnection: boolean,
    private readonly closeGraceMs: number,
    private readonly connError: { err: Error | null },
  ) {
    super();
    this.info = { ...connection.info, command };
    this.stderrLines = new LineSplitter((l) => this.emitStderr(l));
    channel.stderr.on('data', (d: Buffer) => this.stderrLines.push(d));
    channel.on('drain', () => this.emit('drain'));
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit =
        code !== null && code !== undefined
          ? { code }
          : { signal: signal ? (signal.startsWith('SIG') ? signal : `SIG${signal}`) : 'unknown' };
      // The channel only closes once its readable side is consumed: drain what is left
      // (to the data listeners if any, else nowhere).
      this.channel.resume();
    });
    channel.on('error', (err: Error) => {
      this.connError.err ??= err;
    });
    channel.on('close', () => {
      this.channelClosed = true;
      this.stderrLines.flush();
      this.onChannelClose();
    });
    const client = connection.client;
    client.on('close', () => {
      this.connClosed = true;
      if (!this.channelClosed) this.stderrLines.flush();
      this.finish(this.reasonNow(true));
    });
  }

  private onChannelClose(): void {
    if (this.ownsConnection && !this.connClosed) {
      // Finish once the connection is gone too, so a caller that reconnects never overlaps.
      void this.connection.end().then(() => this.finish(this.reasonNow(false)));
    } else {
      this.finish(this.reasonNow(false));
    }
  }

  private reasonNow(connectionLost: boolean): CloseReason {
    const exitPart = this.exit
      ? this.exit.code !== undefined
        ? { exitCode: this.exit.code }
        : { signal: this.exit.signal }
      : {};
    if (this.localClose) return { code: 'LOCAL', message: 'closed locally', ...exitPart };
    if (this.exit && this.channelClosed) {
      const how =
        this.exit.code !== undefined
          ? `with code ${this.exit.code}`
          : `on signal ${this.exit.signal}`;
      return {
        code: 'EXIT',
        message: `remote command exited ${how}${this.lastStderr()}`,
        ...exitPart,
      };
    }
    if (connectionLost && !this.channelClosed) {
      const e = this.connError.err;
      const msg = e
        ? /keepalive/i.test(e.message)
          ? `SSH connection lost: no reply to keepalive (${this.info.remote})`
          : `SSH connection lost: ${e.message}`
        : `SSH connection closed by ${this.info.remote}`;
      return { code: 'SSH_CLOSED', message: msg, ...(e ? { error: e } : {}) };
    }
    return { code: 'EOF', message: `remote closed the channel${this.lastStderr()}` };
  }

  write(chunk: Uint8Array): boolean {
    if (this.closeReason || this.closing || !this.channel.writable) return false;
    this.stats.writes++;
    this.stats.bytesOut += chunk.length;
    const ok = this.channel.write(asBuffer(chunk));
    if (!ok) this.stats.backpressured++;
    return ok;
  }

  protected startFlow(): void {
    if (!this.flowAttached) {
      this.flowAttached = true;
      this.channel.on('data', (d: Buffer) => this.emitData(d));
    }
    this.channel.resume();
  }

  protected stopFlow(): void {
    this.channel.pause();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (!this.closeReason) this.localClose = true;
    this.closing = (async () => {
      if (!this.channelClosed && !this.connClosed) {
        // EOF (after queued data), give the remote command a moment to exit, then close.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.closeGraceMs);
          this.channel.once('close', done);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          try {
            this.channel.resume(); // see 'exit': unread data would hold the close back
            this.channel.end();
          } catch {
            done();
          }
        });
        if (!this.channelClosed) {
          try {
            this.channel.close();
          } catch {
            /* connection already gone */
          }
        }
      }
      if (this.ownsConnection) await this.connection.end();
      this.finish(this.reasonNow(false));
    })();
    return this.closing;
  }
}
