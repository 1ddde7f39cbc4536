/**
 * `npm run bench:tunnel` (as root): raw ssh2 channel vs OpenSSH `ssh -w` vs ts-vpn, in one
 * run, on the same two namespaces joined by a veth, the same real sshd, the same cipher.
 *
 * Env: BENCH_RUNS (default 3), BENCH_SECONDS (default 5), BENCH_PINGS (default 50),
 * BENCH_QUICK=1 (1 run × 1 s, 10 pings: the smoke mode the test suite uses),
 * BENCH_SOAK_SECONDS (default 300, 0 = none: one long ts-vpn upload sampling both ends' RSS),
 * BENCH_ONLY (comma list of raw,sshw,tsvpn to run a subset),
 * BENCH_PROFILE=DIR (run ts-vpn's processes with --cpu-prof into DIR),
 * BENCH_DIST=DIR (benchmark the ts-vpn build in DIR instead of dist/),
 * BENCH_NICE=N (niceness for everything the benchmark starts, default -10; 0 = leave),
 * BENCH_HOLD=S (keep the paths up S seconds before measuring, to poke at them by hand),
 * BENCH_OFFLOAD=0 (ts-vpn with `tunnel.offload: false`: per-packet forwarding, for A/B),
 * BENCH_SMAPS=1 (print where each ts-vpn end's peak RSS sits during each transfer: [heap],
 * anonymous mappings, file-backed), BENCH_ENV="K=V …" (extra environment for both ts-vpn ends),
 * BENCH_FAR_END=gateway (the ts-vpn path's far end is one `ts-vpn gateway` daemon reached
 * through sshd's direct-streamlocal, instead of `ts-vpn serve` per connection).
 *
 * Progress goes to stderr; the results (tables, ratios) go to stdout, whose last line is
 * `summary: up=… down=… ceil_up=… ceil_down=… rtt=… rss_mb=… rtt_med_ms=… rtt_p90_ms=…
 * first_byte_ms=… up_ms=… rss_srv_mb=… soak_end_mb=…/…` (the figures of issue 17's table,
 * which is printed above it).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpus, getPriority, loadavg, setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  createNetns,
  deleteNetns,
  linkNetns,
  type Netns,
  sh,
  uniqueId,
} from '../../test/support/netns.js';
import { type Sshd, startSshd } from '../../test/support/sshd.js';
import { sshTunnelArgs, stopChild, tunSnapshot, waitForNewTuns } from '../support/ssh-w.js';
import {
  cpuSeconds,
  currentRss,
  descendants,
  groupPeakRss,
  type MemBreakdown,
  memBreakdown,
  type ProcGroup,
  snapshot,
} from './procstat.js';
import { fmt, median, percentile, ratio, spread, table, trend } from './stats.js';
import { startTsVpn, type TsVpnHandle, tsVpnAvailable } from './tsvpn.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const SECONDS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_SECONDS ?? 5));
const PINGS = QUICK ? 10 : Math.max(3, Number(process.env.BENCH_PINGS ?? 50));
const SOAK = QUICK ? 0 : Math.max(0, Number(process.env.BENCH_SOAK_SECONDS ?? 300));
const NICE = Number(process.env.BENCH_NICE ?? -10);
/** BENCH_SMAPS=1: sample both ts-vpn ends' smaps during each transfer and print the peak's breakdown. */
const SMAPS = process.env.BENCH_SMAPS === '1';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'raw,sshw,tsvpn').split(',').map((s) => s.trim()));
export const CIPHER = 'aes128-gcm@openssh.com';
const PREFIX = 'tvb-';
const SSH_PORT = 2222;
const IPERF_PORT = 5201;
const NET = { cli: '198.18.0.1', srv: '198.18.0.2' };
const SSHW = { cli: '198.19.1.1', srv: '198.19.1.2' };

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ process bookkeeping

const children = new Set<ChildProcess>();
export function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

function run(
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

interface Lab {
  id: string;
  cli: Netns;
  srv: Netns;
  sshd: Sshd;
}

/** Namespaces named tvb-<c|s>-<pid>-<id>: stale when <pid> no longer runs (or unparsable). */
function removeStaleNamespaces(): void {
  let list = '';
  try {
    list = sh('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (!name?.startsWith(PREFIX)) continue;
    const m = /^tvb-[a-z]+-(\d+)-/.exec(name);
    let alive = false;
    if (m) {
      try {
        process.kill(Number(m[1]), 0);
        alive = Number(m[1]) !== process.pid || false;
      } catch {
        alive = false;
      }
    }
    if (!alive) {
      progress(`removing stale namespace ${name}`);
      deleteNetns(name);
    }
  }
}

async function makeLab(): Promise<Lab> {
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

function cleanup(): Promise<void> {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    await Promise.all([...children].map((p) => stopChild(p, 1000)));
    if (labSshd) await labSshd.stop().catch(() => {});
    for (const ns of labNs) ns.destroy(); // kills what still runs inside (ours only)
  })();
  return cleaning;
}

// ------------------------------------------------------------------ measurements

interface Sample {
  mbit: number;
  cpuCli: number;
  cpuSrv: number;
}

interface PathResult {
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

function emptyResult(name: string, status: PathResult['status'], note?: string): PathResult {
  return { name, status, note, up: [], down: [], rtt: [], rssCli: 0, rssSrv: 0 };
}

interface Groups {
  cli: ProcGroup;
  srv: ProcGroup;
}

async function iperfOnce(
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

async function waitPing(lab: Lab, addr: string, timeoutMs: number): Promise<void> {
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

// ------------------------------------------------------------------ the three paths

/**
 * One path under test, brought up once; measurements of all paths are interleaved
 * (round by round, direction by direction) so that background load on the machine
 * hits all of them alike.
 */
interface Path {
  res: PathResult;
  groups: Groups;
  /** Measures one transfer in one direction (Mbit/s). */
  transfer(dir: 'up' | 'down'): Promise<number>;
  /** Tunnel address of the far end (ping, iperf3), none for the raw channel. */
  addr?: string;
  stop(): Promise<void>;
}

/** sshd's per-connection processes that appeared while `f` ran: the session of that path. */
async function newSession<T>(
  lab: Lab,
  f: () => Promise<T>,
): Promise<{ value: T; session: number[] }> {
  const before = new Set(lab.sshd.sessionPids());
  const value = await f();
  let session: number[] = [];
  for (let i = 0; i < 100 && session.length === 0; i++) {
    session = lab.sshd.sessionPids().filter((p) => !before.has(p));
    if (session.length === 0) await sleep(20);
  }
  return { value, session };
}

/** A session pid and everything under it (sshd privsep child, far-end command…). */
function sessionTree(session: number[]): ProcGroup {
  return { pids: () => session.flatMap((p) => [p, ...descendants(p)]) };
}

async function startRaw(lab: Lab): Promise<Path> {
  const res = emptyResult('raw ssh2 channel', 'ok');
  let child: ChildProcess | null = null;
  let next: () => Promise<Record<string, unknown>> = async () => ({});
  const { session } = await newSession(lab, async () => {
    child = track(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          lab.cli.name,
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'bench/tunnel/raw-channel.ts'),
          NET.srv,
          String(SSH_PORT),
          lab.sshd.clientKeyPath,
          lab.sshd.knownHostsPath,
          CIPHER,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT },
      ),
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    next = async () => {
      const r = await Promise.race([lines.next(), sleep((SECONDS + 30) * 1000).then(() => null)]);
      if (!r || r.done) throw new Error('raw-channel child ended or timed out');
      const j = JSON.parse(r.value) as Record<string, unknown>;
      if (j.error) throw new Error(`raw-channel: ${j.error}`);
      return j;
    };
    const hello = await next();
    res.handshakeMs = Number(hello.handshakeMs) + Number(hello.authMs ?? 0);
    res.note = `cipher ${hello.cipher}`;
  });
  const c = child as unknown as ChildProcess;
  return {
    res,
    groups: { cli: { pids: () => [c.pid!] }, srv: sessionTree(session) },
    async transfer(dir) {
      c.stdin!.write(`${dir} ${SECONDS}\n`);
      const r = await next();
      return (Number(r.bytes) * 8) / Number(r.seconds) / 1e6;
    },
    async stop() {
      c.stdin!.write('quit\n');
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(5000)]);
      await stopChild(c);
    },
  };
}

async function startSshW(lab: Lab): Promise<Path> {
  const res = emptyResult('ssh -w (OpenSSH tun)', 'ok');
  const before = tunSnapshot(lab.cli, lab.srv);
  let sshErr = '';
  let ssh: ChildProcess | null = null;
  const stop = async () => {
    if (ssh) await stopChild(ssh);
  };
  try {
    const { session } = await newSession(lab, async () => {
      const t0 = performance.now();
      ssh = track(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            lab.cli.name,
            'ssh',
            ...sshTunnelArgs({
              key: lab.sshd.clientKeyPath,
              knownHosts: lab.sshd.knownHostsPath,
              cipher: CIPHER,
              port: SSH_PORT,
              host: NET.srv,
            }),
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        ),
      );
      const s = ssh as ChildProcess;
      s.stderr!.on('data', (d) => {
        sshErr += d;
      });
      const { cli: cliTun, srv: srvTun } = await waitForNewTuns(
        ssh as ChildProcess,
        lab.cli,
        lab.srv,
        before,
        () => sshErr,
        { timeoutMs: 15_000, pollMs: 5 },
      );
      const tunMs = performance.now() - t0;
      for (const [ns, dev, local, peer] of [
        [lab.cli, cliTun, SSHW.cli, SSHW.srv],
        [lab.srv, srvTun, SSHW.srv, SSHW.cli],
      ] as const) {
        ns.exec('ip', ['addr', 'add', local, 'peer', peer, 'dev', dev]);
        ns.exec('ip', ['link', 'set', dev, 'up']);
      }
      await waitPing(lab, SSHW.srv, 10_000);
      res.totalUpMs = tunMs;
      res.spawnUpMs = tunMs;
      res.bringUp = `${fmt(tunMs)} ms from spawn to both tun devices (addresses set by hand)`;
      progress(`  ssh -w up: ${cliTun} ↔ ${srvTun} after ${fmt(tunMs)} ms`);
    });
    const s = ssh as unknown as ChildProcess;
    return {
      res,
      addr: SSHW.srv,
      groups: { cli: { pids: () => [s.pid!] }, srv: sessionTree(session) },
      transfer: (dir) => iperfOnce(lab, SSHW.srv, dir === 'down', SECONDS),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startTsVpnPath(lab: Lab): Promise<Path> {
  const res = emptyResult('ts-vpn', 'ok');
  let h: TsVpnHandle | null = null;
  try {
    const { session } = await newSession(lab, async () => {
      h = await startTsVpn({
        root: ROOT,
        cli: lab.cli,
        srv: lab.srv,
        sshd: lab.sshd,
        host: NET.srv,
        port: SSH_PORT,
        cipher: CIPHER,
        track,
        progress,
        profileDir: process.env.BENCH_PROFILE,
      });
    });
    const t = h as unknown as TsVpnHandle;
    res.handshakeMs = t.handshakeMs;
    res.totalUpMs = t.totalUpMs;
    res.spawnUpMs = t.startup.upMs;
    res.firstByteMs = t.startup.firstSshByteMs;
    const st = t.startup;
    const at = (x: number | undefined) => (x === undefined ? '?' : fmt(x));
    res.bringUp = `${t.bringUpText}; from spawn: main module ${at(st.mainMs)} ms, TCP connect ${at(st.tcpConnectMs)} ms, first SSH byte ${at(st.firstSshByteMs)} ms (${at(st.firstSshByteCpuMs)} ms CPU), tunnel up ${at(st.upMs)} ms`;
    progress(`  ts-vpn up: ${t.bringUpText}`);
    await waitPing(lab, t.peerAddress, 10_000);
    return {
      res,
      addr: t.peerAddress,
      groups: {
        cli: { pids: () => [t.pid] },
        // The gateway daemon is not under sshd: its pid joins the session's.
        srv:
          t.farEndPid === undefined
            ? sessionTree(session)
            : { pids: () => [...sessionTree(session).pids(), t.farEndPid!] },
      },
      transfer: (dir) =>
        iperfOnce(lab, t.peerAddress, dir === 'down', SECONDS).catch((err: Error) => {
          throw new Error(`${err.message}\n--- ts-vpn up log (tail):\n${t.log().slice(-3000)}`);
        }),
      stop: () => t.stop(),
    };
  } catch (err) {
    if (h) await (h as TsVpnHandle).stop();
    throw err;
  }
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

async function measureAll(lab: Lab, paths: Path[]): Promise<void> {
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

// ------------------------------------------------------------------ report

/** Issue 17's table (idle RTT, start-up, RSS, share of the raw channel), filled from this run. */
function issueTable(
  ts: PathResult | undefined,
  sshw: PathResult | undefined,
  r: { ceilUp: number; ceilDown: number },
): string[] {
  const ok = (x: PathResult | undefined): x is PathResult => x?.status === 'ok';
  const ms = (x: number | undefined, d = 0) =>
    x !== undefined && Number.isFinite(x) ? `${fmt(x, d)} ms` : '-';
  const mb = (b: number | undefined) => (b ? `${fmt(b / 2 ** 20, 1)} MB` : '-');
  const verdict = (met: boolean | undefined) =>
    met === undefined ? 'pending' : met ? 'met' : 'not met';
  const rtts = (x: PathResult | undefined) =>
    ok(x) && x.rtt.length ? { med: median(x.rtt), p90: percentile(x.rtt, 90) } : undefined;
  const a = rtts(ts);
  const b = rtts(sshw);
  const t = ok(ts) ? ts : undefined;
  const soak = t?.soak;
  const soakText = soak
    ? `; soak ${SOAK} s at ${fmt(soak.mbit)} Mbit/s, at the end ${mb(soak.cli[soak.cli.length - 1])} / ${mb(soak.srv[soak.srv.length - 1])}: up ${trend(soak.cli)}, serve ${trend(soak.srv)}`
    : '; no soak (BENCH_SOAK_SECONDS=0)';
  const rows = [
    [
      'idle RTT median / p90',
      a ? `${fmt(a.med, 3)} / ${fmt(a.p90, 3)} ms` : '-',
      b ? `${fmt(b.med, 3)} / ${fmt(b.p90, 3)} ms` : '-',
      'median ≤ 1.5x ssh -w, p90 < 1 ms',
      verdict(a && b ? a.med <= 1.5 * b.med && a.p90 < 1 : undefined),
    ],
    [
      'spawn → first SSH byte',
      ms(t?.firstByteMs),
      '-',
      '≤ 60 ms',
      verdict(t?.firstByteMs !== undefined ? t.firstByteMs <= 60 : undefined),
    ],
    [
      'spawn → tunnel up',
      ms(t?.spawnUpMs),
      ms(ok(sshw) ? sshw.spawnUpMs : undefined),
      '≤ ssh -w (gateway far end)',
      verdict(
        t?.spawnUpMs !== undefined && ok(sshw) && sshw.spawnUpMs !== undefined
          ? t.spawnUpMs <= sshw.spawnUpMs
          : undefined,
      ),
    ],
    [
      'peak RSS, full load (client / far end)',
      t ? `${mb(t.rssCli)} / ${mb(t.rssSrv)}` : '-',
      ok(sshw) ? `${mb(sshw.rssCli)} / ${mb(sshw.rssSrv)}` : '-',
      '< 60 MB each, flat over 5 min',
      verdict(
        t
          ? t.rssCli < 60 * 2 ** 20 &&
              t.rssSrv < 60 * 2 ** 20 &&
              (soak
                ? trend(soak.cli).startsWith('flat') && trend(soak.srv).startsWith('flat')
                : true)
          : undefined,
      ),
    ],
    [
      'share of the raw ssh2 channel',
      Number.isFinite(r.ceilUp) ? `${fmt(r.ceilUp, 2)} up / ${fmt(r.ceilDown, 2)} down` : '-',
      ok(sshw) ? '(see ratios)' : '-',
      '≥ 0.5 each way',
      verdict(Number.isFinite(r.ceilUp) ? r.ceilUp >= 0.5 && r.ceilDown >= 0.5 : undefined),
    ],
  ];
  return [
    `issue 17 figures (one run)${soakText}`,
    table(['figure', 'ts-vpn', 'ssh -w', 'target', 'status'], rows),
  ];
}

let loadLine = '';

function report(results: PathResult[]): string[] {
  const out: string[] = [];
  const mb = (b: number) => (b > 0 ? fmt(b / 2 ** 20, 1) : '-');
  const col = (xs: Sample[], f: (s: Sample) => number, d = 0) => spread(xs.map(f), d);
  const perGb = (xs: Sample[]) => {
    // CPU seconds (client + far end) per GB moved, median over runs.
    const v = xs.map((s) => (s.cpuCli + s.cpuSrv) / ((s.mbit * SECONDS) / 8 / 1000));
    return v.length ? fmt(median(v), 2) : '-';
  };
  out.push(
    `ts-vpn tunnel benchmark: cipher ${CIPHER}, ${RUNS} x ${SECONDS} s TCP per direction (iperf3, 1 stream), ${PINGS} pings @ 0.05 s`,
  );
  out.push(
    `node ${process.version}, ${cpus().length} cores, veth between two namespaces, real sshd (OpenSSH)`,
  );
  if (loadLine) out.push(loadLine);
  out.push('');
  out.push('throughput: Mbit/s median (min-max); MB/s = median / 8');
  out.push(
    table(
      ['path', 'up Mbit/s', 'down Mbit/s', 'up MB/s', 'down MB/s', 'RTT med ms', 'RTT p90 ms'],
      results.map((r) =>
        r.status !== 'ok'
          ? [r.name, r.status, r.status, '-', '-', '-', '-']
          : [
              r.name,
              col(r.up, (s) => s.mbit),
              col(r.down, (s) => s.mbit),
              fmt(median(r.up.map((s) => s.mbit)) / 8, 1),
              fmt(median(r.down.map((s) => s.mbit)) / 8, 1),
              r.rtt.length ? fmt(median(r.rtt), 3) : '-',
              r.rtt.length ? fmt(percentile(r.rtt, 90), 3) : '-',
            ],
      ),
    ),
  );
  out.push('');
  out.push(
    `resources: CPU seconds per ${SECONDS} s run, near end + far end (ssh client or ts-vpn up / sshd session tree incl. far-end command); peak RSS = VmHWM`,
  );
  out.push(
    table(
      [
        'path',
        'cpu up cli',
        'cpu up srv',
        'cpu down cli',
        'cpu down srv',
        'cpu s/GB up',
        'cpu s/GB down',
        'RSS cli MB',
        'RSS srv MB',
      ],
      results.map((r) =>
        r.status !== 'ok'
          ? [r.name, '-', '-', '-', '-', '-', '-', '-', '-']
          : [
              r.name,
              col(r.up, (s) => s.cpuCli, 2),
              col(r.up, (s) => s.cpuSrv, 2),
              col(r.down, (s) => s.cpuCli, 2),
              col(r.down, (s) => s.cpuSrv, 2),
              perGb(r.up),
              perGb(r.down),
              mb(r.rssCli),
              mb(r.rssSrv),
            ],
      ),
    ),
  );
  out.push('');
  out.push('bring-up:');
  for (const r of results) {
    if (r.status !== 'ok') out.push(`  ${r.name}: ${r.status}${r.note ? ` (${r.note})` : ''}`);
    else {
      const hs = r.handshakeMs !== undefined ? `SSH handshake ${fmt(r.handshakeMs)} ms` : '';
      out.push(
        `  ${r.name}: ${[hs, r.bringUp].filter(Boolean).join('; ') || '-'}${r.note ? ` [${r.note}]` : ''}`,
      );
    }
  }
  const raw = results.find((r) => r.name.startsWith('raw'));
  const sshw = results.find((r) => r.name.startsWith('ssh -w'));
  const ts = results.find((r) => r.name === 'ts-vpn');
  const med = (r: PathResult | undefined, k: 'up' | 'down') =>
    r && r.status === 'ok' ? median(r[k].map((s) => s.mbit)) : Number.NaN;
  const rtt = (r: PathResult | undefined) =>
    r && r.status === 'ok' && r.rtt.length ? median(r.rtt) : Number.NaN;
  const q = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'pending');
  const ratios = {
    up: ratio(med(ts, 'up'), med(sshw, 'up')),
    down: ratio(med(ts, 'down'), med(sshw, 'down')),
    ceilUp: ratio(med(ts, 'up'), med(raw, 'up')),
    ceilDown: ratio(med(ts, 'down'), med(raw, 'down')),
    rtt: ratio(rtt(ts), rtt(sshw)),
  };
  out.push('');
  out.push('ratios:');
  out.push(
    `  ts-vpn / ssh -w        up ${q(ratios.up)}  down ${q(ratios.down)}  RTT ${q(ratios.rtt)}`,
  );
  out.push(`  ts-vpn / raw channel   up ${q(ratios.ceilUp)}  down ${q(ratios.ceilDown)}`);
  out.push(
    `  ssh -w / raw channel   up ${q(ratio(med(sshw, 'up'), med(raw, 'up')))}  down ${q(ratio(med(sshw, 'down'), med(raw, 'down')))}`,
  );
  if (ts?.status === 'ok' && ts.handshakeMs !== undefined && ts.totalUpMs !== undefined) {
    out.push(
      `  ts-vpn bring-up: PPP + netlink add ${fmt(ts.totalUpMs - ts.handshakeMs)} ms over the SSH handshake (${fmt(ts.handshakeMs)} ms)`,
    );
  }
  out.push('');
  out.push(...issueTable(ts, sshw, ratios));
  const ok = ts?.status === 'ok';
  const mbOr = (b: number | undefined) =>
    ok && b !== undefined && b > 0 ? (b / 2 ** 20).toFixed(1) : 'pending';
  const msOr = (x: number | undefined) =>
    ok && x !== undefined && Number.isFinite(x) ? x.toFixed(0) : 'pending';
  const last = (xs: number[] | undefined) => (xs?.length ? xs[xs.length - 1] : undefined);
  const p90 = ok && ts.rtt.length ? percentile(ts.rtt, 90).toFixed(3) : 'pending';
  out.push('');
  out.push(
    `summary: up=${q(ratios.up)} down=${q(ratios.down)} ceil_up=${q(ratios.ceilUp)} ceil_down=${q(ratios.ceilDown)} rtt=${q(ratios.rtt)} rss_mb=${mbOr(ts?.rssCli)}` +
      ` rtt_med_ms=${ok && ts.rtt.length ? median(ts.rtt).toFixed(3) : 'pending'} rtt_p90_ms=${p90}` +
      ` first_byte_ms=${msOr(ts?.firstByteMs)} up_ms=${msOr(ts?.spawnUpMs)} rss_srv_mb=${mbOr(ts?.rssSrv)}` +
      ` soak_end_mb=${mbOr(last(ts?.soak?.cli))}/${mbOr(last(ts?.soak?.srv))}`,
  );
  return out;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench:tunnel must run as root (it creates network namespaces)');
    return 2;
  }
  // Hard bound on the whole run: it stops by itself whatever happens.
  const budgetS = 120 + 3 * RUNS * 2 * (SECONDS + 10) + SOAK * 1.5;
  const watchdog = setTimeout(() => {
    progress(`watchdog: over ${budgetS} s, aborting`);
    void cleanup().finally(() => process.exit(3));
  }, budgetS * 1000);
  watchdog.unref();

  // Everything the benchmark starts inherits this niceness (sshd and its sessions, ssh,
  // ts-vpn, iperf3, ping): the paths compete on equal terms and less with other work.
  if (NICE !== 0) {
    try {
      setPriority(0, NICE);
    } catch (err) {
      progress(`cannot set niceness ${NICE}: ${(err as Error).message}`);
    }
  }
  const lab = await makeLab();
  progress(
    `lab: ${lab.cli.name} (${NET.cli}) ↔ ${lab.srv.name} (${NET.srv}), sshd pid ${lab.sshd.pid}`,
  );
  const load0 = loadavg();
  const results: PathResult[] = [];
  const paths: Path[] = [];
  const bringUp = async (key: string, name: string, f: () => Promise<Path>) => {
    if (!ONLY.has(key)) return results.push(emptyResult(name, 'pending', 'skipped (BENCH_ONLY)'));
    if (key === 'tsvpn') {
      const why = tsVpnAvailable(ROOT);
      if (why !== true) return results.push(emptyResult(name, 'pending', why));
    }
    progress(`${name}: bringing up…`);
    try {
      const p = await f();
      paths.push(p);
      results.push(p.res);
    } catch (err) {
      progress(`${name} FAILED: ${(err as Error).stack ?? err}`);
      results.push(emptyResult(name, 'failed', (err as Error).message.split('\n')[0]));
    }
  };
  try {
    await bringUp('raw', 'raw ssh2 channel', () => startRaw(lab));
    await bringUp('sshw', 'ssh -w (OpenSSH tun)', () => startSshW(lab));
    await bringUp('tsvpn', 'ts-vpn', () => startTsVpnPath(lab));
    const hold = Number(process.env.BENCH_HOLD ?? 0);
    if (hold > 0) {
      // Developer aid: keep everything up (bounded) to poke at it from another shell.
      progress(
        `holding ${hold} s: ${paths.map((p) => `${p.res.name} ${p.addr ?? ''}`).join(', ')}`,
      );
      await sleep(Math.min(hold, 3600) * 1000);
    }
    await measureAll(lab, paths);
  } finally {
    for (const p of paths) await p.stop().catch(() => {});
  }
  const load1 = loadavg();
  loadLine = `load average (1 min) before/after: ${load0[0]!.toFixed(2)} / ${load1[0]!.toFixed(2)} on ${cpus().length} cores, bench niceness ${getPriority(0)} (other work on the machine skews figures; ratios come from interleaved runs)`;
  for (const line of report(results)) console.log(line);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    progress(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(
    (code) => cleanup().then(() => code),
    (err) => {
      progress(`error: ${(err as Error).stack ?? err}`);
      return cleanup().then(() => 1);
    },
  )
  .then((code) => process.stdout.write('', () => process.exit(code)));
