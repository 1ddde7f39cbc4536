/**
 * Pid-owned claim files: the one lock primitive behind address leases and session
 * slots. A claim is a file created with O_EXCL that holds the owner's pid; a file whose
 * pid no longer runs is stale and is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { pidAlive } from './state-dir.js';

/** Claims `path` for `pid`. True when it is ours now (or already was). */
export function claimPidFile(path: string, pid: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        /* raced with a release */
      }
      if (owner === pid) return true;
      if (pidAlive(owner)) return false;
      rmSync(path, { force: true });
    }
  }
  return false;
}

/** Removes `path` if `pid` owns it. */
export function releasePidFile(path: string, pid: number): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === pid) rmSync(path, { force: true });
  } catch {
    /* not claimed */
  }
}
