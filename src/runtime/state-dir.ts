/**
 * Per-tunnel runtime state under a root-only directory (default /run/ts-vpn):
 *
 *   /run/ts-vpn/<name>/pid           lock: the pid of the running `ts-vpn up`
 *   /run/ts-vpn/<name>/control.sock  control socket (status, down)
 *   /run/ts-vpn/<name>/state.json    what we configured (interface, routes), so that
 *                                    the next `up` can clean what a crash left
 *
 * The pid file is created with O_EXCL; a pid file whose process is gone is stale and
 * is taken over (the caller is told, so it can say so and clean up).
 */
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../coded-error.js';
import { ensurePrivateDir, UnsafePathError, writeFileSafe } from '../sys/safe-files.js';

export const DEFAULT_STATE_ROOT = '/run/ts-vpn';

/** Stable codes of {@link StateError}. */
export type StateErrorCode =
  /** Another live process holds this tunnel's state directory. */
  | 'ALREADY_RUNNING'
  /** The state directory could not be locked (created, written). */
  | 'LOCK_FAILED'
  /** The state directory or a file in it is not safe to use (owner, mode, a link). */
  | 'UNSAFE_PATH';

export class StateError extends CodedError<StateErrorCode> {
  override readonly name = 'StateError';
}

/** True when a process with this pid exists (signal 0 probe). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockResult {
  dir: string;
  /** Set when a previous run died without cleaning up; its recorded state is returned. */
  stale?: { pid: number; state: unknown };
}

export class TunnelStateDir {
  readonly dir: string;
  readonly name: string;
  private locked = false;

  constructor(name: string, root: string = DEFAULT_STATE_ROOT) {
    this.name = name;
    this.dir = join(root, name);
  }

  get pidPath(): string {
    return join(this.dir, 'pid');
  }
  get controlPath(): string {
    return join(this.dir, 'control.sock');
  }
  get statePath(): string {
    return join(this.dir, 'state.json');
  }

  /**
   * Takes the per-name lock or throws ALREADY_RUNNING. The directory is made (0700) and
   * checked like OpenSSH's user files (src/sys/safe-files.ts): an UNSAFE_PATH StateError
   * when a directory above it could be swapped by someone else.
   */
  lock(): LockResult {
    try {
      ensurePrivateDir(this.dir, 0o700);
    } catch (err) {
      if (err instanceof UnsafePathError)
        throw new StateError('UNSAFE_PATH', `state directory ${this.dir}: ${err.message}`);
      throw err;
    }
    let stale: LockResult['stale'];
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.pidPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return { dir: this.dir, stale };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number.parseInt(readFileSync(this.pidPath, 'utf8').trim(), 10);
        if (pidAlive(pid) && pid !== process.pid) {
          throw new StateError(
            'ALREADY_RUNNING',
            `tunnel "${this.name}" is already running (pid ${pid}); stop it with "ts-vpn down ${this.name}"`,
          );
        }
        stale = { pid, state: this.readState() };
        rmSync(this.pidPath, { force: true });
        rmSync(this.controlPath, { force: true });
      }
    }
    throw new StateError('LOCK_FAILED', `could not take the lock ${this.pidPath}`);
  }

  /** Records what is configured (atomic replace, root-only). */
  writeState(state: unknown): void {
    writeFileSafe(this.statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  }

  readState(): unknown {
    try {
      return JSON.parse(readFileSync(this.statePath, 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Removes the lock, socket and state (end of a clean run). */
  release(): void {
    if (!this.locked) return;
    rmSync(this.controlPath, { force: true });
    rmSync(this.statePath, { force: true });
    rmSync(this.pidPath, { force: true });
    try {
      if (readdirSync(this.dir).length === 0) rmSync(this.dir, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
    this.locked = false;
  }
}

/** Names of tunnels with a state directory (running or stale). */
export function listTunnels(
  root: string = DEFAULT_STATE_ROOT,
): { name: string; pid: number | null; running: boolean }[] {
  if (!existsSync(root)) return [];
  const out: { name: string; pid: number | null; running: boolean }[] = [];
  for (const name of readdirSync(root)) {
    let pid: number | null = null;
    try {
      pid = Number.parseInt(readFileSync(join(root, name, 'pid'), 'utf8').trim(), 10);
    } catch {
      /* no pid file */
    }
    if (pid === null || Number.isNaN(pid)) continue;
    out.push({ name, pid, running: pidAlive(pid) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
