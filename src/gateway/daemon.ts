/**
 * `ts-vpn gateway`: one process serving every client session. Listens on a unix
 * socket that sshd connects SSH channels to (direct-streamlocal); identifies each
 * connection by SO_PEERCRED (the SSH user's sshd, hence the user's uid), looks up
 * the user's policy, and runs a GatewaySession for it, or refuses it with an LCP
 * Terminate-Request carrying the reason. A root-only control socket answers
 * `ts-vpn status` and `ts-vpn down --session ID`; systemd gets READY/STATUS/WATCHDOG.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GatewayConfig } from '../config/gateway.js';
import { fixedAddresses, policyFor } from '../config/gateway.js';
import { GATEWAY_REFUSAL, LinkSession } from '../link/index.js';
import { type ControlRequest, ControlServer } from '../runtime/control.js';
import { dropTunnelPrivileges } from '../runtime/drop-privileges.js';
import type { Logger } from '../runtime/logger.js';
import { SdNotifier } from '../runtime/sd-notify.js';
import type { Account } from '../sys/privileges.js';
import { gatewayEngineOptions } from './engine-options.js';
import { GatewaySetupError, LanSide } from './lan.js';
import { identityOf, peerCred } from './peercred.js';
import { AddressBook } from './pool.js';
import { planReload } from './reload.js';
import { GatewaySession, type SessionEndCause, type SessionStatus } from './session.js';

export interface GatewayStatus {
  pid: number;
  socket: string;
  startedAt: number;
  sessions: SessionStatus[];
  /** How sessions ended (and refusals), since start. */
  ended: Partial<Record<SessionEndCause, number>>;
  /** Bad frames (bad FCS, too long, aborted, bad header) of ended sessions, since start. */
  endedBadFrames: number;
  addressesHeld: number;
  proxyArp: string[];
  rssMb: number;
}

/** The control socket of a gateway whose state directory is `stateDir`. */
export function gatewayControlPath(stateDir: string): string {
  return join(stateDir, 'gateway', 'control.sock');
}

function groupId(name: string): number | null {
  try {
    const row = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((r) => r[0] === name);
    return row ? Number(row[2]) : null;
  } catch {
    return null;
  }
}

/**
 * Throw-away links (never on any socket), so that the WebAssembly module is compiled
 * and the engine's code is optimised before clients come: measured here, the first
 * link costs ~20 ms to its first frame, the third ~4 ms, later ones ~0.4 ms.
 */
function warmUp(cfg: GatewayConfig, links = 40): void {
  for (let i = 0; i < links; i++) warmUpOne(cfg);
}

function warmUpOne(cfg: GatewayConfig): void {
  const link = new LinkSession(
    { write: () => true, onData: () => undefined, onDrain: () => undefined },
    {
      engine: gatewayEngineOptions(
        cfg,
        cfg.defaults,
        () => undefined,
        '0.0.0.0',
        () => false,
      ),
      onGsoFrame: () => undefined,
    },
  );
  link.start();
  link.stop();
}

export class Gateway {
  /** The running config; a SIGHUP's reload replaces it for sessions that start later. */
  private current: GatewayConfig;
  readonly log: Logger;
  readonly book: AddressBook;
  readonly lan: LanSide;
  private server: Server | null = null;
  private control: ControlServer | null = null;
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly ended: Partial<Record<SessionEndCause, number>> = {};
  private endedBadFrames = 0;
  private seq = 0;
  private readonly startedAt = Date.now();
  private readonly notifier: SdNotifier;
  private watchdog: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  /** The socket's directory, when this process made it (given to `run-as`). */
  private madeSocketDir: string | null = null;

  constructor(cfg: GatewayConfig, log: Logger, notifier?: SdNotifier) {
    this.current = cfg;
    this.log = log;
    this.book = new AddressBook(cfg.pools, [cfg.localAddress, ...fixedAddresses(cfg)]);
    this.lan = new LanSide(cfg, log);
    this.notifier = notifier ?? new SdNotifier({ log });
  }

  get cfg(): GatewayConfig {
    return this.current;
  }

  /**
   * SIGHUP: reads gateway.yaml again through `load` and serves sessions that start from
   * now on with it (reload.ts says what a reload applies). A file that does not load, or
   * cannot be served without a restart, changes nothing: the reason is logged. Sessions
   * already up keep their policy; those of users the new file refuses are counted in the
   * log, to be ended with `ts-vpn down --session ID` if wanted.
   */
  async reload(load: () => Promise<GatewayConfig>): Promise<boolean> {
    this.notifier.reloading('reloading gateway.yaml');
    try {
      const plan = planReload(this.current, await load(), this.lan.ipv6ForwardingChecked);
      if ('error' in plan) throw new Error(plan.error);
      const cfg = plan.cfg;
      this.current = cfg;
      this.book.setReserved([cfg.localAddress, ...fixedAddresses(cfg)]);
      for (const w of cfg.warnings) this.log.warn(`gateway: ${w}`);
      const refused = [...this.sessions.values()].filter((s) => {
        if (s.state === 'refused' || s.state === 'closed') return false;
        const found = policyFor(cfg, s.who.user, s.who.groups);
        return found === null || !found.policy.allow;
      });
      this.log.info(
        `gateway: reloaded ${cfg.source}: ${cfg.users.size} user${cfg.users.size === 1 ? '' : 's'}, ${cfg.groups.size} group${cfg.groups.size === 1 ? '' : 's'}, unknown users ${cfg.unknownUsers === 'refuse' ? 'refused' : 'get the defaults'}; for sessions that start from now on${plan.restartNeeded.length ? `; not applied until a restart: ${plan.restartNeeded.join(', ')}` : ''}`,
      );
      if (refused.length > 0)
        this.log.warn(
          `gateway: ${refused.length} session${refused.length === 1 ? '' : 's'} of users the file now refuses keep running (${refused.map((s) => `${s.id} ${s.who.user}`).join(', ')}); end them with ts-vpn down --session ID`,
        );
      return true;
    } catch (err) {
      this.log.warn(
        `gateway: reload refused, still serving with the file as it was: ${(err as Error).message}`,
      );
      return false;
    } finally {
      this.notifier.ready(this.statusLine());
    }
  }

  /** Sets up the LAN side, listens, tells systemd we are ready. Throws GatewaySetupError. */
  async start(): Promise<void> {
    const cfg = this.cfg;
    // Load libc's credential functions and compile the PPP engine and its framing
    // kernels now, not on the first clients' connections (their first frame waits).
    identityOf(0);
    warmUp(cfg);
    try {
      await this.lan.start();
      await this.listen();
      mkdirSync(dirname(gatewayControlPath(cfg.stateDir)), { recursive: true, mode: 0o700 });
      this.control = await ControlServer.listen(gatewayControlPath(cfg.stateDir), (req) =>
        this.onControl(req),
      );
    } catch (err) {
      await this.stop('start failed');
      throw err;
    }
    this.log.info(
      `gateway: listening on ${cfg.socket.path} (mode 0${cfg.socket.mode.toString(8)}${cfg.socket.group ? `, group ${cfg.socket.group}` : ''}); pools ${cfg.pools.map((p) => `${p.name} ${p.text}`).join(', ')}${cfg.proxyArp ? `; proxy ARP on ${cfg.lanInterface}` : ''}`,
    );
    this.notifier.ready(this.statusLine());
    const every = this.notifier.watchdogIntervalMs();
    if (every !== null) {
      this.watchdog = setInterval(() => this.notifier.watchdog(), every);
      this.watchdog.unref();
    }
  }

  private async listen(): Promise<void> {
    const { path, mode, group } = this.cfg.socket;
    if (mkdirSync(dirname(path), { recursive: true, mode: 0o755 }) !== undefined)
      this.madeSocketDir = dirname(path);
    try {
      if (lstatSync(path).isSocket()) rmSync(path);
      else
        throw new GatewaySetupError(
          `${path} exists and is not a socket; remove it or change socket.path`,
        );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const server = createServer({ pauseOnConnect: true }, (sock) => this.onConnection(sock));
    server.maxConnections = this.cfg.maxSessions + 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new GatewaySetupError(`cannot listen on ${path}: ${(e as Error).message}`)),
      );
      server.listen(path, () => resolve());
    });
    this.server = server;
    if (group !== null) {
      const gid = groupId(group);
      if (gid === null)
        throw new GatewaySetupError(
          `socket.group ${group} does not exist; create it (groupadd --system ${group}) or fix socket.group in ${this.cfg.source}`,
        );
      chownSync(path, 0, gid);
    }
    chmodSync(path, mode);
  }

  /**
   * From here on the process keeps only CAP_NET_ADMIN (each session's TUN device,
   * addresses, routes and neighbour entries; at stop the sysctls, nft/iptables rules and
   * interfaces it put back or removes) and, with `run-as`, becomes that account, its
   * control directory (and the socket's directory, when it made it) given to it first:
   * this process reads every client's bytes (docs/SECURITY.md). `readLater`: files a
   * reload reads (CAP_DAC_READ_SEARCH is kept when the account cannot). Throws when `run-as`
   * is set and the switch fails (it never runs as root when told not to).
   */
  dropPrivileges(account: Account | null, readLater: string[] = []): void {
    const { user, group } = this.cfg.runAs;
    if (account && this.madeSocketDir) chownSync(this.madeSocketDir, account.uid, account.gid);
    dropTunnelPrivileges({
      user,
      group,
      stateDir: dirname(gatewayControlPath(this.cfg.stateDir)),
      readLater,
      readLaterBy: 'a reload (SIGHUP)',
      openLater: ['/dev/net/tun'],
      log: this.log,
    });
  }

  private onConnection(sock: Socket): void {
    const acceptedAt = performance.now();
    let cred: { pid: number; uid: number; gid: number };
    try {
      cred = peerCred(sock);
    } catch (err) {
      this.log.warn(
        `gateway: connection without peer credentials dropped: ${(err as Error).message}`,
      );
      sock.destroy();
      return;
    }
    const who = identityOf(cred.uid);
    const id = `s${++this.seq}`;
    const session = new GatewaySession(
      id,
      sock,
      who,
      cred.pid,
      {
        cfg: this.cfg,
        book: this.book,
        lan: this.lan,
        log: this.log,
      },
      acceptedAt,
    );
    this.sessions.set(id, session);
    void session.done.then((cause) => {
      this.sessions.delete(id);
      this.ended[cause] = (this.ended[cause] ?? 0) + 1;
      this.endedBadFrames += session.status().badFrames;
      this.notifier.status(this.statusLine());
    });
    sock.resume();
    const refusal = this.admit(session);
    if (refusal !== null) {
      session.refuse(refusal);
      return;
    }
    this.notifier.status(this.statusLine());
  }

  /** Policy, limits and an address for a new session; returns the refusal reason, or null when started. */
  private admit(session: GatewaySession): string | null {
    const cfg = this.cfg;
    const { user, uid, groups, known } = session.who;
    if (!known) return `uid ${uid} ${GATEWAY_REFUSAL.noUserName}`;
    if (this.stopping) return 'the gateway is shutting down; try again shortly';
    const found = policyFor(cfg, user, groups);
    if (found === null)
      return `user ${user} ${GATEWAY_REFUSAL.notAllowed} (not listed, and unknown-users is refuse)`;
    const { policy, via } = found;
    if (!policy.allow) return `user ${user} ${GATEWAY_REFUSAL.notAllowed} (${via}: allow false)`;
    const live = [...this.sessions.values()].filter(
      (s) => s !== session && s.state !== 'refused' && s.state !== 'closed',
    );
    if (live.length >= cfg.maxSessions)
      return `too many sessions: all ${cfg.maxSessions} allowed by max-sessions are in use; try again later`;
    const mine = live.filter((s) => s.who.uid === uid).length;
    if (mine >= policy.maxSessions)
      return `user ${user} already has ${mine} session${mine === 1 ? '' : 's'} (max-sessions ${policy.maxSessions} in ${via})`;
    let address: string | null;
    if (policy.address !== null) {
      address = this.book.claim(policy.address, session.id) ? policy.address : null;
      if (address === null)
        return `the address of user ${user} (${policy.address}) is in use by another session`;
    } else {
      address = this.book.lease(policy.pool, session.id);
      if (address === null) return `address pool ${policy.pool} is exhausted; try again later`;
    }
    session.start(policy, address);
    return null;
  }

  private statusLine(): string {
    const up = [...this.sessions.values()].filter((s) => s.state === 'up').length;
    return `${up} session${up === 1 ? '' : 's'} up, ${this.sessions.size} connected`;
  }

  status(): GatewayStatus {
    return {
      pid: process.pid,
      socket: this.cfg.socket.path,
      startedAt: this.startedAt,
      sessions: [...this.sessions.values()].map((s) => s.status()),
      ended: { ...this.ended },
      endedBadFrames: this.endedBadFrames,
      addressesHeld: this.book.size,
      proxyArp: this.lan.proxyArpEntries,
      rssMb: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
    };
  }

  /** Ends one session (LCP Terminate-Request with `reason`). False when there is no such session. */
  async endSession(id: string, reason = 'ended by the gateway administrator'): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s) return false;
    await s.close(reason, 'admin');
    return true;
  }

  private async onControl(req: ControlRequest): Promise<Record<string, unknown>> {
    if (req.cmd === 'status') return { gateway: this.status() };
    if (req.cmd === 'down-session') {
      const id = String(req.session ?? '');
      if (!(await this.endSession(id))) throw new Error(`no session ${id} on this gateway`);
      return {};
    }
    throw new Error(`unknown request ${JSON.stringify(req.cmd)}`);
  }

  /** Removes the listening socket; as `run-as` it may lack write access to its directory. */
  private removeSocket(): void {
    const path = this.cfg.socket.path;
    const { user, group } = this.cfg.runAs;
    try {
      rmSync(path, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw err;
      this.log.warn(
        `gateway: left ${path}: its directory is not writable by ${user ?? group ?? 'this process'} (run-as); the next start replaces it. A directory of its own (socket.path: /run/ts-vpn-gateway/gateway.sock) is given to run-as and avoids this`,
      );
    }
  }

  /** Ends every session (Terminate-Request), removes everything added, stops listening. */
  stop(reason = 'the gateway is stopping'): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.notifier.stopping();
      if (this.watchdog) clearInterval(this.watchdog);
      this.server?.close();
      await Promise.all([...this.sessions.values()].map((s) => s.close(reason, 'gateway-stop')));
      await this.control?.close().catch(() => undefined);
      if (this.server) this.removeSocket();
      await this.lan.close();
      this.notifier.close();
      this.log.info(`gateway: stopped (${reason})`);
    })();
    return this.stopping;
  }
}
