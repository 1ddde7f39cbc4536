/**
 * `npm run bench:tunnel` (as root): raw ssh2 channel vs OpenSSH `ssh -w` vs ts-vpn, in one
 * run, on the same two namespaces joined by a veth, the same real sshd, the same cipher.
 *
 * Env: BENCH_RUNS (default 3), BENCH_SECONDS (default 5), BENCH_PINGS (default 50),
 * BENCH_QUICK=1 (1 run × 1 s, 10 pings: the smoke mode the test suite uses),
 * BENCH_SOAK_SECONDS (optional: one long ts-vpn upload sampling its RSS),
 * BENCH_ONLY (comma list of raw,sshw,tsvpn to run a subset),
 * BENCH_PROFILE=DIR (run ts-vpn's processes with --cpu-prof into DIR).
 *
 * Progress goes to stderr; the results (tables, ratios) go to stdout, whose last line is
 * `summary: up=… down=… ceil_up=… ceil_down=… rtt=… rss_mb=…`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpus } from 'node:os';
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
import {
  cpuSeconds,
  currentRss,
  descendants,
  groupPeakRss,
  type ProcGroup,
  peakRss,
  snapshot,
} from './procstat.js';
import { fmt, median, percentile, ratio, spread, table } from './stats.js';
import { startTsVpn, type TsVpnHandle, tsVpnAvailable } from './tsvpn.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const SECONDS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_SECONDS ?? 5));
const PINGS = QUICK ? 10 : Math.max(3, Number(process.env.BENCH_PINGS ?? 50));
const SOAK = QUICK ? 0 : Math.max(0, Number(process.env.BENCH_SOAK_SECONDS ?? 0));
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

/** SIGTERM, then SIGKILL after `graceMs`; only this pid. */
export async function stopChild(p: ChildProcess, graceMs = 2000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null || !p.pid) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(p.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await gone;
  clearTimeout(t);
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
  const r = await run('ip', args, (seconds + 30) * 1000);
  try {
    const j = JSON.parse(r.stdout) as {
      end?: { sum_received?: { bits_per_second: number } };
      error?: string;
    };
    if (j.error) throw new Error(j.error);
    return (j.end?.sum_received?.bits_per_second ?? Number.NaN) / 1e6;
  } catch (err) {
    throw new Error(
      `iperf3 ${reverse ? '-R ' : ''}to ${addr} failed: ${(err as Error).message} ${r.stderr.trim()}`,
    );
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

async function tcpRuns(lab: Lab, addr: string, g: Groups, res: PathResult): Promise<void> {
  const server = await startIperfServer(lab, addr);
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const reverse of [false, true]) {
        const b = { c: snapshot(g.cli), s: snapshot(g.srv) };
        const mbit = await iperfOnce(lab, addr, reverse, SECONDS);
        const a = { c: snapshot(g.cli), s: snapshot(g.srv) };
        const s: Sample = { mbit, cpuCli: cpuSeconds(b.c, a.c), cpuSrv: cpuSeconds(b.s, a.s) };
        (reverse ? res.down : res.up).push(s);
        progress(
          `  ${res.name} ${reverse ? 'down' : 'up  '} run ${i + 1}/${RUNS}: ${fmt(mbit)} Mbit/s, cpu ${fmt(s.cpuCli, 2)}+${fmt(s.cpuSrv, 2)} s`,
        );
      }
    }
  } finally {
    await stopChild(server);
  }
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

/** Names of TUN devices in a namespace. */
function tunDevices(ns: Netns): string[] {
  const out = ns.exec('ip', ['-d', '-j', 'link', 'show']);
  const links = JSON.parse(out) as Array<{ ifname: string; linkinfo?: { info_kind?: string } }>;
  return links.filter((l) => l.linkinfo?.info_kind === 'tun').map((l) => l.ifname);
}

// ------------------------------------------------------------------ 1. raw channel

async function benchRaw(lab: Lab): Promise<PathResult> {
  const res = emptyResult('raw ssh2 channel', 'ok');
  const child = track(
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
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await Promise.race([lines.next(), sleep((SECONDS + 30) * 1000).then(() => null)]);
    if (!r || r.done) throw new Error('raw-channel child ended or timed out');
    const j = JSON.parse(r.value) as Record<string, unknown>;
    if (j.error) throw new Error(`raw-channel: ${j.error}`);
    return j;
  };
  try {
    const hello = await next();
    res.handshakeMs = Number(hello.handshakeMs) + Number(hello.authMs ?? 0);
    res.note = `cipher ${hello.cipher}`;
    const g: Groups = {
      cli: { pids: () => [child.pid!] },
      srv: { pids: () => descendants(lab.sshd.pid) },
    };
    for (let i = 0; i < RUNS; i++) {
      for (const dir of ['up', 'down'] as const) {
        const b = { c: snapshot(g.cli), s: snapshot(g.srv) };
        child.stdin!.write(`${dir} ${SECONDS}\n`);
        const r = await next();
        const a = { c: snapshot(g.cli), s: snapshot(g.srv) };
        const mbit = (Number(r.bytes) * 8) / Number(r.seconds) / 1e6;
        const s = { mbit, cpuCli: cpuSeconds(b.c, a.c), cpuSrv: cpuSeconds(b.s, a.s) };
        res[dir].push(s);
        progress(
          `  raw ${dir.padEnd(4)} run ${i + 1}/${RUNS}: ${fmt(mbit)} Mbit/s, cpu ${fmt(s.cpuCli, 2)}+${fmt(s.cpuSrv, 2)} s`,
        );
      }
    }
    res.rssCli = peakRss(child.pid!);
    res.rssSrv = groupPeakRss(g.srv);
    child.stdin!.write('quit\n');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
  } finally {
    await stopChild(child);
  }
  return res;
}

// ------------------------------------------------------------------ 2. ssh -w

async function benchSshW(lab: Lab): Promise<PathResult> {
  const res = emptyResult('ssh -w (OpenSSH tun)', 'ok');
  const before = { cli: new Set(tunDevices(lab.cli)), srv: new Set(tunDevices(lab.srv)) };
  const t0 = performance.now();
  const ssh = track(
    spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.cli.name,
        'ssh',
        '-F',
        '/dev/null',
        '-N',
        '-T',
        '-i',
        lab.sshd.clientKeyPath,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${lab.sshd.knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `Ciphers=${CIPHER}`,
        '-o',
        'Tunnel=point-to-point',
        '-w',
        'any:any',
        '-o',
        'ExitOnForwardFailure=yes',
        '-p',
        String(SSH_PORT),
        `root@${NET.srv}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let sshErr = '';
  ssh.stderr!.on('data', (d) => {
    sshErr += d;
  });
  try {
    let cliTun: string | undefined;
    let srvTun: string | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (!cliTun || !srvTun)) {
      if (ssh.exitCode !== null) throw new Error(`ssh -w exited: ${sshErr.trim()}`);
      cliTun ??= tunDevices(lab.cli).find((n) => !before.cli.has(n));
      srvTun ??= tunDevices(lab.srv).find((n) => !before.srv.has(n));
      if (!cliTun || !srvTun) await sleep(5);
    }
    if (!cliTun || !srvTun) throw new Error(`ssh -w: tun devices did not appear: ${sshErr.trim()}`);
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
    res.bringUp = `${fmt(tunMs)} ms to both tun devices (addresses by hand)`;
    progress(`  ssh -w up: ${cliTun} ↔ ${srvTun} after ${fmt(tunMs)} ms`);
    const g: Groups = {
      cli: { pids: () => [ssh.pid!] },
      srv: { pids: () => descendants(lab.sshd.pid) },
    };
    res.rtt = await pingRtts(lab, SSHW.srv, PINGS);
    await tcpRuns(lab, SSHW.srv, g, res);
    res.rssCli = peakRss(ssh.pid!);
    res.rssSrv = groupPeakRss(g.srv);
  } finally {
    await stopChild(ssh);
    // Wait for sshd's session to go (its tun device with it) so the next path starts clean.
    for (let i = 0; i < 100 && descendants(lab.sshd.pid).length > 0; i++) await sleep(50);
  }
  return res;
}

// ------------------------------------------------------------------ 3. ts-vpn

async function benchTsVpn(lab: Lab): Promise<PathResult> {
  const why = tsVpnAvailable(ROOT);
  if (why !== true) return emptyResult('ts-vpn', 'pending', why);
  const res = emptyResult('ts-vpn', 'ok');
  let h: TsVpnHandle | null = null;
  try {
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
    res.handshakeMs = h.handshakeMs;
    res.totalUpMs = h.totalUpMs;
    res.bringUp = h.bringUpText;
    progress(`  ts-vpn up: ${h.bringUpText}`);
    await waitPing(lab, h.peerAddress, 10_000);
    const upPid = h.pid;
    const g: Groups = {
      cli: { pids: () => [upPid] },
      srv: { pids: () => descendants(lab.sshd.pid) },
    };
    res.rtt = await pingRtts(lab, h.peerAddress, PINGS);
    await tcpRuns(lab, h.peerAddress, g, res);
    if (SOAK > 0) await soak(lab, h, res);
    res.rssCli = peakRss(upPid);
    res.rssSrv = groupPeakRss(g.srv);
  } finally {
    if (h) await h.stop();
  }
  return res;
}

async function soak(lab: Lab, h: TsVpnHandle, res: PathResult): Promise<void> {
  progress(`  soak: ${SOAK} s upload through ts-vpn, RSS sampled every ${SOAK >= 60 ? 5 : 2} s`);
  const server = await startIperfServer(lab, h.peerAddress);
  const every = SOAK >= 60 ? 5000 : 2000;
  const samples: number[] = [];
  try {
    const done = iperfOnce(lab, h.peerAddress, false, SOAK);
    let finished = false;
    void done.finally(() => {
      finished = true;
    });
    const stopAt = Date.now() + (SOAK + 30) * 1000;
    while (!finished && Date.now() < stopAt) {
      samples.push(currentRss(h.pid) / 2 ** 20);
      await Promise.race([sleep(every), done.catch(() => {})]);
    }
    const mbit = await done;
    res.note = `${res.note ? `${res.note}; ` : ''}soak ${SOAK} s at ${fmt(mbit)} Mbit/s: RSS MB ${samples.map((x) => fmt(x, 1)).join(' ')}`;
    progress(`  soak: ${fmt(mbit)} Mbit/s, RSS ${samples.map((x) => fmt(x, 1)).join(' ')} MB`);
  } finally {
    await stopChild(server);
  }
}

// ------------------------------------------------------------------ report

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
  const rss = ts?.status === 'ok' && ts.rssCli > 0 ? (ts.rssCli / 2 ** 20).toFixed(1) : 'pending';
  out.push('');
  out.push(
    `summary: up=${q(ratios.up)} down=${q(ratios.down)} ceil_up=${q(ratios.ceilUp)} ceil_down=${q(ratios.ceilDown)} rtt=${q(ratios.rtt)} rss_mb=${rss}`,
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

  const lab = await makeLab();
  progress(
    `lab: ${lab.cli.name} (${NET.cli}) ↔ ${lab.srv.name} (${NET.srv}), sshd pid ${lab.sshd.pid}`,
  );
  const results: PathResult[] = [];
  const step = async (key: string, name: string, f: () => Promise<PathResult>) => {
    if (!ONLY.has(key)) return results.push(emptyResult(name, 'pending', 'skipped (BENCH_ONLY)'));
    progress(`${name}…`);
    try {
      results.push(await f());
    } catch (err) {
      progress(`${name} FAILED: ${(err as Error).stack ?? err}`);
      results.push(emptyResult(name, 'failed', (err as Error).message.split('\n')[0]));
    }
  };
  await step('raw', 'raw ssh2 channel', () => benchRaw(lab));
  await step('sshw', 'ssh -w (OpenSSH tun)', () => benchSshW(lab));
  await step('tsvpn', 'ts-vpn', () => benchTsVpn(lab));
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
