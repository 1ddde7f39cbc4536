/**
 * ClientTunnel: `ts-vpn up` as a reusable object (the CLI and the library's
 * `connect()` both wrap it). No process.exit, no signal handlers here.
 *
 *   SSH connect (host key checked before auth) → exec the remote command (no pty)
 *   → LinkDriver + PppEngine → on ipv4-up: TUN, address, MTU, up, routes
 *   → packets both ways until close(), `ts-vpn down` or link loss
 *   → LCP Terminate (bounded), routes removed, TUN closed, SSH closed, state released.
 *
 * With reconnect on, a lost link keeps the TUN device and routes (packets are dropped
 * and counted meanwhile), retries with holdoff and capped exponential backoff, asks
 * for the previous local address and reconfigures only if the far end changes it.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PeerConfig } from '../config/index.js';
import { type EngineEvent, type EngineStats, PppEngine } from '../engine/index.js';
import { type CloseReason, SshConnection, type SshTransport } from '../transport/index.js';
import type { RouteHandle } from '../tun/index.js';
import { type ControlRequest, ControlServer } from './control.js';
import { clientEngineOptions } from './engine-options.js';
import { type FailureKind, TunnelError, toTunnelError } from './errors.js';
import { runHook } from './hooks.js';
import { removeStaleRoutes, TunnelInterface } from './interface.js';
import { LinkDriver } from './link-driver.js';
import { Logger } from './logger.js';
import { DEFAULT_STATE_ROOT, TunnelStateDir } from './state-dir.js';

export type TunnelPhase =
  | 'idle'
  | 'connecting'
  | 'negotiating'
  | 'up'
  | 'reconnecting'
  | 'closing'
  | 'closed';

export interface ClientTunnelOptions {
  logger?: Logger;
  /** Root of the per-tunnel state directories; default /run/ts-vpn. */
  stateRoot?: string;
  /** Listen on <state dir>/control.sock for `ts-vpn status/down`; default true. */
  controlSocket?: boolean;
}

export interface TrafficCounters {
  packets: number;
  bytes: number;
}

/** What `ts-vpn status` shows (JSON-safe). */
export interface TunnelStatus {
  name: string;
  pid: number;
  phase: TunnelPhase;
  remote: string;
  interface: string | null;
  local: string | null;
  peer: string | null;
  dns: string[];
  ipv6: { local: string; peer: string } | null;
  mtu: number | null;
  routes: string[];
  startedAt: string;
  upSince: string | null;
  uptimeMs: number;
  reconnects: number;
  /** Tunnel → far end and far end → tunnel (IP packets, IP bytes). */
  tx: TrafficCounters;
  rx: TrafficCounters;
  /** Packets dropped (link not up, output full, TUN write failed). */
  drops: number;
  /** Bad frames received (FCS, too long…) and TUN read/write errors. */
  errors: number;
  echo: { lastRttMs: number | null; sent: number; answered: number };
  ssh: { cipher: string | null; hostKey: string | null };
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
  transport: SshTransport;
  engine: PppEngine;
  driver: LinkDriver;
  serverAddr: string;
  t0: number;
  mtu: number;
  up: boolean;
  ended: boolean;
  authFailure: string | null;
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

const ms = (t: number) => `${Math.round(t)} ms`;

export class ClientTunnel extends EventEmitter<ClientTunnelEvents> {
  readonly config: PeerConfig;
  readonly log: Logger;
  /** Resolves once, after teardown, with how the tunnel ended. Never rejects. */
  readonly done: Promise<TunnelExit>;
  private resolveDone!: (e: TunnelExit) => void;
  private readonly stateDir: TunnelStateDir;
  private readonly useControl: boolean;
  private control: ControlServer | null = null;
  private phaseValue: TunnelPhase = 'idle';
  private link: Link | null = null;
  private linkSeq = 0;
  private iface: TunnelInterface | null = null;
  private ifaceReady = false;
  private pending6: { local: string; peer: string } | null = null;
  private routesAdded = false;
  private dns: string[] = [];
  private resolvConf: string | null = null;
  private closing = false;
  private started = false;
  private tornDown: Promise<void> | null = null;
  private startedAt = 0;
  private startedWall = new Date();
  private upSince: number | null = null;
  private reconnects = 0;
  private reconnectNowFlag = false;
  private sleeper: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  private configChain: Promise<void> = Promise.resolve();
  private lastRttMs: number | null = null;
  private remote: string;
  private sshInfo: { cipher: string | null; hostKey: string | null } = {
    cipher: null,
    hostKey: null,
  };
  /** Counters of links that ended (the current link's engine adds its own). */
  private readonly base = {
    tx: { packets: 0, bytes: 0 },
    rx: { packets: 0, bytes: 0 },
    drops: 0,
    errors: 0,
    echoSent: 0,
    echoAnswered: 0,
  };
  /** Drops outside any engine: no link, no interface yet. */
  private localDrops = 0;

  constructor(config: PeerConfig, opts: ClientTunnelOptions = {}) {
    super();
    this.config = config;
    this.log = opts.logger ?? new Logger();
    this.stateDir = new TunnelStateDir(config.name, opts.stateRoot ?? DEFAULT_STATE_ROOT);
    this.useControl = opts.controlSocket ?? true;
    this.remote = `${config.ssh.user}@${config.ssh.host}:${config.ssh.port}`;
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
   * TunnelError (after cleaning up) when the first attempt fails. `done` resolves too.
   */
  async start(): Promise<void> {
    if (this.phaseValue !== 'idle') throw new TunnelError('internal', 'start() called twice');
    this.startedAt = performance.now();
    this.startedWall = new Date();
    try {
      this.lockStateDir();
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
      await this.finish({ kind: e.kind, message: e.message });
      throw e;
    }
  }

  /** Graceful teardown (LCP Terminate, bounded wait); resolves when everything is removed. */
  async close(reason = 'User request'): Promise<TunnelExit> {
    if (!this.closing) {
      const neverStarted = this.phaseValue === 'idle';
      this.closing = true;
      this.setPhase('closing');
      this.sleeper?.wake();
      const link = this.link;
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

  /** Drops the current link and connects again at once (SIGHUP, control `reconnect`). */
  reconnectNow(): void {
    if (this.closing) return;
    this.reconnectNowFlag = true;
    if (this.sleeper) {
      this.log.info('reconnect requested: retrying now');
      this.sleeper.wake();
      return;
    }
    const link = this.link;
    if (link?.up && !link.ended) {
      this.log.info('reconnect requested: closing the link');
      link.driver.close('Reconnect requested');
      setTimeout(() => this.endLink(link, 'link-lost', 'reconnect requested'), 1000).unref();
    }
  }

  status(): TunnelStatus {
    const now = performance.now();
    const st = this.link ? this.link.engine.stats() : null;
    const tun = this.iface?.tun.stats();
    const add = (s: EngineStats | null) => {
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
        drops: (v4?.drops ?? 0) + (v6?.drops ?? 0) + (s?.framing.tx.drops ?? 0),
        errors: s ? s.framing.rx.badFcs + s.framing.rx.tooLong + s.framing.rx.badHeader : 0,
      };
    };
    const cur = add(st);
    const i = this.iface;
    return {
      name: this.config.name,
      pid: process.pid,
      phase: this.phaseValue,
      remote: this.remote,
      interface: i?.name ?? null,
      local: i?.local4 ?? null,
      peer: i?.peer4 ?? null,
      dns: this.dns,
      ipv6: i?.local6 && i.peer6 ? { local: i.local6, peer: i.peer6 } : null,
      mtu: i?.mtu ?? null,
      routes: i?.routes ?? [],
      startedAt: this.startedWall.toISOString(),
      upSince:
        this.upSince === null ? null : new Date(Date.now() - (now - this.upSince)).toISOString(),
      uptimeMs: this.upSince === null ? 0 : Math.round(now - this.upSince),
      reconnects: this.reconnects,
      tx: {
        packets: this.base.tx.packets + cur.tx.packets,
        bytes: this.base.tx.bytes + cur.tx.bytes,
      },
      rx: {
        packets: this.base.rx.packets + cur.rx.packets,
        bytes: this.base.rx.bytes + cur.rx.bytes,
      },
      drops: this.base.drops + cur.drops + this.localDrops + (tun ? tun.txDrops + tun.rxDrops : 0),
      errors: this.base.errors + cur.errors + (tun?.errors ?? 0),
      echo: {
        lastRttMs: this.lastRttMs === null ? null : Math.round(this.lastRttMs * 10) / 10,
        sent: this.base.echoSent + (st?.echo.sent ?? 0),
        answered: this.base.echoAnswered + (st?.echo.answered ?? 0),
      },
      ssh: this.sshInfo,
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
    const removed = routes.length > 0 ? await removeStaleRoutes(routes) : [];
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
    this.setPhase(this.reconnects > 0 || this.routesAdded ? 'reconnecting' : 'connecting');
    this.log.info(`connecting to ${this.remote} …`);
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
        if (/accept|added|warning/i.test(m)) this.log.warn(m);
        else this.log.debug(m);
      },
    }).catch((err) => {
      throw toTunnelError(err);
    });
    const info = conn.info;
    this.sshInfo = { cipher: info.cipher ?? null, hostKey: info.hostKeyFingerprint ?? null };
    this.log.info(
      `ssh: connected in ${ms(info.handshakeMs ?? 0)} (${info.cipher}, host key ${info.hostKeyFingerprint} verified by ${info.hostKeyVerifiedBy})`,
    );
    this.log.info(
      `ssh: authenticated as ${cfg.ssh.user} (${lastTried || 'publickey'}) in ${ms(info.authMs ?? 0)}`,
    );
    const serverAddr =
      (conn.client as unknown as { _sock?: { remoteAddress?: string } })._sock?.remoteAddress ??
      cfg.ssh.host;
    if (this.closing) {
      await conn.end();
      throw new TunnelError('internal', 'closed');
    }
    let transport: SshTransport;
    try {
      transport = await conn.exec(cfg.remote.command);
    } catch (err) {
      await conn.end();
      throw toTunnelError(err);
    }
    this.log.debug(`ssh: running ${JSON.stringify(cfg.remote.command)}`);
    return this.runLink(transport, serverAddr);
  }

  private runLink(transport: SshTransport, serverAddr: string): Promise<void> {
    const cfg = this.config;
    const id = ++this.linkSeq;
    const previous = this.iface?.local4 ?? null;
    const engine = new PppEngine(
      clientEngineOptions(cfg, (line) => this.engineLog(line), previous),
      (_v, pkt) => this.onLinkPacket(pkt),
    );
    const driver = new LinkDriver(engine, transport);
    let markFinished!: () => void;
    const finished = new Promise<void>((r) => {
      markFinished = r;
    });
    return new Promise<void>((resolve, reject) => {
      const link: Link = {
        id,
        transport,
        engine,
        driver,
        serverAddr,
        t0: performance.now(),
        mtu: 1500,
        up: false,
        ended: false,
        authFailure: null,
        negotiationTimer: null,
        finished,
        markFinished,
        resolveUp: resolve,
        rejectUp: reject,
      };
      this.link = link;
      this.setPhase('negotiating');
      transport.onStderr((line) => this.log.info(`remote: ${line}`));
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

  private engineLog(line: string): void {
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
        this.log.info(
          `ppp: LCP up (mru ${ev.mru}, peer mru ${ev.mtu}) in ${ms(performance.now() - link.t0)}`,
        );
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
          `ppp: IPCP up: local ${ev.local} peer ${ev.peer}${ev.dns.length ? ` dns ${ev.dns.join(' ')}` : ''}`,
        );
        this.serialize(() => this.onIpv4Up(link, ev.local, ev.peer, ev.dns)).catch((err) => {
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
        const why = link.authFailure
          ? `PPP authentication failed: ${link.authFailure}`
          : `PPP link finished: ${ev.reason}`;
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
      this.endLink(link, 'link-lost', r.message);
    } else if (r.code === 'SSH_CLOSED' || r.code === 'ERROR') {
      this.endLink(link, 'connect', `${r.message} (before PPP came up)`);
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
      this.iface = await TunnelInterface.open(cfg.tunnel.interface, this.log);
      const tun = this.iface.tun;
      tun.onPackets((batch) => this.onTunPackets(batch));
      tun.on('error', (err: Error) => {
        if (!this.closing) void this.fail('system', `TUN device: ${err.message}`);
      });
    }
    const iface = this.iface;
    const p6 = this.pending6;
    this.pending6 = null;
    const changed = iface.local4 !== null && (iface.local4 !== local || iface.peer4 !== peer);
    if (changed)
      this.log.warn(
        `far end changed the addresses: ${iface.local4} → ${local}, peer ${iface.peer4} → ${peer}; reconfiguring ${iface.name}`,
      );
    if (iface.local4 === null || changed || iface.mtu !== mtu)
      await iface.configure4(local, peer, mtu);
    this.ifaceReady = true;
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
        server: link.serverAddr,
        metric: cfg.tunnel.metric,
      });
      this.routesAdded = true;
    }
    this.dns = dns;
    if (cfg.ppp.usePeerDns && dns.length > 0) this.writeResolvConf(dns);
    if (link.ended) return;
    link.up = true;
    if (link.negotiationTimer) clearTimeout(link.negotiationTimer);
    this.writeState();
    this.upSince = performance.now();
    this.setPhase('up');
    const routes = iface.routes;
    const total =
      this.reconnects > 0 || link.id > 1
        ? performance.now() - link.t0
        : performance.now() - this.startedAt;
    this.log.info(
      `tunnel up: ${iface.name} ${local} → ${peer}, mtu ${mtu}, routes ${routes.length ? routes.join(', ') : 'none'}, in ${ms(total)} total`,
    );
    link.resolveUp();
    this.emit('up', this.status());
    if (cfg.hooks.up) void this.hook('up', cfg.hooks.up);
  }

  private writeResolvConf(dns: string[]): void {
    const path = this.config.dns.writeTo;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      writeFileSync(
        path,
        `# written by ts-vpn for tunnel ${this.config.name}\n${dns.map((d) => `nameserver ${d}\n`).join('')}`,
      );
      this.resolvConf = path;
    } catch (err) {
      this.log.warn(`cannot write ${path}: ${(err as Error).message}`);
    }
  }

  private writeState(): void {
    const i = this.iface;
    const state: SavedState = {
      pid: process.pid,
      interface: i?.name ?? null,
      local: i?.local4 ?? null,
      peer: i?.peer4 ?? null,
      routes: i?.routeHandles() ?? [],
      resolvConf: this.resolvConf,
    };
    try {
      this.stateDir.writeState(state);
    } catch (err) {
      this.log.warn(`cannot write ${this.stateDir.statePath}: ${(err as Error).message}`);
    }
  }

  private async hook(which: 'up' | 'down', command: string): Promise<void> {
    const i = this.iface;
    const r = await runHook(
      command,
      {
        TSVPN_NAME: this.config.name,
        TSVPN_INTERFACE: i?.name ?? '',
        TSVPN_LOCAL: i?.local4 ?? '',
        TSVPN_PEER: i?.peer4 ?? '',
        TSVPN_EVENT: which,
      },
      this.config.hooks.timeoutMs,
    );
    if (!r.ok) this.log.warn(`${which} hook ${JSON.stringify(command)}: ${r.message}`);
  }

  // ---- data path ---------------------------------------------------------------------------

  /** TUN → link. The ring views are valid only during this call; the engine frames them synchronously. */
  private onTunPackets(batch: Uint8Array[]): void {
    const link = this.link;
    if (link === null || !link.up || link.ended) {
      this.localDrops += batch.length;
      return;
    }
    link.driver.sendPackets(batch);
  }

  /** Link → TUN. */
  private onLinkPacket(pkt: Uint8Array): void {
    const iface = this.iface;
    if (iface === null || !this.ifaceReady) {
      this.localDrops++;
      return;
    }
    iface.tun.write(pkt);
  }

  // ---- link loss, reconnect, teardown --------------------------------------------------------

  private endLink(link: Link, kind: FailureKind, message: string): void {
    if (link.ended) return;
    link.ended = true;
    if (link.negotiationTimer) clearTimeout(link.negotiationTimer);
    link.driver.stop();
    void link.transport.close();
    const st = link.engine.stats();
    const v4 = st.protocols.ipv4;
    const v6 = st.protocols.ipv6;
    this.base.tx.packets += v4.txPackets + v6.txPackets;
    this.base.tx.bytes += v4.txBytes + v6.txBytes;
    this.base.rx.packets += v4.rxPackets + v6.rxPackets;
    this.base.rx.bytes += v4.rxBytes + v6.rxBytes;
    this.base.drops += v4.drops + v6.drops + st.framing.tx.drops;
    this.base.errors += st.framing.rx.badFcs + st.framing.rx.tooLong + st.framing.rx.badHeader;
    this.base.echoSent += st.echo.sent;
    this.base.echoAnswered += st.echo.answered;
    if (this.link === link) this.link = null;
    if (!link.up) {
      link.rejectUp(new TunnelError(kind === 'ok' || kind === 'link-lost' ? 'ppp' : kind, message));
      return;
    }
    if (this.closing) return;
    this.upSince = null;
    this.emit('down', message);
    const rc = this.config.reconnect;
    if (rc.enabled || this.reconnectNowFlag) {
      this.log.warn(`link lost: ${message}`);
      void this.reconnectLoop();
    } else {
      void this.fail('link-lost', `link lost: ${message} (reconnect is off)`);
    }
  }

  private async reconnectLoop(): Promise<void> {
    const rc = this.config.reconnect;
    let wait = this.reconnectNowFlag ? 0 : rc.holdoffMs;
    let failures = 0;
    this.setPhase('reconnecting');
    while (!this.closing) {
      if (wait > 0) this.log.info(`reconnecting in ${(wait / 1000).toFixed(1)} s`);
      this.reconnectNowFlag = false;
      await this.sleep(wait);
      if (this.closing) return;
      try {
        await this.attempt();
        this.reconnects++;
        this.log.info(
          `reconnected (${this.reconnects} reconnect${this.reconnects === 1 ? '' : 's'} so far)`,
        );
        return;
      } catch (err) {
        if (this.closing) return;
        const e = toTunnelError(err);
        this.setPhase('reconnecting');
        if (
          e.kind === 'host-key' ||
          e.kind === 'auth' ||
          e.kind === 'system' ||
          e.kind === 'internal'
        ) {
          await this.fail(e.kind, e.message);
          return;
        }
        failures++;
        this.log.warn(`reconnect attempt ${failures} failed: ${e.message}`);
        if (rc.maxFail > 0 && failures >= rc.maxFail) {
          await this.fail(
            'link-lost',
            `link lost and ${failures} reconnect attempts failed: ${e.message}`,
          );
          return;
        }
        wait = this.reconnectNowFlag
          ? 0
          : Math.min(Math.max(wait * 2, rc.holdoffMs), rc.maxBackoffMs);
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
      const link = this.link;
      if (link && !link.ended) this.endLink(link, exit.kind, exit.message);
      const cfg = this.config;
      if (cfg.hooks.down && this.iface && this.routesAdded) await this.hook('down', cfg.hooks.down);
      const closers: Promise<unknown>[] = [];
      if (link) closers.push(link.transport.close());
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
      if (this.resolvConf) rmSync(this.resolvConf, { force: true });
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

function delay(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, t).unref());
}
