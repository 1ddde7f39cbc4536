/**
 * One client session of the gateway: a PPP link over one accepted unix socket
 * (an SSH channel that sshd connected for the user), one TUN device, one address
 * from the gateway's book, the user's routes and a proxy ARP entry. Everything
 * it adds is removed when it ends, whatever ends it (Terminate, EOF, echo
 * failure, negotiation deadline, `ts-vpn down --session`, gateway stop).
 *
 * The PPP side is the house's one LinkSession (src/link) and the TUN side the
 * runtime's DataPath, as in `ts-vpn serve`: one input chunk or one TUN batch
 * becomes one socket write; while the socket pushes back, this session's TUN
 * reader pauses (its packets wait in its own kernel queue), so one busy session
 * cannot fill memory the others need.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayConfig, GatewayPolicy } from '../config/gateway.js';
import type { EngineEvent } from '../engine/index.js';
import { type ByteStream, LinkSession } from '../link/index.js';
import { linkCounters } from '../runtime/client-status.js';
import { DataPath } from '../runtime/data-path.js';
import { loadInterfaceModule } from '../runtime/interface-loader.js';
import type { Logger } from '../runtime/logger.js';
import { SerialQueue } from '../runtime/serial.js';
import { prefixWithin } from '../runtime/server.js';
import { closeSessionDevice, trafficSummary } from '../runtime/session-end.js';
import { ClaimReader } from './claims.js';
import { gatewayEngineOptions, refusalEngineOptions } from './engine-options.js';
import type { LanSide } from './lan.js';
import type { UserIdentity } from './peercred.js';
import type { AddressBook } from './pool.js';
import { socketStream } from './socket-stream.js';

/** Bound on LCP/IPCP negotiation: a client that never finishes is dropped. */
export const NEGOTIATION_LIMIT_MS = 30_000;
/** How long a refused client gets to read the Terminate-Request. */
const REFUSAL_LIMIT_MS = 10_000;

export type SessionState = 'negotiating' | 'up' | 'refused' | 'closed';

/** How a session ended, counted by the gateway for `status`. */
export type SessionEndCause =
  | 'client-closed'
  | 'vanished'
  | 'garbage'
  | 'echo-failure'
  | 'negotiation-timeout'
  | 'refused'
  | 'auth-failed'
  | 'admin'
  | 'gateway-stop'
  | 'error';

export interface SessionStatus {
  id: string;
  user: string;
  uid: number;
  sshdPid: number;
  state: SessionState;
  interface: string | null;
  local: string | null;
  peer: string | null;
  routes: string[];
  /** Claimed networks behind the client routed to this session (also in `routes`). */
  clientRoutes: string[];
  startedAt: number;
  upMs: number | null;
  /** Accepted connection → our first PPP frame written, ms. */
  firstFrameMs: number | null;
  echoRttMs: number | null;
  rx: { packets: number; bytes: number };
  tx: { packets: number; bytes: number };
  drops: number;
  /** Frames with a bad FCS, too long, too short, aborted or with a bad header. */
  badFrames: number;
  /** Bytes read from the client's channel (PPP framing included, valid or not). */
  rxBytes: number;
}

export interface SessionContext {
  cfg: GatewayConfig;
  book: AddressBook;
  lan: LanSide;
  log: Logger;
}

export class GatewaySession {
  readonly id: string;
  readonly who: UserIdentity;
  readonly sshdPid: number;
  readonly startedAt = Date.now();
  readonly done: Promise<SessionEndCause>;
  state: SessionState = 'negotiating';
  private resolveDone!: (c: SessionEndCause) => void;
  private readonly ctx: SessionContext;
  private readonly sock: Socket;
  private readonly log: Logger;
  private link: LinkSession | null = null;
  private readonly data: DataPath;
  private policy: GatewayPolicy | null = null;
  /** Addresses held in the book (the assigned one, and a client's wish while negotiating). */
  private readonly held = new Set<string>();
  private assigned = '';
  /** When the connection was accepted (performance.now()). */
  private readonly t0: number;
  private upMs: number | null = null;
  /** Accepted connection → our first PPP frame written to it, ms. */
  private firstFrameMs: number | null = null;
  private ending: Promise<void> | null = null;
  private readonly changes = new SerialQueue();
  /** The client's claim line (networks behind it), read before PPP. */
  private readonly claims = new ClaimReader();
  /** Claimed networks routed to this session (inside the user's allow-client-routes). */
  private clientRoutes: string[] = [];
  private deadline: NodeJS.Timeout | null = null;

  constructor(
    id: string,
    sock: Socket,
    who: UserIdentity,
    sshdPid: number,
    ctx: SessionContext,
    acceptedAt = performance.now(),
  ) {
    this.id = id;
    this.t0 = acceptedAt;
    this.sock = sock;
    this.who = who;
    this.sshdPid = sshdPid;
    this.ctx = ctx;
    this.log = ctx.log;
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    this.data = new DataPath({
      log: ctx.log,
      prefix: `gateway: session ${id}: `,
      farEnd: 'client',
      onDeviceError: (err) => void this.end('error', `TUN device: ${err.message}`),
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.onSocketClose());
  }

  private get tag(): string {
    return `session ${this.id} (${this.who.user}, uid ${this.who.uid})`;
  }

  /** Starts PPP for an allowed user with the address taken for it. */
  start(policy: GatewayPolicy, address: string): void {
    const cfg = this.ctx.cfg;
    this.policy = policy;
    this.assigned = address;
    this.held.add(address);
    const link = new LinkSession(this.stream(), {
      engine: {
        ...gatewayEngineOptions(
          cfg,
          policy,
          (line) => this.engineLog(line),
          address,
          (a) => this.acceptPeer(a),
        ),
        // The engine finishes the link (cause negotiation-timeout) when no network
        // protocol is up by then.
        negotiationTimeoutMs: NEGOTIATION_LIMIT_MS,
      },
      onIpPacket: (_v, pkt) => this.data.onLinkPacket(pkt),
      onGsoFrame: (frame) => this.data.onLinkGsoFrame(frame),
    });
    this.run(link);
    this.data.attach(link);
    link.on('echo-failure', (n) => {
      if (this.ending) return;
      this.log.info(`gateway: ${this.tag}: no answer to ${n} LCP echo-requests`);
      setImmediate(() => void this.end('echo-failure', 'client not responding to LCP echo'));
    });
    // The first frame goes out before anything else (the log line is a synchronous write).
    link.start();
    this.log.info(`gateway: ${this.tag}: PPP started, offering ${address}`);
    loadInterfaceModule().catch(() => undefined);
  }

  /**
   * Refuses the user: LCP comes up only to carry a Terminate-Request with the
   * reason, which the client prints. Nothing is allocated.
   */
  refuse(reason: string): void {
    this.state = 'refused';
    this.log.warn(
      `gateway: refused ${this.who.user} (uid ${this.who.uid}, sshd pid ${this.sshdPid}): ${reason}`,
    );
    const link = new LinkSession(this.stream(), {
      engine: refusalEngineOptions(this.ctx.cfg, (l) => this.log.debug(`${this.id}: ${l}`)),
    });
    this.run(link);
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      link.close(reason);
    };
    link.on('event', (ev) => {
      if (ev.type === 'lcp-up') stop();
    });
    this.deadline = setTimeout(() => {
      stop();
      setTimeout(() => void this.end('refused', reason), 3000).unref();
    }, REFUSAL_LIMIT_MS);
    this.deadline.unref();
    link.start();
  }

  /** The socket as this session's link stream (first frame timed, claim line taken off). */
  private stream(): ByteStream {
    return socketStream(
      this.sock,
      () => {
        this.firstFrameMs = performance.now() - this.t0;
      },
      this.claims,
    );
  }

  private run(link: LinkSession): void {
    this.link = link;
    link.on('event', (ev) => this.onEngineEvent(ev));
  }

  /** Ends the session with an LCP Terminate-Request (bounded wait), then tears down. */
  async close(reason: string, cause: SessionEndCause = 'admin'): Promise<void> {
    if (this.ending) return this.ending;
    if (this.link && this.state !== 'closed') {
      this.link.close(reason);
      await Promise.race([this.done, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    return this.end(cause, reason);
  }

  private acceptPeer(addr: string): boolean {
    const policy = this.policy;
    if (!policy) return false;
    if (addr === this.assigned) return true;
    // A fixed address is the only one; from a pool, a free address of the user's pool.
    if (policy.address !== null || !this.ctx.book.inPool(policy.pool, addr)) return false;
    if (this.held.has(addr)) return true;
    const got = this.ctx.book.lease(policy.pool, this.id, addr);
    if (got !== addr) {
      if (got !== null) this.ctx.book.release(got, this.id);
      return false;
    }
    this.held.add(addr);
    return true;
  }

  private engineLog(line: string): void {
    if (this.ctx.cfg.debug) this.log.info(`${this.id}: ${line}`);
    else this.log.debug(`${this.id}: ${line}`);
  }

  private onEngineEvent(ev: EngineEvent): void {
    switch (ev.type) {
      case 'auth-failed':
        this.log.warn(`gateway: ${this.tag}: PPP authentication failed: ${ev.message}`);
        return;
      case 'ipv4-up':
        this.serialize(() => this.onIpv4Up(ev.local, ev.peer)).catch(
          (err) => void this.end('error', `configuring the interface: ${(err as Error).message}`),
        );
        return;
      case 'ipv6-up':
        this.serialize(async () => {
          if (!this.ending) await this.data.configure6(ev.local, ev.peer);
        }).catch((err) => this.log.warn(`gateway: ${this.tag}: IPv6: ${(err as Error).message}`));
        return;
      case 'finished':
        if (this.state === 'refused') void this.end('refused', ev.reason);
        else if (ev.cause === 'negotiation-timeout')
          void this.end('negotiation-timeout', `PPP not up after ${NEGOTIATION_LIMIT_MS / 1000} s`);
        else if (this.link?.authFailure) void this.end('auth-failed', ev.reason);
        else if (this.link?.peerTerminated !== null) void this.end('client-closed', ev.reason);
        else void this.end(this.state === 'up' ? 'client-closed' : this.goneCause(), ev.reason);
        return;
      default:
        return;
    }
  }

  private onSocketClose(): void {
    const cause: SessionEndCause =
      this.state === 'refused'
        ? 'refused'
        : this.state === 'up'
          ? 'client-closed'
          : this.goneCause();
    void this.end(cause, 'the client closed the channel');
    this.link?.lowerDown();
  }

  /**
   * A client that went away before the link was up: `garbage` when it sent bytes but
   * not one valid PPP frame (random bytes, another protocol, a write-and-close), else
   * `vanished`.
   */
  private goneCause(): SessionEndCause {
    const st = this.link?.stats().framing.rx;
    const read = this.link?.driver.counters.bytesRead ?? 0;
    return read > 0 && (st?.framesOk ?? 0) === 0 ? 'garbage' : 'vanished';
  }

  private serialize(fn: () => Promise<void>): Promise<void> {
    return this.changes.run(fn);
  }

  private async onIpv4Up(local: string, peer: string): Promise<void> {
    if (this.ending || !this.policy) return;
    const { cfg, book, lan } = this.ctx;
    for (const a of this.held) {
      if (a !== peer) {
        book.release(a, this.id);
        this.held.delete(a);
      }
    }
    this.assigned = peer;
    const link = this.link!;
    const iface = await this.data.open(cfg.interfaceName, link.gso);
    if (this.ending) return;
    // Proxy ARP before configure4 sends the packets the client sent early: a LAN
    // host answering one of them must find the client's address already answered
    // for, or its ARP retries (1 s apart) hold the reply back.
    try {
      await lan.addProxyArp(peer);
    } catch (err) {
      this.log.warn(`gateway: ${this.tag}: proxy ARP for ${peer}: ${(err as Error).message}`);
    }
    await this.data.configure4(local, peer, link.mtu, link.gso);
    for (const dst of this.policy.routes) {
      try {
        await iface.addRoutes({ routes: [dst] });
      } catch (err) {
        this.log.warn(`gateway: ${this.tag}: route ${dst}: ${(err as Error).message}`);
      }
    }
    await this.addClientRoutes();
    if (this.ending) return;
    const wasUp = this.state === 'up';
    this.state = 'up';
    link.markUp();
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    this.upMs = Math.round(performance.now() - this.t0);
    if (!wasUp)
      this.log.info(
        `gateway: ${this.tag}: up: ${iface.name} ${local} → ${peer} in ${this.upMs} ms${iface.routes.length ? `, routes ${iface.routes.join(', ')}` : ''}`,
      );
  }

  /** Routes to the networks the client claimed, within the user's `allow-client-routes` only. */
  private async addClientRoutes(): Promise<void> {
    const claim = this.claims.result;
    const iface = this.data.iface;
    if (!claim || !iface || !this.policy) return;
    if (claim.error !== null)
      this.log.warn(`gateway: ${this.tag}: claim line ignored: ${claim.error}`);
    const allowed = this.policy.allowClientRoutes;
    for (const dst of claim.routes) {
      if (this.clientRoutes.includes(dst)) continue;
      if (!allowed.some((a) => prefixWithin(a, dst))) {
        this.log.warn(
          `gateway: ${this.tag}: client route ${dst} refused: not inside allow-client-routes of ${this.who.user} (${allowed.length ? allowed.join(', ') : 'none'})`,
        );
        continue;
      }
      try {
        await iface.addRoutes({ routes: [dst] });
        this.clientRoutes.push(dst);
        this.log.info(`gateway: ${this.tag}: client route ${dst} → ${iface.name}`);
      } catch (err) {
        this.log.warn(`gateway: ${this.tag}: client route ${dst}: ${(err as Error).message}`);
      }
    }
  }

  status(): SessionStatus {
    const st = this.link?.stats();
    const v4 = st?.protocols.ipv4;
    const v6 = st?.protocols.ipv6;
    const rx = st?.framing.rx as Record<string, number> | undefined;
    const counters = linkCounters(st ?? null);
    return {
      id: this.id,
      user: this.who.user,
      uid: this.who.uid,
      sshdPid: this.sshdPid,
      state: this.state,
      interface: this.data.iface?.name ?? null,
      local: this.state === 'up' ? this.ctx.cfg.localAddress : null,
      peer: this.state === 'up' ? this.assigned : null,
      routes: this.data.iface?.routes ?? [],
      clientRoutes: [...this.clientRoutes],
      startedAt: this.startedAt,
      upMs: this.upMs,
      firstFrameMs: this.firstFrameMs === null ? null : Math.round(this.firstFrameMs * 100) / 100,
      echoRttMs: st?.echo.lastRttMs ?? null,
      rx: counters.rx,
      tx: counters.tx,
      drops: this.data.drops + (v4?.drops ?? 0) + (v6?.drops ?? 0),
      badFrames: rx
        ? (rx.badFcs ?? 0) +
          (rx.tooLong ?? 0) +
          (rx.tooShort ?? 0) +
          (rx.aborted ?? 0) +
          (rx.badHeader ?? 0)
        : 0,
      rxBytes: this.link?.driver.counters.bytesRead ?? 0,
    };
  }

  private end(cause: SessionEndCause, message: string): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = (async () => {
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = null;
      const name = await closeSessionDevice(this.link, this.data, this.changes, (m) =>
        this.log.warn(`gateway: ${this.tag}: ${m}`),
      );
      if (this.state === 'up') await this.ctx.lan.removeProxyArp(this.assigned);
      else if (this.ctx.lan.proxyArpEntries.includes(this.assigned))
        await this.ctx.lan.removeProxyArp(this.assigned);
      for (const a of this.held) this.ctx.book.release(a, this.id);
      this.held.clear();
      this.sock.destroy();
      const s = this.status();
      const wasRefused = this.state === 'refused';
      this.state = 'closed';
      if (!wasRefused)
        this.log.info(
          `gateway: ${this.tag}: ended (${cause}): ${message}${name ? `; removed ${name}` : ''} ${trafficSummary(s.rx, s.tx)}, drops ${s.drops}`,
        );
      this.resolveDone(cause);
    })();
    return this.ending;
  }
}
