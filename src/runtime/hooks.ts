/**
 * up/down hooks, like pppd's /etc/ppp/ip-up and ip-down.
 *
 * The command runs as `/bin/sh -c COMMAND tsvpn-hook IFNAME DEVICE SPEED IPLOCAL IPREMOTE`
 * (so `"$1"`… are pppd's positional arguments) in its own process group, with a
 * small clean environment (pppd-style variables, never secrets, nothing inherited
 * but PATH-like basics). Its stdout/stderr lines go to the log, bounded in length
 * and count. A hook running longer than `timeoutMs` is ended with SIGTERM to its
 * whole process group, then SIGKILL after `killGraceMs`: a hanging hook never
 * wedges the tunnel. runHook never throws and never rejects.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type HookKind = 'up' | 'down';

/** What the hook learns about the tunnel. Values become environment variables. */
export interface HookEnv {
  /** Tunnel name → TSVPN_NAME (and LINKNAME, like pppd's `linkname`). */
  name: string;
  /** Interface name → IFNAME. */
  ifname: string;
  /** Runtime phase the hook runs in → TSVPN_PHASE (default: the hook kind). */
  phase?: string;
  /** Our IPv4 address → IPLOCAL. */
  localIp?: string | null;
  /** Peer's IPv4 address → IPREMOTE. */
  remoteIp?: string | null;
  /** DNS servers from the peer → DNS1, DNS2 (pppd usepeerdns). */
  dns?: readonly string[];
  /** Our IPv6 link-local → LLLOCAL. */
  llLocal?: string | null;
  /** Peer's IPv6 link-local → LLREMOTE. */
  llRemote?: string | null;
  /** Authenticated peer name → PEERNAME. */
  peerName?: string | null;
  /** Link speed → SPEED (pppd passes the tty speed; we have none, so default absent). */
  speed?: number | null;
  /** Transport description, e.g. "ssh:gw.example.net:22" → DEVICE. */
  device?: string | null;
  /** For down hooks: seconds the link was up → CONNECT_TIME. */
  connectTimeS?: number | null;
  /** For down hooks: byte counters → BYTES_SENT, BYTES_RCVD. */
  bytesSent?: number | null;
  bytesReceived?: number | null;
  /** Extra variables; keys must match [A-Z_][A-Z0-9_]*. Never put secrets here. */
  extra?: Record<string, string>;
}

/** A Logger (src/runtime/logger.ts) satisfies this. */
export interface HookLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

export interface RunHookOptions {
  /** Kill the hook's process group after this long (PeerConfig.hooks.timeoutMs). */
  timeoutMs: number;
  log?: HookLog;
  /** SIGTERM → SIGKILL grace; default 1000 ms. */
  killGraceMs?: number;
  /** Longest output line forwarded (longer ones are cut, with "…"); default 512. */
  maxLineLength?: number;
  /** Most output lines forwarded per hook; the rest are counted; default 50. */
  maxLines?: number;
  /** Shell; default /bin/sh (tests only). */
  shell?: string;
}

export interface HookResult {
  /** Exit code 0, no signal, no timeout. */
  ok: boolean;
  /** Exit code of the shell, null when it was killed or never started. */
  code: number | null;
  /** Signal that ended the shell, if any. */
  signal: NodeJS.Signals | null;
  /** The timeout fired and the process group was killed. */
  timedOut: boolean;
  durationMs: number;
  /** Process id (= process group id) of the shell, null when it never started. */
  pid: number | null;
  /** Output lines not forwarded to the log because of maxLines. */
  droppedLines: number;
  /** One-line summary, e.g. "exited with code 3", "timed out after 10 s (killed)". */
  message: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** The hook's complete environment (exported for tests and `--dry-run` style printing). */
export function hookEnvironment(kind: HookKind, env: HookEnv): Record<string, string> {
  const out: Record<string, string> = {
    PATH: DEFAULT_PATH,
    // Like pppd: a minimal environment, so nothing of ours (agent sockets,
    // NOTIFY_SOCKET, config secrets read from the environment) leaks into hooks.
    TSVPN_NAME: env.name,
    TSVPN_PHASE: env.phase ?? kind,
    TSVPN_HOOK: kind,
    LINKNAME: env.name,
    IFNAME: env.ifname,
  };
  const lang = process.env.LANG;
  if (lang) out.LANG = lang;
  const set = (k: string, v: string | number | null | undefined) => {
    if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  };
  set('IPLOCAL', env.localIp);
  set('IPREMOTE', env.remoteIp);
  set('DNS1', env.dns?.[0]);
  set('DNS2', env.dns?.[1]);
  set('USEPEERDNS', env.dns && env.dns.length > 0 ? 1 : undefined);
  set('LLLOCAL', env.llLocal);
  set('LLREMOTE', env.llRemote);
  set('PEERNAME', env.peerName);
  set('SPEED', env.speed);
  set('DEVICE', env.device);
  set(
    'CONNECT_TIME',
    env.connectTimeS === null || env.connectTimeS === undefined
      ? undefined
      : Math.round(env.connectTimeS),
  );
  set('BYTES_SENT', env.bytesSent);
  set('BYTES_RCVD', env.bytesReceived);
  for (const [k, v] of Object.entries(env.extra ?? {})) {
    if (ENV_NAME.test(k) && !(k in out)) out[k] = v;
  }
  return out;
}

/** Cuts output into lines, bounded: at most maxLines forwarded, each at most maxLen chars. */
class LineForwarder {
  private partial = '';
  private skipping = false; // inside an over-long line, dropping until newline
  forwarded = 0;
  dropped = 0;
  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLen: number,
    private readonly maxLines: number,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      this.addPiece(chunk.slice(start, nl), true);
      start = nl + 1;
    }
    if (start < chunk.length) this.addPiece(chunk.slice(start), false);
  }

  flush(): void {
    if (this.partial.length > 0 || this.skipping) this.addPiece('', true);
  }

  private addPiece(piece: string, complete: boolean): void {
    if (this.skipping) {
      if (complete) this.skipping = false;
      return;
    }
    this.partial += piece;
    if (this.partial.length > this.maxLen) {
      this.line(`${this.partial.slice(0, this.maxLen)}…`);
      this.partial = '';
      this.skipping = !complete;
      return;
    }
    if (complete) {
      this.line(this.partial);
      this.partial = '';
    }
  }

  private line(text: string): void {
    const clean = text.replace(/\r$/, '');
    if (this.forwarded >= this.maxLines) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    this.emit(clean);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

/**
 * True while some process of the group is alive. kill(-pgid, 0) also succeeds
 * for zombies that init has not reaped yet, so look at /proc before waiting on.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const ent of entries) {
    if (ent.charCodeAt(0) < 48 || ent.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${ent}/stat`, 'latin1');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') return true;
  }
  return false;
}

/**
 * Runs an up/down hook. Never throws or rejects: failures are in the result and
 * logged (warn).
 */
export function runHook(
  kind: HookKind,
  command: string,
  env: HookEnv,
  opts: RunHookOptions,
): Promise<HookResult> {
  const t0 = performance.now();
  const log = opts.log;
  const tag = `${kind} hook`;
  const maxLen = opts.maxLineLength ?? 512;
  const maxLines = opts.maxLines ?? 50;
  const graceMs = opts.killGraceMs ?? 1000;
  const timeoutMs = Math.max(0, opts.timeoutMs);

  return new Promise<HookResult>((resolve) => {
    let settled = false;
    let timedOut = false;
    let pid: number | null = null;
    const timers: NodeJS.Timeout[] = [];
    const out = new LineForwarder((l) => log?.info(`${tag}: ${l}`), maxLen, maxLines);
    const err = new LineForwarder((l) => log?.warn(`${tag}: ${l}`), maxLen, maxLines);

    const finish = (code: number | null, signal: NodeJS.Signals | null, failure?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      out.flush();
      err.flush();
      const droppedLines = out.dropped + err.dropped;
      if (droppedLines > 0) log?.warn(`${tag}: ${droppedLines} more output line(s) not logged`);
      const durationMs = Math.round(performance.now() - t0);
      const ok = !failure && !timedOut && code === 0 && signal === null;
      const message = failure
        ? `could not start: ${failure}`
        : timedOut
          ? `timed out after ${timeoutMs / 1000} s (process group killed)`
          : signal
            ? `killed by ${signal}`
            : code === 0
              ? 'ok'
              : `exited with code ${code}`;
      if (ok) (log?.debug ?? log?.info)?.call(log, `${tag} finished in ${durationMs} ms`);
      else log?.warn(`${tag} ${JSON.stringify(command)}: ${message}`);
      resolve({ ok, code, signal, timedOut, durationMs, pid, droppedLines, message });
    };

    let child: ReturnType<typeof spawn>;
    try {
      const e = hookEnvironment(kind, env);
      child = spawn(
        opts.shell ?? '/bin/sh',
        [
          '-c',
          command,
          'tsvpn-hook',
          env.ifname,
          env.device ?? '',
          String(env.speed ?? 0),
          env.localIp ?? '',
          env.remoteIp ?? '',
        ],
        { env: e, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/' },
      );
    } catch (e) {
      finish(null, null, (e as Error).message);
      return;
    }
    pid = child.pid ?? null;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => out.push(s));
    child.stderr?.on('data', (s: string) => err.push(s));
    // A background process of the hook may keep the pipes open: never wait for them.
    const dropPipes = () => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    child.on('error', (e) => {
      dropPipes();
      finish(null, null, e.message);
    });

    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let killing = false;
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (killing) return; // finish when the whole group is gone (below)
      // Let the last buffered output arrive, then stop listening.
      timers.push(
        setTimeout(() => {
          dropPipes();
          finish(code, signal);
        }, 50),
      );
    });

    if (pid !== null) {
      const pgid = pid;
      timers.push(
        setTimeout(() => {
          if (settled) return;
          timedOut = true;
          killing = true;
          killGroup(pgid, 'SIGTERM');
          const deadline = performance.now() + graceMs;
          const poll = () => {
            if (settled) return;
            if (exit && !groupAlive(pgid)) {
              dropPipes();
              finish(exit.code, exit.signal);
              return;
            }
            if (performance.now() >= deadline) {
              killGroup(pgid, 'SIGKILL');
              // The shell's exit arrives within milliseconds of SIGKILL.
              const done = () => {
                dropPipes();
                finish(exit?.code ?? null, exit?.signal ?? 'SIGKILL');
              };
              if (exit) timers.push(setTimeout(done, 20));
              else child.once('exit', () => setTimeout(done, 20));
              return;
            }
            timers.push(setTimeout(poll, 50));
          };
          poll();
        }, timeoutMs),
      );
    }
  });
}
