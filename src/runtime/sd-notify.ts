/**
 * systemd `Type=notify` support without native build steps (sd_notify(3)).
 *
 * When `NOTIFY_SOCKET` is set, each state ("READY=1", "STATUS=…", "RELOADING=1",
 * "STOPPING=1", "WATCHDOG=1") is one datagram to that AF_UNIX socket; a name
 * starting with `@` is in the abstract namespace. Node has no unix datagram
 * sockets, so the socket is made with koffi (socket/sendto from libc, src/sys/libc.ts); if koffi
 * cannot load, `systemd-notify --pid=<our pid>` is spawned instead (needs
 * `NotifyAccess=all` in the unit, since the message comes from a child).
 * Without `NOTIFY_SOCKET` every call is a no-op that returns false.
 * Never throws: a notification that cannot be sent is logged once and dropped.
 */
import { spawn } from 'node:child_process';
import { AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, tryLibc } from '../sys/libc.js';

/** sizeof(struct sockaddr_un): sa_family_t (2) + sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_MAX = 108;

/**
 * struct sockaddr_un for `path` and the address length to pass: a filesystem
 * path is NUL-terminated; an abstract name (`@name`) starts with a NUL byte and
 * its length is exact (no terminator), as systemd expects. Null when too long.
 */
export function sockaddrUn(path: string): { addr: Uint8Array; len: number } | null {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  if (name.length === 0 || name.length + 1 > SUN_PATH_MAX) return null;
  const addr = new Uint8Array(SOCKADDR_UN_SIZE);
  addr[0] = AF_UNIX & 0xff; // sa_family_t, little-endian u16
  addr[1] = AF_UNIX >> 8;
  if (abstract) {
    addr[2] = 0;
    addr.set(name, 3);
    return { addr, len: 2 + 1 + name.length };
  }
  addr.set(name, 2);
  return { addr, len: 2 + name.length + 1 };
}

export interface SdNotifyLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

export interface SdNotifierOptions {
  /** Environment to read NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID from; default process.env. */
  env?: NodeJS.ProcessEnv;
  log?: SdNotifyLog;
  /** Force a transport (tests); default koffi, then systemd-notify. */
  transport?: 'koffi' | 'systemd-notify';
  /** Remove NOTIFY_SOCKET & co. from `env` so children (hooks, ssh) do not inherit it; default true. */
  unsetEnvironment?: boolean;
}

export class SdNotifier {
  /** The socket address from NOTIFY_SOCKET, or null (then every call is a no-op). */
  readonly socketPath: string | null;
  private readonly log: SdNotifyLog | undefined;
  private readonly transport: 'koffi' | 'systemd-notify';
  private readonly watchdogUsec: number | null;
  private fd = -1;
  private warned = false;

  constructor(opts: SdNotifierOptions = {}) {
    const env = opts.env ?? process.env;
    const p = env.NOTIFY_SOCKET;
    this.socketPath = p && (p.startsWith('/') || p.startsWith('@')) ? p : null;
    this.log = opts.log;
    // WATCHDOG_USEC applies to us only if WATCHDOG_PID is unset or is our pid.
    const usec = Number(env.WATCHDOG_USEC);
    const wpid = env.WATCHDOG_PID;
    this.watchdogUsec =
      this.socketPath &&
      Number.isFinite(usec) &&
      usec > 0 &&
      (!wpid || Number(wpid) === process.pid)
        ? usec
        : null;
    // koffi (libc) is loaded only when there is a socket to notify: `ts-vpn up` outside
    // systemd should not pay ~20 ms of start-up for it before its first SSH byte.
    this.transport =
      opts.transport ?? (this.socketPath === null || tryLibc() ? 'koffi' : 'systemd-notify');
    if (p && !this.socketPath)
      this.warnOnce(`NOTIFY_SOCKET=${JSON.stringify(p)} is not a path or @name; ignored`);
    if (opts.unsetEnvironment ?? true) {
      delete env.NOTIFY_SOCKET;
      delete env.WATCHDOG_USEC;
      delete env.WATCHDOG_PID;
    }
  }

  /** True when NOTIFY_SOCKET was set (we run under systemd with Type=notify). */
  get enabled(): boolean {
    return this.socketPath !== null;
  }

  /**
   * How often to call watchdog(): half of WatchdogSec (WATCHDOG_USEC), as
   * sd_watchdog_enabled(3) advises; null when no watchdog is asked for.
   */
  watchdogIntervalMs(): number | null {
    return this.watchdogUsec === null ? null : Math.max(1, Math.floor(this.watchdogUsec / 2000));
  }

  /** Sends newline-separated `KEY=value` assignments. Returns true when sent (or handed to systemd-notify). */
  notify(state: string | Record<string, string | number>): boolean {
    if (!this.socketPath) return false;
    const text =
      typeof state === 'string'
        ? state
        : Object.entries(state)
            .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
            .join('\n');
    return this.transport === 'koffi' ? this.sendKoffi(text) : this.sendSystemdNotify(text);
  }

  /** READY=1 (the tunnel is up), with an optional STATUS line. */
  ready(status?: string): boolean {
    return this.notify(status ? { READY: 1, STATUS: status } : { READY: 1 });
  }
  /** STATUS=… shown by `systemctl status`. */
  status(text: string): boolean {
    return this.notify({ STATUS: text });
  }
  /** RELOADING=1 with MONOTONIC_USEC (needed by Type=notify-reload); send ready() when done. */
  reloading(status?: string): boolean {
    const mono = (process.hrtime.bigint() / 1000n).toString(); // CLOCK_MONOTONIC on Linux
    return this.notify({
      RELOADING: 1,
      MONOTONIC_USEC: mono,
      ...(status ? { STATUS: status } : {}),
    });
  }
  /** STOPPING=1 at the start of a graceful shutdown. */
  stopping(status?: string): boolean {
    return this.notify(status ? { STOPPING: 1, STATUS: status } : { STOPPING: 1 });
  }
  /** WATCHDOG=1 keep-alive ping. */
  watchdog(): boolean {
    return this.notify({ WATCHDOG: 1 });
  }

  close(): void {
    if (this.fd >= 0) {
      tryLibc()?.close(this.fd);
      this.fd = -1;
    }
  }

  private sendKoffi(text: string): boolean {
    const c = tryLibc();
    const sa = sockaddrUn(this.socketPath as string);
    if (!c || !sa) {
      this.warnOnce(
        `cannot notify systemd: ${!c ? 'koffi/libc unavailable' : 'NOTIFY_SOCKET path too long'}`,
      );
      return false;
    }
    if (this.fd < 0) {
      this.fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (this.fd < 0) {
        this.warnOnce(`cannot notify systemd: socket() failed, errno ${c.errno()}`);
        return false;
      }
    }
    const buf = Buffer.from(text, 'utf8');
    const n = c.sendto(this.fd, buf, buf.length, MSG_NOSIGNAL, sa.addr, sa.len);
    if (n < 0) {
      this.warnOnce(
        `cannot notify systemd at ${this.socketPath}: sendto failed, errno ${c.errno()}`,
      );
      return false;
    }
    this.log?.debug?.(`sd_notify: ${text.replace(/\n/g, ' ')}`);
    return true;
  }

  private sendSystemdNotify(text: string): boolean {
    try {
      const child = spawn('systemd-notify', [`--pid=${process.pid}`, ...text.split('\n')], {
        stdio: 'ignore',
        env: { ...process.env, NOTIFY_SOCKET: this.socketPath as string },
      });
      child.on('error', (e) =>
        this.warnOnce(`cannot notify systemd: systemd-notify: ${e.message}`),
      );
      child.unref();
      return true;
    } catch (e) {
      this.warnOnce(`cannot notify systemd: ${(e as Error).message}`);
      return false;
    }
  }

  private warnOnce(msg: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log?.warn(msg);
  }
}
