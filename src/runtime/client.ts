/**
 * ClientTunnel: `ts-vpn up` as a reusable object (the CLI and the library's
 * `connect()` both wrap it). No process.exit, no signal handlers here.
 *
 *   SSH connect (host key checked before auth) → exec the remote command (no pty)
 *   → LinkDriver + PppEngine → on ipv4-up: TUN, address, MTU, up, routes, DNS, up hook
 *   → packets both ways until close(), `ts-vpn down` or link loss
 *   → down hook, LCP Terminate (bounded), routes removed, TUN closed, SSH closed, state released.
 *
 * Staying up: LCP echo failure, SSH keepalive timeout, the transport closing, the far
 * end exiting and a change of the route to the SSH server (rtnetlink watch) all end
 * the link the same way; the ReconnectPolicy then decides (holdoff, capped exponential
 * backoff with jitter, max-fail). While reconnecting the TUN device and routes stay
 * (packets are dropped and counted); the previous local address is asked for again
 * and the interface is reconfigured only if the far end assigns another one.
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { PeerConfig } from '../config/index.js';
import { type EngineEvent, type EngineStats, PppEngine } from '../engine/index.js';
import {
  type CloseReason,
  connectTransport,
  describeRemote,
  type Transport,
} from '../transport/index.js';
import { NetConfig, type RouteHandle } from '../tun/index.js';
import { type ControlRequest, ControlServer } from './control.js';
import { PeerDns } from './dns.js';
import { EarlyPackets } from './early-packets.js';
import { clientEngineOptions } from './engine-options.js';
import { type FailureKind, TunnelError, toTunnelError } from './errors.js';
import { type HookEnv, runHook } from './hooks.js';
import type { TunnelInterface } from './interface.js';
import { loadInterfaceModule } from './interface-loader.js';
import { LinkDriver } from './link-driver.js';
import { escapeLogText } from './log-escape.js';
import { Logger } from './logger.js';
import { type RouteWatch, watchRouteTo } from './net-watch.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import { guardEngineOptions, RouteGuard } from './route-guard.js';
import type { SdNotifier } from './sd-notify.js';
import { DEFAULT_STATE_ROOT, TunnelStateDir } from './state-dir.js';
import type { TunnelPhase, TunnelStatus } from './status-format.js';

export type { TrafficCounters, TunnelPhase, TunnelStatus } from './status-format.js';

export interface ClientTunnelOptions {
  logger?: Logger;
  /** Root of the per-tunnel state directories; default /run/ts-vpn. */
  stateRoot?: string;
  /** Listen on <state dir>/control.sock for `ts-vpn status/down`; default true. */
  controlSocket?: boolean;
  /**
   * Keep retrying (per `reconnect:`) when the very first attempt fails, instead of
   * rejecting start(). `ts-vpn up` sets this; default false (connect() rejects).
   */
  retryStart?: boolean;
  /** systemd notifications (READY, STATUS, STOPPING); the CLI creates it first thing. */
  notifier?: SdNotifier;
  /** Watch the route to the SSH server and reconnect when it changes; default true. */
  watchNetwork?: boolean;
}

/** How a tunnel ended. */
export interface TunnelExit {
  kind: FailureKind;
  message: string;
}

export interface ClientTunnelEvents {
  phase: [TunnelPhase];
  up: [TunnelStatus];
  /** The link went away (reconnecting or finishing follows). */
  down: [string];
  closed: [TunnelExit];
}

/** One SSH connection + PPP session. */
interface Link {
  id: number;
  transport: Transport;
  engine: PppEngine;
  driver: LinkDriver;
  /** The SSH server's address (null: local command transport). */
  serverAddr: string | null;
  t0: number;
  mtu: number;
  /** The link carries GSO frames (both ends asked for them in LCP). */
  gso: boolean;
  up: boolean;
  ended: boolean;
  authFailure: string | null;
  /** Set when we decided the link is dead (echo failure, network change, reconnect request). */
  lossReason: string | null;
  /** Reconnect at once (no holdoff) when this link ends. */
  immediate: boolean;
  /** "LCP terminated by peer (…)" text, when the far end closed the link. */
  peerTerminated: string | null;
  negotiationTimer: NodeJS.Timeout | null;
  finished: Promise<void>;
  markFinished: () => void;
  resolveUp: () => void;
  rejectUp: (e: TunnelError) => void;
}

interface SavedState {
  pid: number;
  interface: string | null;
  local: string | null;
  peer: string | null;
  routes: RouteHandle[];
  resolvConf: string | null;
}

/** Failures that retrying cannot fix. */
const PERMANENT: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'config',
  'host-key',
  'system',
  'internal',
  'busy',
]);

type Causes = Record<string, number>;

const ms = (t: number) => `${Math.round(t)} ms`;
const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;

function memoryMb(): {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  arrayBuffersMb: number;
} {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    arrayBuffersMb: mb(m.arrayBuffers),
  };
}

function addCauses(into: Causes, from: Causes): void {
  for (const [k, v] of Object.entries(from)) if (v) into[k] = (into[k] ?? 0) + v;
}

function total(c: Causes): number {
  let n = 0;
  for (const v of Object.values(c)) n += v;
  return n;
}

export class ClientTunnel extends EventEmitter<ClientTunnelEvents> {
  readonly config: PeerConfig;
  readonly log: Logger;
  /** Resolves once, after teardown, with how the tunnel ended. Never rejects. */
  readonly done: Promise<TunnelExit>;
  private resolveDone!: (e: TunnelExit) => void;
  private readonly stateDir: TunnelStateDir;
  private readonly useControl: boolean;
  private readonly retryStart: boolean;
  private readonly watchNetwork: boolean;
  private readonly sd: SdNotifier | null;
  private readonly policy: ReconnectPolicy;
  private control: ControlServer | null = null;
  private phaseValue: TunnelPhase = 'idle';
  private link: Link | null = null;
  private linkSeq = 0;
  private iface: TunnelInterface | null = null;
  private ifaceReady = false;
  /** Far-end packets that beat our interface set-up (bounded). */
  private readonly early = new EarlyPackets();
  private pending6: { local: string; peer: string } | null = null;
  private routesAdded = false;
  private dns: string[] = [];
  /** Routes read before the current negotiation: far-end addresses inside them are refused. */
  private routeGuard: RouteGuard | null = null;
  private peerDns: PeerDns | null = null;
  private readonly dnsExitHandler = () => this.peerDns?.restoreSync();
  private closing = false;
  private started = false;
  private locked = false;
  private everUp = false;
  private readySent = false;
  private tornDown: Promise<void> | null = null;
  private startedAt = 0;
  private startedWall = new Date();
  private upSince: number | null = null;
  /** A manual reconnect (SIGHUP, control) is pending: not a failure, no wait. */
  private manualReconnect = false;
  private nextAttempt: { attempt: number; at: number } | null = null;
  private sleeper: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  private configChain: Promise<void> = Promise.resolve();
  private lastRttMs: number | null = null;
  private upHookRan = false;
  private routeWatch: { addr: string; watch: RouteWatch; net: NetConfig } | null = null;
  private remote: string;
  private sshInfo: { cipher: string | null; hostKey: string | null } = {
    cipher: null,
    hostKey: null,
  };
  /** Counters of links that ended (the current link's engine adds its own). */
  private readonly base = {
    tx: { packets: 0, bytes: 0 },
    rx: { packets: 0, bytes: 0 },
    drops: {} as Causes,
    errors: {} as Causes,
    echoSent: 0,
    echoAnswered: 0,
  };
  /** Drops outside any engine: no link up, no interface yet. */
  private linkDownDrops = 0;

  constructor(config: PeerConfig, opts: ClientTunnelOptions = {}) {
    super();
    this.config = config;
    this.log = opts.logger ?? new Logger();
    this.stateDir = new TunnelStateDir(config.name, opts.stateRoot ?? DEFAULT_STATE_ROOT);
    this.useControl = opts.controlSocket ?? true;
    this.retryStart = opts.retryStart ?? false;
    this.watchNetwork = opts.watchNetwork ?? true;
    this.sd = opts.notifier ?? null;
    const rc = config.reconnect;
    this.policy = new ReconnectPolicy({
      enabled: rc.enabled,
      holdoffMs: rc.holdoffMs,
      maxBackoffMs: rc.maxBackoffMs,
      maxFail: rc.maxFail,
    });
    this.remote = describeRemote(config);
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  get phase(): TunnelPhase {
    return this.phaseValue;
  }

  /** Path of the control socket (valid while running). */
  get controlPath(): string {
    return this.stateDir.controlPath;
  }

  /**
   * Brings the tunnel up. Resolves when the interface is configured; rejects with a
   * TunnelError (after cleaning up) when the first attempt fails. With `retryStart`,
   * a retryable first failure schedules reconnects instead and start() resolves
   * (watch the `up` event / `done`). `done` resolves in every case.
   */
  async start(): Promise<void> {
    if (this.phaseValue !== 'idle') throw new TunnelError('internal', 'start() called twice');
    // The TUN/netlink code loads while SSH connects (awaited when IPCP opens).
    loadInterfaceModule().catch(() => undefined);
    this.startedAt = performance.now();
    this.startedWall = new Date();
    try {
      this.lockStateDir();
      this.locked = true;
      await this.cleanStale();
      if (this.useControl)
        this.control = await ControlServer.listen(this.stateDir.controlPath, (req) =>
          this.onControl(req),
        );
      await this.attempt();
      this.started = true;
    } catch (err) {
      const e = toTunnelError(err);
      if (this.closing && !this.tornDown) {
        // close() during start-up: a clean end, not a failure.
        await this.finish({ kind: 'ok', message: 'closed before the tunnel came up' });
        throw e;
      }
      if (this.retryStart && this.locked && !this.closing) {
        const d = this.policy.onFailure(e.message, performance.now(), {
          permanent: PERMANENT.has(e.kind),
        });
        if (d.retry) {
          this.started = true;
          this.log.warn(`${e.message}; reconnecting in ${secs(d.delayMs)} (attempt ${d.attempt})`);
          void this.reconnectLoop(d.attempt, d.delayMs, e.message);
          return;
        }
      }
      await this.finish({ kind: e.kind, message: e.message });
      throw e;
    }
  }

  /** Graceful teardown (down hook, LCP Terminate, bounded wait); resolves when everything is removed. */
  async close(reason = 'User request'): Promise<TunnelExit> {
    if (!this.closing) {
      const neverStarted = this.phaseValue === 'idle';
      this.closing = true;
      this.sd?.stopping(`stopping: ${reason}`);
      this.setPhase('closing');
      this.sleeper?.wake();
      const link = this.link;
      // The down hook runs while the link and routes still exist.
      if (link && !link.ended && link.up) await this.runDownHook('stopping');
      if (link && !link.ended) {
        link.driver.close(reason);
        await Promise.race([link.finished, delay(1000)]);
        this.endLink(link, 'ok', 'closed');
      }
      // Before the first bring-up completed, start() finishes (its attempt fails and sees `closing`).
      if (this.started || neverStarted) {
        void this.finish({ kind: 'ok', message: reason === 'User request' ? 'closed' : reason });
      }
    }
    return this.done;
  }

  /**
   * Drops the current link and connects again at once (SIGHUP, control `reconnect`).
   * A manual reconnect is not a failure: it resets the failure count.
   */
  reconnectNow(reason = 'reconnect requested'): void {
    if (this.closing) return;
    if (this.sleeper) {
      this.manualReconnect = true;
      this.log.info(`${reason}: retrying now`);
      this.sleeper.wake();
      return;
    }
    const link = this.link;
    if (link?.up && !link.ended) {
      this.manualReconnect = true;
      this.log.info(`${reason}: closing the link`);
      this.dropLink(link, reason);
    }
  }

  status(): TunnelStatus {
    const now = performance.now();
    const st = this.link ? this.link.engine.stats() : null;
    const cur = linkCounters(st);
    const tun = this.iface?.tun.stats();
    const i = this.iface;
    const drops: Causes = { ...this.base.drops };
    addCauses(drops, cur.drops);
    addCauses(drops, {
      'link-down': this.linkDownDrops,
      'tun-write': tun?.txDrops ?? 0,
      'tun-queue': tun?.rxDrops ?? 0,
      'tun-truncated': tun?.rxTruncated ?? 0,
      'gso-not-negotiated': this.link?.driver.counters.gsoDropped ?? 0,
    });
    const errors: Causes = { ...this.base.errors };
    addCauses(errors, cur.errors);
    addCauses(errors, { tun: tun?.errors ?? 0, 'bad-gso-frame': i?.badGsoFrames ?? 0 });
    const ps = this.policy.stats();
    const wallOf = (mono: number) => new Date(Date.now() - (now - mono)).toISOString();
    const reconnecting = this.phaseValue === 'reconnecting' && this.nextAttempt !== null;
    return {
      name: this.config.name,
      phase: this.phaseValue,
      pid: process.pid,
      startedAt: this.startedWall.toISOString(),
      upSince: this.upSince === null ? null : wallOf(this.upSince),
      uptimeMs: this.upSince === null ? 0 : Math.round(now - this.upSince),
      interface: i?.name ?? null,
      mtu: i?.mtu ?? null,
      offload: i?.vnetHdr
        ? {
            gso: this.link?.gso === true && !this.link.ended,
            superPacketsOut: tun?.rxGsoPackets ?? 0,
            superPacketsIn: tun?.txGsoPackets ?? 0,
          }
        : undefined,
      memory: memoryMb(),
      local: i?.local4 ?? null,
      peer: i?.peer4 ?? null,
      ipv6: i?.local6 && i.peer6 ? { local: i.local6, peer: i.peer6 } : null,
      dns: this.dns,
      routes: i?.routes ?? [],
      tx: {
        packets: this.base.tx.packets + cur.tx.packets,
        bytes: this.base.tx.bytes + cur.tx.bytes,
      },
      rx: {
        packets: this.base.rx.packets + cur.rx.packets,
        bytes: this.base.rx.bytes + cur.rx.bytes,
      },
      drops: { total: total(drops), causes: drops },
      errors: { total: total(errors), causes: errors },
      echo: {
        lastRttMs: this.lastRttMs === null ? null : Math.round(this.lastRttMs * 10) / 10,
        sent: this.base.echoSent + (st?.echo.sent ?? 0),
        answered: this.base.echoAnswered + (st?.echo.answered ?? 0),
      },
      reconnect: {
        count: ps.reconnects,
        lastReason: ps.lastReason,
        lastAt: ps.lastFailureAt === null ? null : wallOf(ps.lastFailureAt),
        lastRecoverMs:
          ps.outageSince === null && ps.lastRecoverMs !== null
            ? Math.round(ps.lastRecoverMs)
            : null,
        attempt: reconnecting ? this.nextAttempt!.attempt : null,
        nextAttemptAt: reconnecting ? new Date(this.nextAttempt!.at).toISOString() : null,
      },
      ssh: { remote: this.remote, cipher: this.sshInfo.cipher, hostKey: this.sshInfo.hostKey },
    };
  }

  // ---- start-up --------------------------------------------------------------------------

  private lockStateDir(): void {
    const r = this.stateDir.lock();
    if (r.stale)
      this.staleState = {
        pid: r.stale.pid,
        state: r.stale.state as Partial<SavedState> | undefined,
      };
  }

  private staleState: { pid: number; state: Partial<SavedState> | undefined } | null = null;

  /** Removes what a crashed run recorded (the host route to the SSH server especially). */
  private async cleanStale(): Promise<void> {
    const s = this.staleState;
    if (!s) return;
    const routes = Array.isArray(s.state?.routes) ? (s.state.routes as RouteHandle[]) : [];
    const removed =
      routes.length > 0 ? await (await loadInterfaceModule()).removeStaleRoutes(routes) : [];
    if (s.state?.resolvConf) rmSync(s.state.resolvConf, { force: true });
    this.log.warn(
      `previous run (pid ${s.pid}) did not exit cleanly: ${
        removed.length > 0
          ? `removed its routes ${removed.join(', ')}`
          : 'nothing of it was left to remove'
      }${s.state?.interface ? ` (its interface ${s.state.interface} went away with it)` : ''}`,
    );
  }

  // ---- one connection attempt --------------------------------------------------------------

  /** Connect + negotiate; resolves once the tunnel carries traffic. */
  private async attempt(): Promise<void> {
    const cfg = this.config;
    this.setPhase(
      this.everUp || this.phaseValue === 'reconnecting' ? 'reconnecting' : 'connecting',
    );
    this.log.info(`connecting to ${this.remote} …`);
    this.sd?.status(`connecting to ${this.remote}`);
    const { transport, serverAddr } = await connectTransport(cfg, {
      log: this.log,
      beforeStart: async (addr) => {
        if (this.closing) throw new TunnelError('internal', 'closed');
        if (addr) await this.ensureRouteWatch(addr);
      },
    }).catch((err) => {
      throw toTunnelError(err);
    });
    const info = transport.info;
    this.sshInfo = { cipher: info.cipher ?? null, hostKey: info.hostKeyFingerprint ?? null };
    this.routeGuard = await RouteGuard.snapshot({
      acceptLocal: cfg.ppp.acceptLocal,
      acceptPeer: cfg.ppp.acceptPeer,
      tunnelIfindex: this.iface?.tun.ifindex,
      warn: (m) => this.log.warn(m),
    });
    return this.runLink(transport, serverAddr);
  }

  private runLink(transport: Transport, serverAddr: string | null): Promise<void> {
    const cfg = this.config;
    const id = ++this.linkSeq;
    const previous = this.iface?.local4 ?? null;
    let link!: Link;
    // GSO frames when configured and the device (if it exists already, after a
    // reconnect) is in vnet mode: a plain device cannot take the far end's super-packets.
    const gso = cfg.tunnel.offload && (this.iface === null || this.iface.vnetHdr);
    const engine = new PppEngine(
      {
        ...guardEngineOptions(
          clientEngineOptions(cfg, (line) => this.engineLog(link, line), previous),
          this.routeGuard,
        ),
        gso,
      },
      (_v, pkt) => this.onLinkPacket(pkt),
      (frame) => this.onLinkGsoFrame(frame),
    );
    const driver = new LinkDriver(engine, transport);
    driver.onBackpressure = (blocked) => {
      const tun = this.iface?.tun;
      if (!tun || link.ended) return;
      if (blocked) tun.pause();
      else tun.resume();
    };
    let markFinished!: () => void;
    const finished = new Promise<void>((r) => {
      markFinished = r;
    });
    return new Promise<void>((resolve, reject) => {
      link = {
        id,
        transport,
        engine,
        driver,
        serverAddr,
        t0: performance.now(),
        mtu: 1500,
        gso: false,
        up: false,
        ended: false,
        authFailure: null,
        lossReason: null,
        immediate: false,
        peerTerminated: null,
        negotiationTimer: null,
        finished,
        markFinished,
        resolveUp: resolve,
        rejectUp: reject,
      };
      this.link = link;
      if (!this.everUp) this.setPhase('negotiating');
      transport.onStderr((line) => this.log.info(`remote: ${escapeLogText(line)}`));
      transport.onClose((r) => this.onTransportClose(link, r));
      driver.on('event', (ev) => this.onEngineEvent(link, ev));
      // Bounded negotiation: LCP gives up by itself, but an NCP may stall while another is up.
      const limit = cfg.ppp.restartMs * (cfg.ppp.maxConfigure + 2) + 5000;
      link.negotiationTimer = setTimeout(() => {
        if (!link.up)
          this.endLink(
            link,
            'ppp',
            `PPP negotiation did not bring IPv4 up within ${Math.round(limit / 1000)} s`,
          );
      }, limit);
      link.negotiationTimer.unref();
      driver.start();
    });
  }

  private engineLog(link: Link, line: string): void {
    const t = /^LCP terminated by peer(?: \((.*)\))?/.exec(line);
    if (t) link.peerTerminated = t[1] ?? '';
    const echo = /^No response to (\d+) echo-requests/.exec(line);
    if (echo && !link.ended) {
      // Do not wait for the Terminate-Request retries: the far end is gone.
      this.log.info(`ppp: ${line}`);
      const why = `LCP: no reply to ${echo[1]} echo-requests`;
      link.lossReason = why;
      setImmediate(() => this.endLink(link, 'link-lost', why));
      return;
    }
    if (
      /finished|failed|terminated by peer|[Rr]eject for|not accepted|Could not|No response|own echo/.test(
        line,
      ) &&
      !line.startsWith('sent [') &&
      !line.startsWith('rcvd [')
    ) {
      this.log.info(`ppp: ${line}`);
    } else {
      this.log.debug(line);
    }
  }

  private onEngineEvent(link: Link, ev: EngineEvent): void {
    switch (ev.type) {
      case 'lcp-up':
        link.mtu = ev.mtu;
        link.gso = ev.gso;
        this.log.info(
          `ppp: LCP up (mru ${ev.mru}, peer mru ${ev.mtu}) in ${ms(performance.now() - link.t0)}${
            link.driver.firstDataAt === null
              ? ''
              : `; the far end answered after ${ms(link.driver.firstDataAt - link.t0)}`
          }${ev.gso ? '; TCP offload on (GSO frames)' : ''}`,
        );
        if (!ev.gso && this.config.tunnel.offload && this.iface === null)
          this.log.debug('ppp: the far end does not take GSO frames: TCP offload stays off');
        return;
      case 'auth-ok':
        this.log.info('ppp: authenticated to the far end');
        return;
      case 'auth-failed':
        link.authFailure = ev.message;
        this.log.error(`ppp: authentication failed: ${ev.message}`);
        return;
      case 'ipv4-up':
        this.log.info(
          `ppp: IPCP up: local ${ev.local} peer ${ev.peer}${ev.dns.length ? ` dns ${ev.dns.join(' ')}` : ''}${
            link.driver.firstDataAt === null
              ? ''
              : `; negotiation took ${ms(performance.now() - link.driver.firstDataAt)} from the far end's first frame`
          }`,
        );
        this.serialize(() =>
          this.onIpv4Up(link, ev.local, ev.peer, this.routeGuard?.filterDns(ev.dns) ?? ev.dns),
        ).catch((err) => {
          const e = toTunnelError(err);
          this.endLink(
            link,
            e.kind === 'internal' ? 'system' : e.kind,
            `configuring the interface: ${e.message}`,
          );
        });
        return;
      case 'ipv6-up':
        this.log.info(`ppp: IPv6CP up: local ${ev.local} peer ${ev.peer}`);
        this.serialize(async () => {
          if (link.ended) return;
          // IPv6CP often opens before IPCP: the interface then does not exist yet.
          if (!this.iface) this.pending6 = { local: ev.local, peer: ev.peer };
          else await this.iface.configure6(ev.local, ev.peer);
        }).catch((err) => this.log.warn(`IPv6 link-local address: ${(err as Error).message}`));
        return;
      case 'ipv4-down':
        if (link.up && !this.closing) this.log.info('ppp: IPCP down');
        return;
      case 'echo-rtt':
        this.lastRttMs = ev.rttMs;
        return;
      case 'down':
        if (!this.closing) this.log.info(`ppp: link down: ${ev.reason}`);
        return;
      case 'finished': {
        link.markFinished();
        const why =
          link.lossReason ??
          (link.authFailure
            ? `PPP authentication failed: ${link.authFailure}`
            : link.peerTerminated !== null
              ? `the far end closed the link${link.peerTerminated ? `: ${link.peerTerminated}` : ''}`
              : `PPP link finished: ${ev.reason}`);
        this.endLink(link, link.up ? 'link-lost' : 'ppp', why);
        return;
      }
      default:
        return;
    }
  }

  private onTransportClose(link: Link, r: CloseReason): void {
    // Decide with the transport's reason first: lowerDown() would report a bare
    // "lower layer down" through the engine's `finished` event.
    link.markFinished();
    if (link.ended) return;
    if (link.up) {
      this.endLink(link, 'link-lost', link.lossReason ?? r.message);
    } else if (r.code === 'SSH_CLOSED' || r.code === 'ERROR') {
      this.endLink(link, 'connect', `${r.message} (before PPP came up)`);
    } else if (link.peerTerminated) {
      this.endLink(link, 'ppp', `the far end refused the link: ${link.peerTerminated}`);
    } else {
      this.endLink(link, 'ppp', `the far end ended before PPP came up: ${r.message}`);
    }
    link.engine.lowerDown(performance.now());
  }

  /** Runs interface changes one at a time (events may arrive faster than netlink answers). */
  private serialize(fn: () => Promise<void>): Promise<void> {
    const p = this.configChain.then(fn);
    this.configChain = p.catch(() => undefined);
    return p;
  }

  private async onIpv4Up(link: Link, local: string, peer: string, dns: string[]): Promise<void> {
    if (link.ended || this.closing) return;
    const cfg = this.config;
    const mtu = cfg.tunnel.mtu ?? link.mtu;
    if (!this.iface) {
      const { TunnelInterface } = await loadInterfaceModule();
      this.iface = await TunnelInterface.open(cfg.tunnel.interface, this.log, {
        vnetHdr: link.gso,
      });
      const tun = this.iface.tun;
      if (tun.vnetHdr) tun.onPackets((batch) => this.onTunFrames(batch));
      else tun.onPackets((batch) => this.onTunPackets(batch));
      tun.on('error', (err: Error) => {
        if (!this.closing) void this.fail('system', `TUN device: ${err.message}`);
      });
      if (cfg.ppp.usePeerDns) {
        this.peerDns = new PeerDns({
          name: cfg.name,
          ifname: this.iface.name,
          writeTo: cfg.dns.writeTo,
          resolved: false,
          domains: cfg.defaultRoute ? ['~.'] : [],
          log: this.log,
        });
        process.on('exit', this.dnsExitHandler);
      }
    }
    const iface = this.iface;
    iface.setOffload(link.gso);
    const p6 = this.pending6;
    this.pending6 = null;
    const changed = iface.local4 !== null && (iface.local4 !== local || iface.peer4 !== peer);
    if (changed) {
      this.log.warn(
        `far end changed the addresses: ${iface.local4} → ${local}, peer ${iface.peer4} → ${peer}; reconfiguring ${iface.name}`,
      );
      // Old routes go with the old addresses; they are added again below.
      await iface.removeRoutes();
      this.routesAdded = false;
    }
    if (iface.local4 === null || changed || iface.mtu !== mtu)
      await iface.configure4(local, peer, mtu);
    this.ifaceReady = true;
    this.early.flush((p) => iface.writeIp(p));
    if (p6) {
      try {
        await iface.configure6(p6.local, p6.peer);
      } catch (err) {
        this.log.warn(`IPv6 link-local address: ${(err as Error).message}`);
      }
    }
    if (!this.routesAdded) {
      await iface.addRoutes({
        routes: cfg.routes,
        defaultRoute: cfg.defaultRoute,
        server: link.serverAddr ?? undefined,
        metric: cfg.tunnel.metric,
      });
      this.routesAdded = true;
    }
    this.dns = dns;
    if (this.peerDns) await this.peerDns.apply(dns);
    if (link.ended) return;
    link.up = true;
    if (link.negotiationTimer) clearTimeout(link.negotiationTimer);
    this.writeState();
    const now = performance.now();
    this.upSince = now;
    const wasReconnect = this.everUp;
    this.everUp = true;
    this.policy.onUp(now);
    this.nextAttempt = null;
    this.setPhase('up');
    const routes = iface.routes;
    const took = wasReconnect ? now - link.t0 : now - this.startedAt;
    this.log.info(
      `tunnel up: ${iface.name} ${local} → ${peer}, mtu ${mtu}, routes ${routes.length ? routes.join(', ') : 'none'}, in ${ms(took)} total`,
    );
    if (wasReconnect) {
      const ps = this.policy.stats();
      this.log.info(
        `reconnected${ps.lastRecoverMs !== null ? ` in ${secs(ps.lastRecoverMs)}` : ''} (${ps.reconnects} reconnect${ps.reconnects === 1 ? '' : 's'} so far)`,
      );
    }
    this.sd?.ready(`up: ${iface.name} ${local} → ${peer}`);
    this.readySent = true;
    link.resolveUp();
    this.emit('up', this.status());
    if (cfg.hooks.up) {
      this.upHookRan = true;
      void runHook('up', cfg.hooks.up, this.hookEnv('up'), {
        timeoutMs: cfg.hooks.timeoutMs,
        log: this.log,
      });
    } else this.upHookRan = true;
  }

  private hookEnv(phase: string, down?: { connectTimeS: number }): HookEnv {
    const i = this.iface;
    const cfg = this.config;
    const env: HookEnv = {
      name: cfg.name,
      ifname: i?.name ?? '',
      phase,
      localIp: i?.local4 ?? null,
      remoteIp: i?.peer4 ?? null,
      dns: this.dns,
      llLocal: i?.local6 ?? null,
      llRemote: i?.peer6 ?? null,
      peerName: null,
      device: `ssh:${cfg.ssh.host}:${cfg.ssh.port}`,
    };
    if (down) {
      const st = this.status();
      env.connectTimeS = down.connectTimeS;
      env.bytesSent = st.tx.bytes;
      env.bytesReceived = st.rx.bytes;
    }
    return env;
  }

  /** The down hook, once per up, awaited (bounded by hooks.timeout). */
  private async runDownHook(
    phase: 'stopping' | 'reconnecting',
    upSince = this.upSince,
  ): Promise<void> {
    if (!this.upHookRan) return;
    this.upHookRan = false;
    const cmd = this.config.hooks.down;
    if (!cmd || !this.iface) return;
    const connectTimeS = upSince === null ? 0 : (performance.now() - upSince) / 1000;
    await runHook('down', cmd, this.hookEnv(phase, { connectTimeS }), {
      timeoutMs: this.config.hooks.timeoutMs,
      log: this.log,
    });
  }

  private writeState(): void {
    const i = this.iface;
    const state: SavedState = {
      pid: process.pid,
      interface: i?.name ?? null,
      local: i?.local4 ?? null,
      peer: i?.peer4 ?? null,
      routes: i?.routeHandles() ?? [],
      resolvConf: this.peerDns?.writtenFile ?? null,
    };
    try {
      this.stateDir.writeState(state);
    } catch (err) {
      this.log.warn(`cannot write ${this.stateDir.statePath}: ${(err as Error).message}`);
    }
  }

  // ---- network watch -------------------------------------------------------------------------

  /** One rtnetlink watch on the route to the SSH server for the tunnel's lifetime. */
  private async ensureRouteWatch(addr: string): Promise<void> {
    if (!this.watchNetwork || this.closing) return;
    if (this.routeWatch?.addr === addr) return;
    this.closeRouteWatch();
    const net = new NetConfig();
    try {
      const watch = await watchRouteTo(
        addr,
        net,
        (c) => this.onNetworkChange(c.reason, c.after !== null && c.linkUp),
        {
          log: this.log,
        },
      );
      if (this.closing) {
        watch.close();
        net.close();
        return;
      }
      this.routeWatch = { addr, watch, net };
    } catch (err) {
      net.close();
      this.log.warn(`cannot watch the route to ${addr}: ${(err as Error).message}`);
    }
  }

  private closeRouteWatch(): void {
    const w = this.routeWatch;
    if (!w) return;
    this.routeWatch = null;
    w.watch.close();
    w.net.close();
  }

  private onNetworkChange(reason: string, pathUp: boolean): void {
    if (this.closing) return;
    if (this.sleeper) {
      if (pathUp) {
        this.log.info(`network change: ${reason}; retrying now`);
        this.sleeper.wake();
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
  private dropLink(link: Link, reason: string): void {
    link.lossReason = reason;
    link.immediate = true;
    link.driver.close(reason);
    const t = setTimeout(() => this.endLink(link, 'link-lost', reason), 500);
    t.unref();
    void link.finished.then(() => {
      clearTimeout(t);
      this.endLink(link, 'link-lost', reason);
    });
  }

  // ---- data path ---------------------------------------------------------------------------

  /** TUN → link. The ring views are valid only during this call; the engine frames them synchronously. */
  private onTunPackets(batch: Uint8Array[]): void {
    const link = this.link;
    // Sent as soon as the interface is configured, not only once the whole bring-up
    // (routes, DNS, hooks) is done: an answer to a packet the far end sent early must
    // not be lost. The engine drops (and counts) whatever comes before IPCP is open.
    if (link === null || link.ended || !this.ifaceReady) {
      this.linkDownDrops += batch.length;
      return;
    }
    link.driver.sendPackets(batch);
  }

  /** TUN (vnet mode: a virtio_net_hdr in front of each packet) → link. */
  private onTunFrames(batch: Uint8Array[]): void {
    const link = this.link;
    if (link === null || link.ended || !this.ifaceReady) {
      this.linkDownDrops += batch.length;
      return;
    }
    link.driver.sendTunFrames(batch);
  }

  /** Link → TUN: a GSO frame (virtio_net_hdr + IP packet), checked before the kernel sees it. */
  private onLinkGsoFrame(frame: Uint8Array): void {
    const iface = this.iface;
    if (iface === null || !this.ifaceReady) {
      this.linkDownDrops++;
      return;
    }
    if (!iface.writeGsoFrame(frame) && iface.lastBadGso !== null) {
      this.log.debug(`dropped a GSO frame from the far end: ${iface.lastBadGso}`);
      iface.lastBadGso = null;
    }
  }

  /** Link → TUN. */
  private onLinkPacket(pkt: Uint8Array): void {
    const iface = this.iface;
    if (iface === null || !this.ifaceReady) {
      // The far end's IPCP may open (and send) before our interface is configured.
      if (this.closing || !this.early.hold(pkt)) this.linkDownDrops++;
      return;
    }
    iface.writeIp(pkt);
  }

  // ---- link loss, reconnect, teardown --------------------------------------------------------

  private endLink(link: Link, kind: FailureKind, message: string): void {
    if (link.ended) return;
    link.ended = true;
    // Its stream may have been pushing back: read (and count as dropped) again.
    this.iface?.tun.resume();
    this.linkDownDrops += this.early.length;
    this.early.discard();
    if (link.negotiationTimer) clearTimeout(link.negotiationTimer);
    link.driver.stop();
    void link.transport.close();
    const c = linkCounters(link.engine.stats());
    this.base.tx.packets += c.tx.packets;
    this.base.tx.bytes += c.tx.bytes;
    this.base.rx.packets += c.rx.packets;
    this.base.rx.bytes += c.rx.bytes;
    addCauses(this.base.drops, c.drops);
    addCauses(this.base.errors, c.errors);
    const st = link.engine.stats();
    this.base.echoSent += st.echo.sent;
    this.base.echoAnswered += st.echo.answered;
    if (this.link === link) this.link = null;
    if (!link.up) {
      link.rejectUp(new TunnelError(kind === 'ok' || kind === 'link-lost' ? 'ppp' : kind, message));
      return;
    }
    if (this.closing) return;
    const upSince = this.upSince;
    this.upSince = null;
    this.emit('down', message);
    this.onLinkLost(message, link.immediate, upSince);
  }

  /** An up link is gone: ask the policy, log the decision, reconnect or give up. */
  private onLinkLost(message: string, immediate: boolean, upSince: number | null): void {
    const manual = this.manualReconnect;
    this.manualReconnect = false;
    if (manual) this.policy.onSuccess();
    let d = this.policy.onFailure(message, performance.now());
    if (!d.retry && manual) d = { ...d, retry: true, delayMs: 0 };
    if (!d.retry) {
      const off = !this.config.reconnect.enabled;
      void (async () => {
        await this.runDownHook('stopping', upSince);
        await this.fail(
          'link-lost',
          `link lost: ${message}${off ? ' (reconnect is off)' : `; giving up: ${d.giveUp}`}`,
        );
      })();
      return;
    }
    const wait = manual || immediate ? 0 : d.delayMs;
    this.log.warn(`link lost: ${message}; reconnecting in ${secs(wait)} (attempt ${d.attempt})`);
    this.setPhase('reconnecting');
    this.nextAttempt = { attempt: d.attempt, at: Date.now() + wait };
    void (async () => {
      await this.runDownHook('reconnecting', upSince);
      await this.reconnectLoop(d.attempt, wait, message);
    })();
  }

  private async reconnectLoop(
    firstAttempt: number,
    firstWait: number,
    reason: string,
  ): Promise<void> {
    let attempt = firstAttempt;
    let wait = firstWait;
    let why = reason;
    this.setPhase('reconnecting');
    while (!this.closing) {
      this.nextAttempt = { attempt, at: Date.now() + wait };
      const line = `reconnecting in ${secs(wait)} (attempt ${attempt}): ${why}`;
      if (!this.readySent) {
        // Boot must not wait on an unreachable server (docs/SERVICE.md).
        this.sd?.ready(line);
        this.readySent = true;
      } else this.sd?.status(line);
      await this.sleep(wait);
      if (this.closing) return;
      this.nextAttempt = { attempt, at: Date.now() };
      this.manualReconnect = false;
      try {
        await this.attempt();
        return;
      } catch (err) {
        if (this.closing) return;
        const e = toTunnelError(err);
        this.setPhase('reconnecting');
        const manual = this.manualReconnect;
        this.manualReconnect = false;
        if (manual) this.policy.onSuccess();
        const permanent = PERMANENT.has(e.kind);
        const d = this.policy.onFailure(e.message, performance.now(), { permanent });
        if (!d.retry) {
          this.log.error(
            `reconnect attempt ${attempt} failed: ${e.message}; giving up: ${d.giveUp}`,
          );
          await this.fail(
            permanent || !this.everUp ? e.kind : 'link-lost',
            permanent ? e.message : `link lost and reconnecting failed: ${e.message} (${d.giveUp})`,
          );
          return;
        }
        wait = manual ? 0 : d.delayMs;
        this.log.warn(
          `reconnect attempt ${attempt} failed: ${e.message}; reconnecting in ${secs(wait)} (attempt ${d.attempt})`,
        );
        attempt = d.attempt;
        why = e.message;
      }
    }
  }

  private sleep(msToWait: number): Promise<void> {
    if (msToWait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeper = null;
        resolve();
      };
      const timer = setTimeout(wake, msToWait);
      this.sleeper = { timer, wake };
    });
  }

  private async fail(kind: FailureKind, message: string): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.sd?.stopping(`stopping: ${message}`);
    const link = this.link;
    if (link && !link.ended) {
      link.driver.close('Link failure');
      await Promise.race([link.finished, delay(1000)]);
      this.endLink(link, kind, message);
    }
    await this.finish({ kind, message });
  }

  /** Removes everything, once, then resolves `done`. */
  private finish(exit: TunnelExit): Promise<void> {
    if (this.tornDown) return this.tornDown;
    this.closing = true;
    this.tornDown = (async () => {
      this.setPhase('closing');
      this.sleeper?.wake();
      this.closeRouteWatch();
      const link = this.link;
      if (link && !link.ended) {
        if (link.up) await this.runDownHook('stopping');
        this.endLink(link, exit.kind, exit.message);
      } else if (this.iface && this.routesAdded) await this.runDownHook('stopping');
      const closers: Promise<unknown>[] = [];
      if (link) closers.push(link.transport.close());
      if (this.peerDns) await this.peerDns.restore();
      process.off('exit', this.dnsExitHandler);
      if (this.iface) {
        const name = this.iface.name;
        const routes = this.iface.routes;
        closers.push(
          this.iface.close().then(
            () =>
              this.log.info(
                `removed ${name}${routes.length ? ` and routes ${routes.join(', ')}` : ''}`,
              ),
            (err) => this.log.warn(`closing ${name}: ${(err as Error).message}`),
          ),
        );
      }
      await Promise.all(closers);
      this.iface = null;
      if (this.control) await this.control.close().catch(() => undefined);
      this.stateDir.release();
      this.setPhase('closed');
      this.emit('closed', exit);
      this.resolveDone(exit);
    })();
    return this.tornDown;
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

  private setPhase(p: TunnelPhase): void {
    if (this.phaseValue === p || this.phaseValue === 'closed') return;
    this.phaseValue = p;
    this.emit('phase', p);
  }
}

/** IP traffic, drops and errors of one link's engine, by cause. */
function linkCounters(s: EngineStats | null): {
  tx: { packets: number; bytes: number };
  rx: { packets: number; bytes: number };
  drops: Causes;
  errors: Causes;
} {
  const v4 = s?.protocols.ipv4;
  const v6 = s?.protocols.ipv6;
  return {
    tx: {
      packets: (v4?.txPackets ?? 0) + (v6?.txPackets ?? 0),
      bytes: (v4?.txBytes ?? 0) + (v6?.txBytes ?? 0),
    },
    rx: {
      packets: (v4?.rxPackets ?? 0) + (v6?.rxPackets ?? 0),
      bytes: (v4?.rxBytes ?? 0) + (v6?.rxBytes ?? 0),
    },
    drops: {
      // The engine's per-protocol drops include the framer's queue-full drops of IP
      // packets: count those once, under queue-full.
      'link-down': Math.max(0, (v4?.drops ?? 0) + (v6?.drops ?? 0) - (s?.framing.tx.drops ?? 0)),
      'queue-full': s?.framing.tx.drops ?? 0,
    },
    errors: {
      'bad-fcs': s?.framing.rx.badFcs ?? 0,
      'too-long': s?.framing.rx.tooLong ?? 0,
      'bad-header': s?.framing.rx.badHeader ?? 0,
      // GSO frames longer than agreed (the device's own checks add to the same cause).
      'bad-gso-frame': s?.gso.rxOversize ?? 0,
      // Frames whose content the engine could not parse (e.g. a GSO frame without IP inside).
      'bad-packet': s?.protocols.other.bad ?? 0,
      // Frames of protocols we do not run, answered with a Protocol-Reject.
      'protocol-rejected': s?.protocolRejectsSent ?? 0,
    },
  };
}

function delay(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, t).unref());
}
