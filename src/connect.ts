/**
 * connect(): what `ts-vpn up` does, for programs. A thin wrapper over the
 * runtime's ClientTunnel: SSH (host key checked) → remote `ts-vpn serve` or pppd
 * → PPP → TUN device, addresses, routes, DNS, keepalive and reconnect, exactly as
 * configured in peer.yaml. Needs root (CAP_NET_ADMIN) like `ts-vpn up`.
 *
 * For PPP without a TUN device (packets in your program), run a {@link PppLink}
 * over any Duplex, e.g. an ssh2 exec channel.
 *
 * The runtime (TUN via koffi, netlink, ssh2) is loaded on the first call only,
 * so programs that use just PppLink never load native modules.
 */

import { invalidOptions, PppLinkError, type PppLinkErrorCode } from './api/errors.js';
import type { PeerConfig } from './config/index.js';
import type { TunnelExit, TunnelPhase, TunnelStatus } from './runtime/client.js';
import type { FailureKind } from './runtime/errors.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * Log lines of the tunnel (the same text `ts-vpn up` prints, one line per call,
   * without newline). Default: silent — a library does not write to stderr.
   */
  log?: (line: string) => void;
  /** Also pass pppd-style packet logs (`sent [LCP ConfReq …]`) to `log`; default false. */
  debug?: boolean;
  /** Aborting before the tunnel is up cancels connect() (rejects with ABORTED); afterwards it closes the tunnel. */
  signal?: AbortSignal;
  /** Root of the per-tunnel state directory; default /run/ts-vpn (as `ts-vpn up`). */
  stateRoot?: string;
  /** Listen on the control socket so `ts-vpn status/down <name>` see this tunnel; default true. */
  controlSocket?: boolean;
}

/** Snapshot returned by {@link ConnectHandle.status} (the JSON `ts-vpn status` shows). */
export type ConnectStatus = TunnelStatus;

/** Events of the tunnel behind a {@link ConnectHandle} (the runtime's ClientTunnel). */
export interface ConnectTunnelEvents {
  /** Tunnel phase changed. */
  phase: [phase: TunnelPhase];
  /** The tunnel carries traffic (again, after a reconnect). */
  up: [status: TunnelStatus];
  /** The link went away; reconnecting or the end follows. */
  down: [reason: string];
  /** Torn down for good. */
  closed: [exit: TunnelExit];
}

/** The tunnel object behind a {@link ConnectHandle}: events and reconnect. */
export interface ConnectTunnel {
  /** Listen to a tunnel event. */
  on<K extends keyof ConnectTunnelEvents>(
    event: K,
    listener: (...args: ConnectTunnelEvents[K]) => void,
  ): this;
  /** Listen to a tunnel event once. */
  once<K extends keyof ConnectTunnelEvents>(
    event: K,
    listener: (...args: ConnectTunnelEvents[K]) => void,
  ): this;
  /** Remove a listener. */
  off<K extends keyof ConnectTunnelEvents>(
    event: K,
    listener: (...args: ConnectTunnelEvents[K]) => void,
  ): this;
  /** Drop the current SSH/PPP link and connect again at once (like SIGHUP for `ts-vpn up`). */
  reconnectNow(): void;
}

/** A running tunnel returned by {@link connect}. */
export interface ConnectHandle {
  /** The validated peer configuration in use. */
  readonly config: PeerConfig;
  /** Tunnel phase: connecting, negotiating, up, reconnecting, closing, closed. */
  readonly phase: TunnelPhase;
  /** Interface, addresses, routes, counters, keepalive, SSH details. */
  status(): ConnectStatus;
  /** LCP Terminate (bounded), routes and TUN removed, SSH closed. Idempotent. */
  close(reason?: string): Promise<TunnelExit>;
  /** Resolves once, after teardown, with how the tunnel ended (`kind: 'ok'` for close()). Never rejects. */
  readonly done: Promise<TunnelExit>;
  /** The underlying tunnel (the runtime's ClientTunnel): events phase, up, down, closed; reconnectNow(). */
  readonly tunnel: ConnectTunnel;
}

const KIND_CODE: Record<Exclude<FailureKind, 'ok'>, PppLinkErrorCode> = {
  config: 'CONFIG_INVALID',
  connect: 'CONNECT_FAILED',
  'host-key': 'HOST_KEY_REJECTED',
  auth: 'SSH_AUTH_FAILED',
  ppp: 'PPP_NEGOTIATION_FAILED',
  'link-lost': 'PPP_LINK_DOWN',
  system: 'SYSTEM_ERROR',
  busy: 'BUSY',
  internal: 'INTERNAL',
};

/** Maps runtime and config errors onto {@link PppLinkError} codes (the original is the `cause`). */
function toLinkError(err: unknown): PppLinkError {
  if (err instanceof PppLinkError) return err;
  const e = err as { name?: string; kind?: string; code?: string; message?: string };
  if (e?.name === 'TunnelError' && typeof e.kind === 'string' && e.kind in KIND_CODE) {
    return new PppLinkError(
      KIND_CODE[e.kind as Exclude<FailureKind, 'ok'>],
      e.message ?? String(err),
      { cause: err },
    );
  }
  if (e?.code === 'CONFIG_INVALID')
    return new PppLinkError('CONFIG_INVALID', e.message ?? 'invalid configuration', { cause: err });
  return new PppLinkError('INTERNAL', e?.message ?? String(err), { cause: err });
}

/**
 * Brings a tunnel up from a peer.yaml path or a parsed {@link PeerConfig}, like
 * `ts-vpn up`. Resolves once the tunnel carries traffic; rejects with a
 * {@link PppLinkError} (CONFIG_INVALID, CONNECT_FAILED, HOST_KEY_REJECTED,
 * SSH_AUTH_FAILED, PPP_NEGOTIATION_FAILED, SYSTEM_ERROR, BUSY, ABORTED) after
 * cleaning up. Needs root.
 *
 * @example
 * ```ts
 * const vpn = await connect('/etc/ts-vpn/office.yaml', { log: console.error });
 * console.log(vpn.status().local);
 * await vpn.close();
 * ```
 */
export async function connect(
  config: PeerConfig | string,
  opts: ConnectOptions = {},
): Promise<ConnectHandle> {
  if (opts === null || typeof opts !== 'object')
    throw invalidOptions('connect options must be an object');
  const signal = opts.signal ?? null;
  if (signal?.aborted) throw new PppLinkError('ABORTED', 'aborted before connecting');
  let cfg: PeerConfig;
  if (typeof config === 'string') {
    const { loadPeerConfig } = await import('./config/index.js');
    cfg = await loadPeerConfig(config, { stateRoot: opts.stateRoot }).catch((err: unknown) => {
      throw toLinkError(err);
    });
  } else if (
    config !== null &&
    typeof config === 'object' &&
    (config as PeerConfig).kind === 'peer'
  ) {
    cfg = config;
  } else {
    throw invalidOptions(
      'connect() takes a peer.yaml path or a PeerConfig (parsePeerConfig/loadPeerConfig)',
    );
  }
  const { ClientTunnel } = await import('./runtime/client.js');
  const { Logger } = await import('./runtime/logger.js');
  const log = opts.log;
  const logger = new Logger({
    debug: opts.debug ?? false,
    timestamps: false,
    sink: { write: (line) => log?.(line.replace(/\n$/, '')) },
    fields: { tunnel: cfg.name },
  });
  const tunnel = new ClientTunnel(cfg, {
    logger,
    ...(opts.stateRoot !== undefined ? { stateRoot: opts.stateRoot } : {}),
    ...(opts.controlSocket !== undefined ? { controlSocket: opts.controlSocket } : {}),
  });
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    void tunnel.close('Aborted');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  void tunnel.done.then(() => signal?.removeEventListener('abort', onAbort));
  try {
    await tunnel.start();
  } catch (err) {
    signal?.removeEventListener('abort', onAbort);
    if (aborted)
      throw new PppLinkError('ABORTED', 'aborted before the tunnel came up', { cause: err });
    throw toLinkError(err);
  }
  if (aborted) {
    await tunnel.done;
    throw new PppLinkError('ABORTED', 'aborted while the tunnel came up');
  }
  return {
    config: cfg,
    get phase() {
      return tunnel.phase;
    },
    status: () => tunnel.status(),
    close: (reason?: string) => tunnel.close(reason),
    done: tunnel.done,
    tunnel,
  };
}
