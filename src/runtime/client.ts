/**
 * ClientTunnel: `ts-vpn up` as a reusable object (the CLI and the library's
 * `connect()` both wrap it). No process.exit, no signal handlers here.
 *
 *   SSH connect (host key checked before auth) → exec the remote command (no pty)
 *   → LinkSession (src/link) → on ipv4-up: TUN, address, MTU, up, routes, DNS, up hook
 *   → packets both ways until close(), `ts-vpn down` or link loss
 *   → down hook, LCP Terminate (bounded), routes removed, TUN closed, SSH closed, state released
 *     (client-teardown.ts).
 *
 * Staying up: LCP echo failure, SSH keepalive timeout, the transport closing, the far
 * end exiting and a change of the route to the SSH server (rtnetlink watch) all end
 * the link the same way; the ReconnectPolicy then decides (holdoff, capped exponential
 * backoff with jitter, max-fail). While reconnecting the TUN device and routes stay
 * (packets are dropped and counted); the previous local address is asked for again
 * and the interface is reconfigured only if the far end assigns another one.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { PeerConfig } from '../config/index.js';
import { connectTransport, describeRemote, type SshPrompter } from '../transport/index.js';
import { AttemptBackground } from './attempt-background.js';
import { TunnelHooks } from './client-hooks.js';
import { ClientLink, type ClientLinkHost } from './client-link.js';
import { ClientNetwork } from './client-network.js';
import type { ClientTunnelEvents, ClientTunnelOptions } from './client-options.js';
import { cleanStaleRun, lockState, writeState } from './client-state.js';
import { LinkTotals, tunnelStatus } from './client-status.js';
import { ClientTeardown, type TunnelExit } from './client-teardown.js';
import { type ControlRequest, ControlServer } from './control.js';
import { type FailureKind, TunnelError, toTunnelError } from './errors.js';
import { Logger } from './logger.js';
import { type ReconnectHost, ReconnectLoop } from './reconnect-loop.js';
import { RouteGuard } from './route-guard.js';
import type { SdNotifier } from './sd-notify.js';
import { ServerRouteWatch } from './server-watch.js';
import { DEFAULT_STATE_ROOT, TunnelStateDir } from './state-dir.js';
import type { TunnelPhase, TunnelStatus } from './status-format.js';

export type { ClientTunnelEvents, ClientTunnelOptions } from './client-options.js';
export type { TunnelExit } from './client-teardown.js';
export type { TrafficCounters, TunnelPhase, TunnelStatus } from './status-format.js';

const ms = (t: number) => `${Math.round(t)} ms`;
const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;

export class ClientTunnel
  extends EventEmitter<ClientTunnelEvents>
  implements ClientLinkHost, ReconnectHost
{
  readonly config: PeerConfig;
  readonly log: Logger;
  /** Resolves once, after teardown, with how the tunnel ended. Never rejects. */
  readonly done: Promise<TunnelExit>;
  private readonly stateDir: TunnelStateDir;
  private readonly useControl: boolean;
  private readonly retryStart: boolean;
  private readonly sshPrompter: SshPrompter | undefined;
  private readonly sd: SdNotifier | null;
  private readonly reconnect: ReconnectLoop;
  private readonly routeWatch: ServerRouteWatch | null;
  /** Device, data path, routes, DNS; they stay across reconnects. */
  private readonly net: ClientNetwork;
  /** Counters of links that ended (the current link's engine adds its own). */
  private readonly totals = new LinkTotals();
  private readonly hooks: TunnelHooks;
  private control: ControlServer | null = null;
  private phaseValue: TunnelPhase = 'idle';
  private link: ClientLink | null = null;
  private linkSeq = 0;
  /** close(), fail() and the teardown; owns `closing`. */
  private readonly teardown: ClientTeardown;
  private started = false;
  private locked = false;
  private everUpValue = false;
  private readySent = false;
  private startedAt = 0;
  private startedWall = new Date();
  private upSince: number | null = null;
  private lastRttMs: number | null = null;
  private readonly remote: string;
  private sshInfo: { cipher: string | null; hostKey: string | null; remote?: string } = {
    cipher: null,
    hostKey: null,
  };

  constructor(config: PeerConfig, opts: ClientTunnelOptions = {}) {
    super();
    this.config = config;
    this.log = opts.logger ?? new Logger();
    this.stateDir = new TunnelStateDir(config.name, opts.stateRoot ?? DEFAULT_STATE_ROOT);
    this.useControl = opts.controlSocket ?? true;
    this.retryStart = opts.retryStart ?? false;
    this.sshPrompter = opts.sshPrompter;
    this.sd = opts.notifier ?? null;
    const rc = config.reconnect;
    this.reconnect = new ReconnectLoop(this, {
      enabled: rc.enabled,
      holdoffMs: rc.holdoffMs,
      maxBackoffMs: rc.maxBackoffMs,
      maxFail: rc.maxFail,
      retryRefusals: rc.onRefusal === 'retry',
    });
    this.routeWatch =
      (opts.watchNetwork ?? true)
        ? new ServerRouteWatch(this.log, (reason, up) => this.onNetworkChange(reason, up))
        : null;
    const drop =
      opts.dropPrivileges ?? (config.tunnel.user !== null || config.tunnel.group !== null);
    this.net = new ClientNetwork(config, this.log, this.stateDir.dir, drop, (err) => {
      if (!this.isClosing) void this.fail('system', `TUN device: ${err.message}`);
    });
    this.hooks = new TunnelHooks(config, this.log, () => ({
      iface: this.net.iface,
      dns: this.net.dns,
      bytes: () => {
        const st = this.status();
        return { sent: st.tx.bytes, received: st.rx.bytes };
      },
    }));
    this.remote = describeRemote(config);
    this.teardown = new ClientTeardown({
      sd: this.sd,
      reconnect: this.reconnect,
      routeWatch: this.routeWatch,
      net: this.net,
      stateDir: this.stateDir,
      phase: () => this.phaseValue,
      started: () => this.started,
      link: () => this.link,
      control: () => this.control,
      setPhase: (p) => this.setPhase(p),
      runDownHook: (phase) => this.runDownHook(phase),
      endLink: (link, kind, message) => this.endLink(link, kind, message),
      closed: (exit) => this.emit('closed', exit),
    });
    this.done = this.teardown.done;
  }

  get phase(): TunnelPhase {
    return this.phaseValue;
  }

  /** Path of the control socket (valid while running). */
  get controlPath(): string {
    return this.stateDir.controlPath;
  }

  get isClosing(): boolean {
    return this.teardown.closing;
  }

  get everUp(): boolean {
    return this.everUpValue;
  }

  get hasInterface(): boolean {
    return this.net.iface !== null;
  }

  /**
   * Brings the tunnel up. Resolves when the interface is configured; rejects with a
   * TunnelError (after cleaning up) when the first attempt fails. With `retryStart`,
   * a retryable first failure schedules reconnects instead and start() resolves
   * (watch the `up` event / `done`). `done` resolves in every case.
   */
  async start(): Promise<void> {
    if (this.phaseValue !== 'idle') throw new TunnelError('internal', 'start() called twice');
    this.startedAt = performance.now();
    this.startedWall = new Date();
    try {
      const stale = lockState(this.stateDir);
      this.locked = true;
      if (stale) await cleanStaleRun(stale, this.stateDir.dir, this.log);
      if (this.useControl)
        this.control = await ControlServer.listen(this.stateDir.controlPath, (req) =>
          this.onControl(req),
        );
      await this.attempt();
      this.started = true;
    } catch (err) {
      const e = toTunnelError(err);
      if (this.isClosing && !this.teardown.finishing) {
        // close() during start-up: a clean end, not a failure.
        await this.teardown.finish({ kind: 'ok', message: 'closed before the tunnel came up' });
        throw e;
      }
      if (this.retryStart && this.locked && !this.isClosing) {
        this.started = true;
        if (this.reconnect.retryFirst(e)) return;
        this.started = false;
      }
      await this.teardown.finish({ kind: e.kind, message: e.message });
      throw e;
    }
  }

  /** Graceful teardown (down hook, LCP Terminate, bounded wait); resolves when everything is removed. */
  close(reason = 'User request'): Promise<TunnelExit> {
    return this.teardown.close(reason);
  }

  /**
   * Drops the current link and connects again at once (SIGHUP, control `reconnect`).
   * A manual reconnect is not a failure: it resets the failure count.
   */
  reconnectNow(reason = 'reconnect requested'): void {
    if (this.isClosing) return;
    if (this.reconnect.waiting) {
      this.reconnect.requestManual();
      this.log.info(`${reason}: retrying now`);
      this.reconnect.wake();
      return;
    }
    const link = this.link;
    if (link?.up && !link.ended) {
      this.reconnect.requestManual();
      this.log.info(`${reason}: closing the link`);
      this.dropLink(link, reason);
    }
  }

  status(): TunnelStatus {
    const link = this.link;
    const i = this.net.iface;
    return tunnelStatus(
      {
        name: this.config.name,
        phase: this.phaseValue,
        startedWall: this.startedWall,
        upSince: this.upSince,
        totals: this.totals,
        engine: link ? link.session.stats() : null,
        gso: link ? link.session.gso && !link.ended : null,
        gsoDropped: link?.session.driver.counters.gsoDropped ?? 0,
        linkDownDrops: this.net.data.drops,
        iface: i,
        dns: this.net.dns,
        lastRttMs: this.lastRttMs,
        policy: this.reconnect.stats(),
        nextAttempt: this.reconnect.nextAttempt,
        ssh: {
          remote: this.sshInfo.remote ?? this.remote,
          cipher: this.sshInfo.cipher,
          hostKey: this.sshInfo.hostKey,
        },
      },
      performance.now(),
    );
  }

  // ---- one connection attempt --------------------------------------------------------------

  /** Connect + negotiate; resolves once the tunnel carries traffic. */
  async attempt(): Promise<void> {
    const cfg = this.config;
    this.setPhase(
      this.everUpValue || this.phaseValue === 'reconnecting' ? 'reconnecting' : 'connecting',
    );
    this.log.info(`connecting to ${this.remote} …`);
    this.sd?.status(`connecting to ${this.remote}`);
    // The route snapshot, the TUN/netlink code and the framing kernels start beside SSH,
    // once the first SSH byte is out (attempt-background.ts).
    const background = new AttemptBackground(() =>
      RouteGuard.snapshot({
        acceptLocal: cfg.ppp.acceptLocal,
        acceptPeer: cfg.ppp.acceptPeer,
        tunnelIfindex: this.net.iface?.tun.ifindex,
        warn: (m) => this.log.warn(m),
      }),
    );
    const connecting = connectTransport(cfg, {
      log: this.log,
      prompter: this.sshPrompter,
      signal: this.teardown.signal,
      onTcpConnected: () => background.start(),
      beforeStart: async (addr) => {
        background.start();
        await background.routeGuard; // the snapshot predates any route of ours
        if (this.isClosing) throw new TunnelError('internal', 'closed');
        if (addr) await this.routeWatch?.ensure(addr, () => this.isClosing);
      },
    });
    // Both settle before the link listens: the transport delivers no data until a 'data'
    // listener exists (BaseTransport), and the snapshot never rejects.
    const [c, routeGuard] = await Promise.all([
      connecting.catch((err) => {
        throw toTunnelError(err);
      }),
      background.routeGuard,
    ]);
    const info = c.transport.info;
    this.sshInfo = {
      cipher: info.cipher ?? null,
      hostKey: info.hostKeyFingerprint ?? null,
      remote: info.remote, // the gateway in use when ssh.host lists several
    };
    const iface = this.net.iface;
    // GSO frames when configured and the device (if it exists already, after a
    // reconnect) is in vnet mode: a plain device cannot take the far end's super-packets.
    const link = new ClientLink(this, ++this.linkSeq, c.transport, c.serverAddr, {
      previousLocal: iface?.local4 ?? null,
      gso: cfg.tunnel.offload && (iface === null || iface.vnetHdr),
      data: this.net.data,
      routeGuard,
    });
    this.link = link;
    this.net.data.attach(link.session);
    if (!this.everUpValue) this.setPhase('negotiating');
    link.start();
    return link.ready;
  }

  // ---- the link's events (ClientLinkHost) ------------------------------------------------------

  ipv4Up(link: ClientLink, local: string, peer: string, dns: string[]): void {
    const net = this.net;
    net
      .serialize(async () => {
        if (link.ended || this.isClosing) return;
        const v4 = { local, peer, dns };
        const mtu = await net.configure4(link.session, link.serverAddr, v4, () => !link.ended);
        if (mtu !== null) this.linkUp(link, local, peer, mtu);
      })
      .catch((err) => {
        const e = toTunnelError(err);
        this.endLink(
          link,
          e.kind === 'internal' ? 'system' : e.kind,
          `configuring the interface: ${e.message}`,
        );
      });
  }

  ipv6Up(link: ClientLink, local: string, peer: string): void {
    this.net
      .serialize(async () => {
        if (link.ended) return;
        // IPv6CP often opens before IPCP: the interface then does not exist yet.
        await this.net.data.configure6(local, peer);
      })
      .catch((err) => this.log.warn(`IPv6 link-local address: ${(err as Error).message}`));
  }

  echoRtt(rttMs: number): void {
    this.lastRttMs = rttMs;
  }

  /** The link carries traffic: state file, status, hooks, systemd. */
  private linkUp(link: ClientLink, local: string, peer: string, mtu: number): void {
    const iface = this.net.iface!;
    link.markUp();
    writeState(this.stateDir, iface, this.net.resolvConf, this.log);
    const now = performance.now();
    this.upSince = now;
    const wasReconnect = this.everUpValue;
    this.everUpValue = true;
    this.reconnect.onUp(now);
    this.setPhase('up');
    const routes = iface.routes;
    const took = wasReconnect ? now - link.session.t0 : now - this.startedAt;
    this.log.info(
      `tunnel up: ${iface.name} ${local} → ${peer}, mtu ${mtu}, routes ${routes.length ? routes.join(', ') : 'none'}, in ${ms(took)} total`,
    );
    if (wasReconnect) {
      const ps = this.reconnect.stats();
      this.log.info(
        `reconnected${ps.lastRecoverMs !== null ? ` in ${secs(ps.lastRecoverMs)}` : ''} (${ps.reconnects} reconnect${ps.reconnects === 1 ? '' : 's'} so far)`,
      );
    }
    this.sd?.ready(`up: ${iface.name} ${local} → ${peer}`);
    this.readySent = true;
    this.emit('up', this.status());
    this.hooks.runUp();
  }

  /** The down hook, once per up, awaited (bounded by hooks.timeout). */
  runDownHook(phase: 'stopping' | 'reconnecting', upSince = this.upSince): Promise<void> {
    return this.hooks.runDown(phase, upSince);
  }

  /** systemd: READY on the first call (boot must not wait on an unreachable server), STATUS after. */
  notify(line: string): void {
    if (!this.readySent) {
      // docs/SERVICE.md
      this.sd?.ready(line);
      this.readySent = true;
    } else this.sd?.status(line);
  }

  // ---- link loss, reconnect, teardown --------------------------------------------------------

  private onNetworkChange(reason: string, pathUp: boolean): void {
    if (this.isClosing) return;
    if (this.reconnect.waiting) {
      if (pathUp) {
        this.log.info(`network change: ${reason}; retrying now`);
        this.reconnect.wake();
      } else this.log.info(`network change: ${reason}`);
      return;
    }
    const link = this.link;
    if (link?.up && !link.ended) {
      this.log.warn(`network change: ${reason}; closing the link`);
      this.dropLink(link, `network change: ${reason}`);
    }
  }

  /** Ends an up link on purpose: Terminate-Request (best effort), then reconnect at once. */
  private dropLink(link: ClientLink, reason: string): void {
    link.lossReason = reason;
    link.immediate = true;
    link.session.close(reason);
    const t = setTimeout(() => this.endLink(link, 'link-lost', reason), 500);
    t.unref();
    void link.finished.then(() => {
      clearTimeout(t);
      this.endLink(link, 'link-lost', reason);
    });
  }

  endLink(link: ClientLink, kind: FailureKind, message: string, refusal = false): void {
    if (link.ended) return;
    link.ended = true;
    this.net.data.detach(link.session);
    link.stop();
    this.totals.add(link.session.stats());
    if (this.link === link) this.link = null;
    if (!link.up) {
      const k = kind === 'ok' || kind === 'link-lost' ? 'ppp' : kind;
      link.failUp(new TunnelError(k, message, { refusal }));
      return;
    }
    if (this.isClosing) return;
    const upSince = this.upSince;
    this.upSince = null;
    this.emit('down', message);
    this.reconnect.onLinkLost(message, link.immediate, upSince);
  }

  fail(kind: FailureKind, message: string): Promise<void> {
    return this.teardown.fail(kind, message);
  }

  private async onControl(req: ControlRequest): Promise<Record<string, unknown> | undefined> {
    switch (req.cmd) {
      case 'status':
        return { status: this.status() };
      case 'down':
        setImmediate(() => void this.close('Administratively down'));
        return undefined;
      case 'reconnect':
        this.reconnectNow();
        return undefined;
      case 'debug':
        this.log.debugEnabled = typeof req.on === 'boolean' ? req.on : !this.log.debugEnabled;
        return { debug: this.log.debugEnabled };
      default:
        throw new Error(`unknown command "${req.cmd}" (status, down, reconnect, debug)`);
    }
  }

  setPhase(p: TunnelPhase): void {
    if (this.phaseValue === p || this.phaseValue === 'closed') return;
    this.phaseValue = p;
    this.emit('phase', p);
  }
}
