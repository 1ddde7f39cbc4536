/**
 * Linux pipe buffer size (fcntl F_SETPIPE_SZ). A 64 KiB pipe between sshd and the far-end
 * reader makes sshd write in tiny pieces and collapses throughput (docs: DESIGN.md
 * "Performance facts"); 1 MiB fixes it. Best effort: any failure is ignored.
 */
import { tryLibc } from '../sys/libc.js';

const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;

type Fcntl = (fd: number, cmd: number, arg: number) => number;

/** fcntl(fd, cmd, int) from src/sys/libc.ts, or null off Linux or when koffi cannot load. */
function loadFcntl(): Fcntl | null {
  if (process.platform !== 'linux') return null;
  return tryLibc()?.fcntlInt ?? null;
}

/** Sets the pipe behind `fd` to `bytes` (default 1 MiB). Returns the new size, or null. */
export function setPipeSize(fd: number, bytes = 1 << 20): number | null {
  const f = loadFcntl();
  if (!f) return null;
  try {
    const r = f(fd, F_SETPIPE_SZ, bytes);
    return r >= 0 ? r : null;
  } catch {
    return null;
  }
}

/** Current pipe size of `fd`, or null when `fd` is not a pipe. */
export function getPipeSize(fd: number): number | null {
  const f = loadFcntl();
  if (!f) return null;
  try {
    const r = f(fd, F_GETPIPE_SZ, 0);
    return r >= 0 ? r : null;
  } catch {
    return null;
  }
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Puts `fd` in blocking mode (clears O_NONBLOCK). Returns false when that failed. */
export function setBlocking(fd: number): boolean {
  const f = loadFcntl();
  if (!f) return false;
  try {
    const flags = f(fd, F_GETFL, 0);
    if (flags < 0) return false;
    if ((flags & O_NONBLOCK) === 0) return true;
    return f(fd, F_SETFL, flags & ~O_NONBLOCK) >= 0;
  } catch {
    return false;
  }
}
