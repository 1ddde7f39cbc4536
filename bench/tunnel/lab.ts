/**
 * The tunnel benchmark's lab and process bookkeeping: the two namespaces joined by a veth,
 * the real sshd, stale-namespace removal, every child process tracked (`track`, `run`), and
 * `cleanup` that stops them all and destroys the namespaces.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import {
  createNetns,
  linkNetns,
  type Netns,
  removeStale,
  uniqueId,
} from '../../test/support/netns.js';
import { type Sshd, startSshd } from '../../test/support/sshd.js';
import { stopChild } from '../support/ssh-w.js';
import { CIPHER, NET, PREFIX, progress, SSH_PORT } from './config.js';

// ------------------------------------------------------------------ process bookkeeping

const children = new Set<ChildProcess>();
export function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

export function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        res({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
    track(p);
  });
}

// ------------------------------------------------------------------ the lab

export interface Lab {
  id: string;
  cli: Netns;
  srv: Netns;
  sshd: Sshd;
}

/** Namespaces named tvb-<c|s>-<pid>-<id>: stale when <pid> no longer runs (or unparsable). */
function removeStaleNamespaces(): void {
  removeStale(PREFIX, (name) => {
    const m = /^tvb-[a-z]+-(\d+)-/.exec(name);
    let alive = false;
    if (m) {
      try {
        process.kill(Number(m[1]), 0);
        alive = Number(m[1]) !== process.pid;
      } catch {
        alive = false;
      }
    }
    if (!alive) progress(`removing stale namespace ${name}`);
    return !alive;
  });
}

export async function makeLab(): Promise<Lab> {
  removeStaleNamespaces();
  const id = uniqueId();
  const cli = createNetns(`${PREFIX}c-${process.pid}-${id}`);
  labNs.push(cli);
  const srv = createNetns(`${PREFIX}s-${process.pid}-${id}`);
  labNs.push(srv);
  linkNetns(cli, `${NET.cli}/30`, srv, `${NET.srv}/30`, `tvb${id}`);
  const sshd = await startSshd({
    ns: srv.name,
    listenAddress: NET.srv,
    port: SSH_PORT,
    allowTunnel: true,
    extraConfig: `Ciphers ${CIPHER}\nMaxSessions 20`,
  });
  labSshd = sshd;
  return { id, cli, srv, sshd };
}

const labNs: Netns[] = [];
let labSshd: Sshd | null = null;
let cleaning: Promise<void> | null = null;

export function cleanup(): Promise<void> {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    await Promise.all([...children].map((p) => stopChild(p, 1000)));
    if (labSshd) await labSshd.stop().catch(() => {});
    for (const ns of labNs) ns.destroy(); // kills what still runs inside (ours only)
  })();
  return cleaning;
}
