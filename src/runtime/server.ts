/**
 * ServeSession: `ts-vpn serve`, the far end of one tunnel. PPP runs over our
 * stdin/stdout (the SSH exec channel); logs go to stderr, which the SSH client shows.
 *
 * We are the side that assigns addresses: our own from the config, the client's
 * leased from the pool shared by concurrent sessions (or fixed). A client proposal
 * is accepted only if policy allows it (in the pool and free, or the fixed address),
 * never just because the client asked. The session ends on stdin EOF, LCP
 * Terminate or echo failure, and removes its TUN device, routes and lease.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ServerConfig } from '../config/index.js';
import type { EngineEvent } from '../engine/index.js';
import { type LinkEndFacts, LinkSession } from '../link/index.js';
// stdio.js directly, not the transport index: serve must not load ssh2.
import { StdioTransport } from '../transport/stdio.js';
import type { CloseReason, Transport } from '../transport/types.js';
import { parseIpPrefix, prefixContains } from '../wire/ip.js';
import { AddressPool } from './address-pool.js';
import type { TunnelExit } from './client.js';
import { DataPath } from './data-path.js';
import { dropTunnelPrivileges } from './drop-privileges.js';
import { serverEngineOptions } from './engine-options.js';
import { type FailureKind, TunnelError, toTunnelError } from './errors.js';
import type { TunnelInterface } from './interface.js';
import { loadInterfaceModule } from './interface-loader.js';
import { Logger } from './logger.js';
import { claimPidFile, releasePidFile } from './pid-file.js';
import { SerialQueue } from './serial.js';
import { closeSessionDevice, trafficSummary } from './session-end.js';

export interface ServeOptions {
  logger?: Logger;
  /** Default: our stdin/stdout. */
  transport?: Transport;
  /** TUN name pattern; default `tsvs%d`. */
  interfaceName?: string;
  /**
   * Networks the client claims as its own (`ts-vpn serve --client-route P`, in the
   * client's remote.command). Routed to this session only when inside the server's
   * `allow-client-routes`; anything else is refused and logged.
   */
  clientRoutes?: readonly string[];
}

/**
 * One of `max` session slots (`<dir>/slot-N` holding the owner's pid, O_EXCL; a slot
 * whose pid is gone is taken over). Null when every slot belongs to a live session.
 */
export function takeSessionSlot(
  dir: string,
  max: number,
  pid: number = process.pid,
): string | null {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let i = 0; i < max; i++) {
    const path = join(dir, `slot-${i}`);
    if (claimPidFile(path, pid)) return path;
  }
  return null;
}

function releaseSlot(path: string, pid: number = process.pid): void {
  releasePidFile(path, pid);
}

/** True when prefix `inner` lies entirely inside prefix `outer` (same family). */
export function prefixWithin(outer: string, inner: string): boolean {
  const o = parseIpPrefix(outer);
  const i = parseIpPrefix(inner);
  return o !== null && i !== null && i.prefixLen >= o.prefixLen && prefixContains(o, i);
}

export class ServeSession extends EventEmitter<{
  up: [{ interface: string; local: string; peer: string }];
  closed: [TunnelExit];
}> {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly done: Promise<TunnelExit>;
  private resolveDone!: (e: TunnelExit) => void;
  private readonly ifName: string;
  private transport: Transport | null = null;
  private session: LinkSession | null = null;
  private pool: AddressPool | null = null;
  /** Addresses this session holds in the pool (the assigned one, and a client's wish while negotiating). */
  private readonly leases = new Set<string>();
  private assigned = '';
  /** TUN ↔ link forwarding (opened when IPCP opens). */
  private readonly data: DataPath;
  private routesAdded = false;
  private up = false;
  private ending: Promise<void> | null = null;
  private readonly changes = new SerialQueue();
  private t0 = 0;
  private finishedSeen!: () => void;
  private readonly finished = new Promise<void>((r) => {
    this.finishedSeen = r;
  });
  private slot: string | null = null;
  private refusing: string | null = null;
  private readonly clientRoutes: readonly string[];

  constructor(config: ServerConfig, opts: ServeOptions = {}) {
    super();
    this.config = config;
    this.log = opts.logger ?? new Logger();
    this.ifName = opts.interfaceName ?? 'tsvs%d';
    this.transport = opts.transport ?? null;
    this.clientRoutes = opts.clientRoutes ?? [];
    this.data = new DataPath({
      log: this.log,
      prefix: 'serve: ',
      farEnd: 'client',
      onDeviceError: (err) => void this.end('system', `TUN device: ${err.message}`),
    });
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Leases the client address and starts PPP. Throws TunnelError when no address is free. */
  start(): void {
    const cfg = this.config;
    this.t0 = performance.now();
    try {
      this.slot = takeSessionSlot(join(cfg.stateDir, 'serve-sessions'), cfg.maxSessions);
    } catch (err) {
      this.log.warn(`serve: cannot count sessions: ${(err as Error).message}`);
    }
    if (this.slot === null && !this.refusing) {
      this.refuse(
        `too many sessions: all ${cfg.maxSessions} allowed by max-sessions are in use; try again later`,
      );
      return;
    }
    try {
      if (cfg.pool) {
        this.pool = new AddressPool(cfg.pool, join(cfg.stateDir, 'serve-leases'), [
          cfg.localAddress,
        ]);
        this.assigned = this.pool.lease(process.pid);
        this.leases.add(this.assigned);
      } else {
        this.assigned = cfg.peerAddress ?? '';
      }
    } catch (err) {
      const e = new TunnelError(
        'ppp',
        `cannot assign a client address: ${(err as Error).message}`,
        { cause: err },
      );
      void this.end(e.kind, e.message);
      throw e;
    }
    const transport = this.transport ?? new StdioTransport();
    this.transport = transport;
    const session = new LinkSession(transport, {
      engine: {
        ...serverEngineOptions(
          cfg,
          (line) => this.engineLog(line),
          this.assigned,
          (a) => this.acceptPeer(a),
        ),
        gso: cfg.offload,
      },
      onIpPacket: (_v, pkt) => this.data.onLinkPacket(pkt),
      onGsoFrame: (frame) => this.data.onLinkGsoFrame(frame),
    });
    this.session = session;
    this.data.attach(session);
    transport.onClose((r) => this.onTransportClose(r));
    session.on('event', (ev) => this.onEngineEvent(ev));
    session.on('echo-failure', (n) => {
      // The client is gone: do not wait for Terminate-Request retries.
      if (this.ending) return;
      setImmediate(
        () => void this.end('link-lost', `client not responding to LCP echo (${n} echo-requests)`),
      );
    });
    session.on('finished', (f) => this.onFinished(f));
    this.log.info(
      `serve: PPP session started, offering ${this.assigned} (server ${cfg.localAddress})`,
    );
    session.start();
    // Load the TUN/netlink code while LCP negotiates (awaited when IPCP opens).
    loadInterfaceModule().catch(() => undefined);
  }

  /**
   * Refuses the session: LCP comes up only to carry a Terminate-Request with the
   * reason (the client prints it), then the session ends. No address is leased.
   */
  private refuse(reason: string): void {
    this.refusing = reason;
    this.log.error(`serve: refusing the session: ${reason}`);
    const transport = this.transport ?? new StdioTransport();
    this.transport = transport;
    const session = new LinkSession(transport, {
      engine: serverEngineOptions(
        this.config,
        (line) => this.engineLog(line),
        this.config.localAddress,
        () => false,
      ),
    });
    this.session = session;
    let closed = false;
    const stop = () => {
      if (closed) return;
      closed = true;
      session.close(reason);
    };
    transport.onClose(() => {
      this.finishedSeen();
      void this.end('busy', reason);
      session.lowerDown();
    });
    session.on('event', (ev) => {
      if (ev.type === 'lcp-up') stop();
    });
    session.on('finished', () => {
      this.finishedSeen();
      void this.end('busy', reason);
    });
    // LCP may never open (a silent client): give up after a while.
    setTimeout(() => {
      stop();
      setTimeout(() => void this.end('busy', reason), 3000).unref();
    }, 10_000).unref();
    session.start();
  }

  /** Graceful end: LCP Terminate (bounded wait), then teardown. */
  async close(reason = 'User request'): Promise<TunnelExit> {
    if (this.session && !this.ending) {
      this.session.close(reason);
      await Promise.race([this.finished, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    void this.end('ok', reason);
    return this.done;
  }

  /** Policy for the client's proposed address: ours to give, and free. */
  private acceptPeer(addr: string): boolean {
    const cfg = this.config;
    if (addr === this.assigned) return true;
    if (addr === cfg.localAddress) return false;
    if (!this.pool?.contains(addr)) return false;
    if (this.leases.has(addr)) return true;
    let got: string;
    try {
      got = this.pool.lease(process.pid, addr);
    } catch {
      return false;
    }
    if (got !== addr) {
      this.pool.release(got);
      return false;
    }
    this.leases.add(addr);
    return true;
  }

  /** `the client closed the link (…)` once it sent a Terminate-Request. */
  private peerTerminated(): string | null {
    const t = this.session?.peerTerminated ?? null;
    return t === null ? null : `the client closed the link${t ? ` (${t})` : ''}`;
  }

  private engineLog(line: string): void {
    if (/^No response to \d+ echo-requests/.test(line) && !this.ending) {
      this.log.info(`serve: ${line}`);
      return;
    }
    if (this.config.debug) this.log.info(line);
    else if (
      !line.startsWith('sent [') &&
      !line.startsWith('rcvd [') &&
      /finished|failed|terminated by peer|Could not|No response|not accepted/.test(line)
    ) {
      this.log.info(`serve: ${line}`);
    } else this.log.debug(line);
  }

  private onEngineEvent(ev: EngineEvent): void {
    switch (ev.type) {
      case 'auth-ok':
        this.log.info(`serve: client authenticated${ev.peerName ? ` as ${ev.peerName}` : ''}`);
        return;
      case 'auth-failed':
        this.log.warn(`serve: authentication failed: ${ev.message}`);
        return;
      case 'ipv4-up':
        this.serialize(() => this.onIpv4Up(ev.local, ev.peer)).catch((err) => {
          const e = toTunnelError(err);
          void this.end('system', `configuring the interface: ${e.message}`);
        });
        return;
      case 'ipv6-up':
        this.serialize(async () => {
          if (this.ending) return;
          await this.data.configure6(ev.local, ev.peer);
        }).catch((err) =>
          this.log.warn(`serve: IPv6 link-local address: ${(err as Error).message}`),
        );
        return;
      default:
        return;
    }
  }

  private onFinished(f: LinkEndFacts): void {
    this.finishedSeen();
    if (f.authFailure) void this.end('ppp', `PPP authentication failed: ${f.authFailure}`);
    else if (/not responding/.test(f.reason))
      void this.end('link-lost', `client not responding to LCP echo`);
    else
      void this.end(
        this.up ? 'ok' : 'ppp',
        this.peerTerminated() ?? `PPP link finished: ${f.reason}`,
      );
  }

  private onTransportClose(r: CloseReason): void {
    this.finishedSeen();
    const auth = this.session?.authFailure ?? null;
    const why =
      (auth === null ? null : `PPP authentication failed: ${auth}`) ??
      this.peerTerminated() ??
      (r.code === 'EOF' ? 'the client closed the connection (stdin EOF)' : r.message);
    void this.end(this.up || r.code === 'LOCAL' ? 'ok' : 'ppp', why);
    this.session?.lowerDown();
  }

  private serialize(fn: () => Promise<void>): Promise<void> {
    return this.changes.run(fn);
  }

  private async onIpv4Up(local: string, peer: string): Promise<void> {
    if (this.ending) return;
    const cfg = this.config;
    // Keep only the lease the client ended up with.
    for (const a of this.leases) {
      if (a !== peer) {
        this.pool?.release(a);
        this.leases.delete(a);
      }
    }
    this.assigned = peer;
    const session = this.session!;
    const fresh = this.data.iface === null;
    const iface = await this.data.open(this.ifName, session.gso);
    // The session needs no more than CAP_NET_ADMIN from here on (docs/SECURITY.md).
    if (fresh)
      dropTunnelPrivileges({
        user: null,
        group: null,
        stateDir: null,
        readLater: [],
        log: this.log,
      });
    if (await this.data.configure4(local, peer, session.mtu, session.gso)) this.routesAdded = false;
    if (!this.routesAdded) {
      this.routesAdded = true;
      for (const dst of cfg.routes) {
        try {
          await iface.addRoutes({ routes: [dst] });
        } catch (err) {
          this.log.warn(`serve: route ${dst}: ${(err as Error).message}`);
        }
      }
      await this.addClientRoutes(iface);
    }
    this.up = true;
    session.markUp();
    this.log.info(
      `serve: session up: ${iface.name} ${local} → ${peer} in ${Math.round(performance.now() - this.t0)} ms${iface.routes.length ? `, routes ${iface.routes.join(', ')}` : ''}`,
    );
    this.emit('up', { interface: iface.name, local, peer });
  }

  /** Routes to the networks the client claims, within `allow-client-routes` only. */
  private async addClientRoutes(iface: TunnelInterface): Promise<void> {
    const allowed = this.config.allowClientRoutes;
    for (const dst of this.clientRoutes) {
      if (!allowed.some((a) => prefixWithin(a, dst))) {
        this.log.warn(
          `serve: client route ${dst} refused: not inside allow-client-routes (${allowed.length ? allowed.join(', ') : 'none'})`,
        );
        continue;
      }
      try {
        await iface.addRoutes({ routes: [dst] });
      } catch (err) {
        this.log.warn(`serve: client route ${dst}: ${(err as Error).message}`);
      }
    }
  }

  private end(kind: FailureKind, message: string): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = (async () => {
      const name = await closeSessionDevice(this.session, this.data, this.changes, (m) =>
        this.log.warn(`serve: ${m}`),
      );
      for (const a of this.leases) this.pool?.release(a);
      this.leases.clear();
      if (this.slot) releaseSlot(this.slot);
      this.slot = null;
      if (this.transport) await this.transport.close().catch(() => undefined);
      const st = this.session?.stats();
      const v4 = st?.protocols.ipv4;
      this.log.info(
        `serve: session ended: ${message}${name ? `; removed ${name}` : ''}${v4 ? ` ${trafficSummary({ packets: v4.rxPackets, bytes: v4.rxBytes }, { packets: v4.txPackets, bytes: v4.txBytes })}` : ''}`,
      );
      const exit = { kind, message };
      this.emit('closed', exit);
      this.resolveDone(exit);
    })();
    return this.ending;
  }
}
