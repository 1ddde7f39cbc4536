/**
 * The tunnel benchmark's measurements: what one path's results hold, iperf3 transfers, idle
 * ping RTTs, waitPing, the interleaved rounds over all paths (measureAll), the ts-vpn soak's
 * RSS sampling and the smaps sampling of peak memory (BENCH_SMAPS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { stopChild } from '../support/ssh-w.js';
import { IPERF_PORT, PINGS, progress, RUNS, SMAPS, SOAK, sleep } from './config.js';
import { type Lab, run, track } from './lab.js';
import {
  cpuSeconds,
  currentRss,
  groupPeakRss,
  type MemBreakdown,
  memBreakdown,
  type ProcGroup,
  snapshot,
} from './procstat.js';
import { fmt } from './stats.js';

export interface Sample {
  mbit: number;
  cpuCli: number;
  cpuSrv: number;
}

export interface PathResult {
  name: string;
  status: 'ok' | 'pending' | 'failed';
  note?: string;
  up: Sample[];
  down: Sample[];
  rtt: number[];
  rssCli: number;
  rssSrv: number;
  bringUp?: string;
  handshakeMs?: number;
  totalUpMs?: number;
  /** Spawn → tunnel up as the benchmark saw it (ms). */
  spawnUpMs?: number;
  /** ts-vpn only: spawn → first SSH byte written (ms). */
  firstByteMs?: number;
  /** ts-vpn only: RSS samples (bytes) of both ends during the soak. */
  soak?: { cli: number[]; srv: number[]; mbit: number; everyS: number };
}

export function emptyResult(name: string, status: PathResult['status'], note?: string): PathResult {
  return { name, status, note, up: [], down: [], rtt: [], rssCli: 0, rssSrv: 0 };
}

interface Groups {
  cli: ProcGroup;
  srv: ProcGroup;
}

export async function iperfOnce(
  lab: Lab,
  addr: string,
  reverse: boolean,
  seconds: number,
): Promise<number> {
  const args = [
    'netns',
    'exec',
    lab.cli.name,
    'iperf3',
    '-c',
    addr,
    '-p',
    String(IPERF_PORT),
    '-t',
    String(seconds),
    '-J',
  ];
  if (reverse) args.push('-R');
  // iperf3's server takes one test at a time and may still be finishing the previous one
  // (data queued in the tunnel): a refused start ("busy", reset control connection) is retried.
  for (let attempt = 1; ; attempt++) {
    const r = await run('ip', args, (seconds + 30) * 1000);
    let j: { end?: { sum_received?: { bits_per_second: number } }; error?: string } = {};
    try {
      j = JSON.parse(r.stdout);
    } catch {
      j = { error: `no JSON from iperf3 (exit ${r.code})` };
    }
    const bps = j.end?.sum_received?.bits_per_second;
    if (!j.error && bps !== undefined) return bps / 1e6;
    const msg = `iperf3 ${reverse ? '-R ' : ''}to ${addr} failed: ${j.error ?? 'no result'} ${r.stderr.trim()}`;
    if (attempt >= 5) throw new Error(msg);
    progress(`  ${msg}; retrying in 1 s`);
    await sleep(1000);
  }
}

async function startIperfServer(lab: Lab, addr: string): Promise<ChildProcess> {
  const p = track(
    spawn(
      'ip',
      ['netns', 'exec', lab.srv.name, 'iperf3', '-s', '-B', addr, '-p', String(IPERF_PORT)],
      { stdio: 'ignore' },
    ),
  );
  for (let i = 0; i < 100; i++) {
    const r = lab.srv.try('bash', ['-c', `exec 3<>/dev/tcp/${addr}/${IPERF_PORT}`]);
    if (r.code === 0) return p;
    await sleep(50);
  }
  throw new Error(`iperf3 server on ${addr} did not start`);
}

async function pingRtts(lab: Lab, addr: string, count: number): Promise<number[]> {
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      lab.cli.name,
      'ping',
      '-n',
      '-c',
      String(count),
      '-i',
      '0.05',
      '-W',
      '2',
      addr,
    ],
    count * 1000 + 10_000,
  );
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (rtts.length === 0) throw new Error(`ping ${addr}: no replies\n${r.stdout}${r.stderr}`);
  return rtts;
}

export async function waitPing(lab: Lab, addr: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await run(
      'ip',
      ['netns', 'exec', lab.cli.name, 'ping', '-n', '-c', '1', '-W', '1', addr],
      3000,
    );
    if (r.code === 0) return;
    await sleep(50);
  }
  throw new Error(`no ping reply from ${addr} within ${timeoutMs} ms`);
}

/**
 * One path under test, brought up once; measurements of all paths are interleaved
 * (round by round, direction by direction) so that background load on the machine
 * hits all of them alike.
 */
export interface Path {
  res: PathResult;
  groups: Groups;
  /** Measures one transfer in one direction (Mbit/s). */
  transfer(dir: 'up' | 'down'): Promise<number>;
  /** Tunnel address of the far end (ping, iperf3), none for the raw channel. */
  addr?: string;
  stop(): Promise<void>;
}

async function soak(lab: Lab, path: Path): Promise<void> {
  const addr = path.addr!;
  const every = SOAK >= 60 ? 5000 : 2000;
  progress(
    `  soak: ${SOAK} s upload through ts-vpn, both ends' RSS sampled every ${every / 1000} s`,
  );
  const cli: number[] = [];
  const srv: number[] = [];
  const peaks = SMAPS ? samplePeaks(path) : null;
  const done = iperfOnce(lab, addr, false, SOAK).finally(() => peaks?.stop());
  let finished = false;
  void done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  const stopAt = Date.now() + (SOAK + 30) * 1000;
  const rssOf = (g: ProcGroup) => Math.max(0, ...g.pids().map(currentRss));
  while (!finished && Date.now() < stopAt) {
    cli.push(rssOf(path.groups.cli));
    srv.push(rssOf(path.groups.srv));
    await sleep(every);
  }
  const mbit = await done;
  path.res.soak = { cli, srv, mbit, everyS: every / 1000 };
  const mbs = (xs: number[]) => xs.map((x) => fmt(x / 2 ** 20, 1)).join(' ');
  progress(`  soak ${SOAK} s at ${fmt(mbit)} Mbit/s: RSS MB up ${mbs(cli)} | serve ${mbs(srv)}`);
  if (peaks) progress(`  soak peak memory: ${peaks.text()}`);
}

export async function measureAll(lab: Lab, paths: Path[]): Promise<void> {
  // Idle RTT first, one path at a time, nothing else running.
  for (const p of paths) if (p.addr) p.res.rtt = await pingRtts(lab, p.addr, PINGS);
  const servers: ChildProcess[] = [];
  try {
    for (const p of paths) if (p.addr) servers.push(await startIperfServer(lab, p.addr));
    for (let i = 0; i < RUNS; i++) {
      for (const dir of ['up', 'down'] as const) {
        for (const p of paths) {
          if (p.res.status !== 'ok') continue;
          const b = { c: snapshot(p.groups.cli), s: snapshot(p.groups.srv) };
          try {
            const peaks = SMAPS && p.res.name === 'ts-vpn' ? samplePeaks(p) : null;
            const mbit = await p.transfer(dir).finally(() => peaks?.stop());
            if (peaks) progress(`  ${dir} peak memory: ${peaks.text()}`);
            const a = { c: snapshot(p.groups.cli), s: snapshot(p.groups.srv) };
            const s: Sample = { mbit, cpuCli: cpuSeconds(b.c, a.c), cpuSrv: cpuSeconds(b.s, a.s) };
            p.res[dir].push(s);
            progress(
              `  ${p.res.name} ${dir.padEnd(4)} run ${i + 1}/${RUNS}: ${fmt(mbit)} Mbit/s, cpu ${fmt(s.cpuCli, 2)}+${fmt(s.cpuSrv, 2)} s`,
            );
          } catch (err) {
            progress(`${p.res.name} FAILED: ${(err as Error).message}`);
            p.res.status = 'failed';
            p.res.note = (err as Error).message.split('\n')[0];
          }
        }
      }
    }
    for (const p of paths) {
      p.res.rssCli = groupPeakRss(p.groups.cli);
      p.res.rssSrv = groupPeakRss(p.groups.srv);
    }
    const ts = paths.find((p) => p.res.name === 'ts-vpn');
    if (SOAK > 0 && ts && ts.res.status === 'ok') {
      await soak(lab, ts);
      ts.res.rssCli = groupPeakRss(ts.groups.cli);
      ts.res.rssSrv = groupPeakRss(ts.groups.srv);
    }
  } finally {
    for (const s of servers) await stopChild(s);
  }
}

/** Samples both ends' smaps every 250 ms until stop(); text() describes each end's largest sample. */
function samplePeaks(p: Path): { stop(): void; text(): string } {
  const best: Record<'cli' | 'srv', MemBreakdown | null> = { cli: null, srv: null };
  const take = () => {
    for (const end of ['cli', 'srv'] as const) {
      const pids = p.groups[end].pids();
      const pid = pids.reduce((a, b) => (currentRss(b) > currentRss(a) ? b : a), pids[0] ?? 0);
      const m = pid ? memBreakdown(pid) : null;
      if (m && (!best[end] || m.rss > best[end]!.rss)) best[end] = m;
    }
  };
  const timer = setInterval(take, 250);
  const mb = (b: number) => fmt(b / 2 ** 20, 1);
  const one = (m: MemBreakdown | null) =>
    m
      ? `rss ${mb(m.rss)} = [heap] ${mb(m.heap)} + anon ${mb(m.anon)} (largest ${m.bigAnon.map((a) => `${mb(a.rss)}/${mb(a.size)}`).join(' ')}) + file ${mb(m.file)} + stack ${mb(m.stack)}`
      : '-';
  return {
    stop: () => {
      take();
      clearInterval(timer);
    },
    text: () => `up ${one(best.cli)} | serve ${one(best.srv)}`,
  };
}
