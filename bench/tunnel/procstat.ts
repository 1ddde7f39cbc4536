/**
 * /proc accounting for the tunnel processes: CPU ticks (utime+stime, plus the reaped
 * children's cutime+cstime so a short-lived far-end command such as `cat` is counted by
 * its sshd parent), peak RSS (VmHWM), and the process tree under a pid.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 0;
export function ticksPerSecond(): number {
  if (clkTck) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime+stime+cutime+cstime in ticks. */
  ticks: number;
}

export function readStat(pid: number): ProcStat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may contain spaces and parentheses: split after the last ')'.
  const close = s.lastIndexOf(')');
  const comm = s.slice(s.indexOf('(') + 1, close);
  const f = s.slice(close + 2).split(' ');
  // f[0] = state (field 3); utime is field 14 → f[11]; stime f[12]; cutime f[13]; cstime f[14].
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return { pid, ppid: Number(f[1]), comm, ticks };
}

/** VmHWM (peak RSS) in bytes, or 0 when the process is gone. */
export function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmRSS (current RSS) in bytes. */
export function currentRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** All descendants of `root` (not `root` itself). */
export function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    const st = readStat(Number(ent));
    if (!st) continue;
    const l = kids.get(st.ppid);
    if (l) l.push(st.pid);
    else kids.set(st.ppid, [st.pid]);
  }
  const out: number[] = [];
  const stack = [...(kids.get(root) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** A set of processes to account for: fixed pids and/or "every descendant of X". */
export interface ProcGroup {
  pids: () => number[];
}

export type TickSnapshot = Map<number, number>;

export function snapshot(group: ProcGroup): TickSnapshot {
  const m: TickSnapshot = new Map();
  for (const pid of group.pids()) {
    const st = readStat(pid);
    if (st) m.set(pid, st.ticks);
  }
  return m;
}

/** CPU seconds used between two snapshots (processes born in between count fully). */
export function cpuSeconds(before: TickSnapshot, after: TickSnapshot): number {
  let t = 0;
  for (const [pid, ticks] of after) t += ticks - (before.get(pid) ?? 0);
  return t / ticksPerSecond();
}

/** Largest VmHWM in the group (bytes). */
export function groupPeakRss(group: ProcGroup): number {
  let m = 0;
  for (const pid of group.pids()) m = Math.max(m, peakRss(pid));
  return m;
}

/** Resident memory of one process by kind (bytes), from /proc/<pid>/smaps. */
export interface MemBreakdown {
  rss: number;
  /** glibc's main arena (`[heap]`, brk). */
  heap: number;
  /** Anonymous mappings: V8's spaces, thread arenas, mmapped allocations. */
  anon: number;
  /** The largest anonymous mappings (size of the mapping / resident), biggest first. */
  bigAnon: { size: number; rss: number }[];
  /** File-backed: the node binary, shared libraries, native addons. */
  file: number;
  stack: number;
}

export function memBreakdown(pid: number): MemBreakdown | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const out: MemBreakdown = { rss: 0, heap: 0, anon: 0, bigAnon: [], file: 0, stack: 0 };
  let kind: 'heap' | 'anon' | 'file' | 'stack' = 'anon';
  let size = 0;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[3] ?? '';
      size = Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16);
      kind =
        name === '[heap]'
          ? 'heap'
          : name.startsWith('[stack')
            ? 'stack'
            : name.startsWith('/')
              ? 'file'
              : 'anon';
      continue;
    }
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (!m) continue;
    const b = Number(m[1]) * 1024;
    out.rss += b;
    out[kind] += b;
    if (kind === 'anon' && b >= 1 << 20) out.bigAnon.push({ size, rss: b });
  }
  out.bigAnon.sort((x, y) => y.rss - x.rss);
  out.bigAnon.length = Math.min(out.bigAnon.length, 6);
  return out;
}
