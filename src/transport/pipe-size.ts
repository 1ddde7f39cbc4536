/**
 * Linux pipe buffer size (fcntl F_SETPIPE_SZ). A 64 KiB pipe between sshd and the far-end
 * reader makes sshd write in tiny pieces and collapses throughput (docs: DESIGN.md
 * "Performance facts"); 1 MiB fixes it. Best effort: any failure is ignored.
 */
import { createRequire } from 'node:module';

const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;

type Fcntl = (fd: number, cmd: number, ...args: unknown[]) => number;
let fcntl: Fcntl | null | undefined;

function loadFcntl(): Fcntl | null {
  if (fcntl !== undefined) return fcntl;
  fcntl = null;
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(name: string): { func(sig: string): Fcntl };
    };
    fcntl = koffi.load('libc.so.6').func('int fcntl(int fd, int cmd, ...)');
  } catch {
    fcntl = null;
  }
  return fcntl;
}

/** Sets the pipe behind `fd` to `bytes` (default 1 MiB). Returns the new size, or null. */
export function setPipeSize(fd: number, bytes = 1 << 20): number | null {
  const f = loadFcntl();
  if (!f) return null;
  try {
    const r = f(fd, F_SETPIPE_SZ, 'int', bytes);
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
    const r = f(fd, F_GETPIPE_SZ, 'int', 0);
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
    const flags = f(fd, F_GETFL, 'int', 0);
    if (flags < 0) return false;
    if ((flags & O_NONBLOCK) === 0) return true;
    return f(fd, F_SETFL, 'int', flags & ~O_NONBLOCK) >= 0;
  } catch {
    return false;
  }
}
