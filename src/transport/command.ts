/**
 * A local command as the transport, like pppd's `pty "cmd"` but with plain pipes
 * (8-bit clean, no line discipline): e.g. `ssh gw sudo pppd notty …` or `ts-vpn serve`.
 * The child gets its own process group; close() ends stdin, waits, then kills that
 * group (and only it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BaseTransport, LineSplitter } from './base.js';
import { TransportError } from './errors.js';
import { setPipeSize } from './pipe-size.js';
import type { CloseReason, TransportInfo } from './types.js';

export interface CommandOptions {
  /** A string runs through `/bin/sh -c` (like pppd's pty option); an array is argv. */
  command: string | string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** ms to wait for the child to exit after stdin EOF before SIGTERM (default 1000). */
  closeGraceMs?: number;
  /** ms after SIGTERM before SIGKILL (default 1000). */
  killGraceMs?: number;
  /** Run the command as this user (root only), e.g. the invoking user under sudo. */
  uid?: number;
  gid?: number;
  /** Pipe buffer size for the child's stdin/stdout pipes (default 1 MiB; 0 = leave alone). */
  pipeSize?: number;
}

export class CommandTransport extends BaseTransport {
  readonly info: TransportInfo;
  readonly child: ChildProcess;
  private flowAttached = false;
  private localClose = false;
  private closing: Promise<void> | null = null;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private stdoutEnded = false;
  private spawnError: Error | null = null;
  private readonly exitPromise: Promise<void>;

  /** Spawns and waits until the process runs (rejects with SPAWN_FAILED otherwise). */
  static async start(opts: CommandOptions): Promise<CommandTransport> {
    const t = new CommandTransport(opts);
    await new Promise<void>((resolve, reject) => {
      t.child.once('spawn', () => resolve());
      t.child.once('error', (err) =>
        reject(
          new TransportError('SPAWN_FAILED', `cannot start ${t.info.command}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
    });
    return t;
  }

  /** Prefer `CommandTransport.start`; the constructor does not report spawn failures. */
  constructor(private readonly opts: CommandOptions) {
    super();
    const [file, args] =
      typeof opts.command === 'string'
        ? ['/bin/sh', ['-c', opts.command]]
        : [opts.command[0], opts.command.slice(1)];
    const display = typeof opts.command === 'string' ? opts.command : opts.command.join(' ');
    this.child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: close() can kill the whole pipeline
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    this.info = { kind: 'command', remote: display, command: display, pid: this.child.pid };
    const size = opts.pipeSize ?? 1 << 20;
    if (size > 0) {
      for (const s of [this.child.stdin, this.child.stdout]) {
        const fd = (s as unknown as { _handle?: { fd?: number } })?._handle?.fd;
        if (typeof fd === 'number' && fd >= 0) setPipeSize(fd, size);
      }
    }
    const stderr = new LineSplitter((l) => this.emitStderr(l));
    this.child.stderr!.on('data', (d: Buffer) => stderr.push(d));
    this.child.stderr!.on('end', () => stderr.flush());
    this.child.stdin!.on('drain', () => this.emit('drain'));
    this.child.stdin!.on('error', () => {
      /* EPIPE when the child is gone; reported through exit */
    });
    this.child.stdout!.on('end', () => {
      this.stdoutEnded = true;
    });
    this.child.on('error', (err) => {
      this.spawnError = err;
      this.finish({
        code: 'ERROR',
        message: `cannot start ${display}: ${err.message}`,
        error: err,
      });
    });
    // 'close' waits for stdout to be consumed: drain the rest once the child has exited.
    this.child.once('exit', () => this.child.stdout!.resume());
    this.exitPromise = new Promise((resolve) => {
      // 'close' = exited and stdio streams closed (all output delivered).
      this.child.once('close', (code, signal) => {
        this.exited = { code, signal };
        this.finish(this.reasonNow());
        resolve();
      });
      this.child.once('error', () => resolve());
    });
    this.child.stdout!.pause();
  }

  private reasonNow(): CloseReason {
    const e = this.exited;
    const exitPart = e
      ? e.code !== null
        ? { exitCode: e.code }
        : { signal: e.signal ?? undefined }
      : {};
    if (this.localClose) return { code: 'LOCAL', message: 'closed locally', ...exitPart };
    if (e) {
      const how = e.code !== null ? `with code ${e.code}` : `on signal ${e.signal}`;
      return { code: 'EXIT', message: `command exited ${how}${this.lastStderr()}`, ...exitPart };
    }
    if (this.stdoutEnded) return { code: 'EOF', message: 'command closed its output' };
    return { code: 'ERROR', message: this.spawnError?.message ?? 'command failed' };
  }

  write(chunk: Uint8Array): boolean {
    const stdin = this.child.stdin!;
    if (this.closing || !stdin.writable) return false;
    return this.writeCounted(stdin, chunk);
  }

  protected startFlow(): void {
    const out = this.child.stdout!;
    if (!this.flowAttached) {
      this.flowAttached = true;
      out.on('data', (d: Buffer) => this.emitData(d));
    }
    out.resume();
  }

  protected stopFlow(): void {
    this.child.stdout!.pause();
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (!pid || this.exited) return;
    try {
      process.kill(-pid, signal); // the group we created (detached: pgid = pid)
    } catch {
      /* already gone */
    }
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (!this.closeReason) this.localClose = true;
    this.closing = (async () => {
      const wait = (ms: number) =>
        Promise.race([
          this.exitPromise.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
        ]);
      if (!this.exited && !this.spawnError) {
        this.child.stdin!.end();
        if (!(await wait(this.opts.closeGraceMs ?? 1000))) {
          this.killGroup('SIGTERM');
          if (!(await wait(this.opts.killGraceMs ?? 1000))) {
            this.killGroup('SIGKILL');
            await wait(2000);
          }
        }
      }
      // The leader may be gone while others in its group still run (e.g. `a | b`).
      await this.killGroupLeftovers();
      this.finish(this.reasonNow());
    })();
    return this.closing;
  }

  /** SIGKILLs what is left of our group and waits (up to 500 ms) until it is gone. */
  private async killGroupLeftovers(): Promise<void> {
    const pid = this.child.pid;
    if (!pid) return;
    const alive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false; // ESRCH: no process left in the group
      }
    };
    if (!alive()) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 10));
  }
}
