/**
 * `npm run bench:gateway` (as root): one `ts-vpn gateway` against a load generator
 * in ONE process (bench/gateway/load.ts: N ssh2 connections, one PPP link per
 * direct-streamlocal channel through the library, no TUN on its side), all in a
 * namespace of its own behind a real sshd; then the old path, `ts-vpn serve` per
 * session over exec channels, for BENCH_SERVE_SESSIONS sessions side by side.
 *
 * Env: BENCH_SESSIONS (default 500), BENCH_PER_CONNECTION (channels per SSH
 * connection, default 1), BENCH_SERVE_SESSIONS (default 20, 0 = skip),
 * BENCH_PINGS (echo tries per link, default 3).
 *
 * Then, with the gateway still running, one client's bring-up (installed `ts-vpn up`
 * spawn → tunnel up) against `ssh -w` (bringup.ts), BENCH_UP_RUNS times each (default
 * 5, 0 = skip).
 *
 * Last line: `summary: sessions=N up=N rss_mb_per_session=R bringup_ms_p50=A
 * bringup_ms_p99=B ping_ok=N` (the keys), then first_frame_ms_p50/p99 (client
 * seen, one channel at a time), gateway_accept_to_first_frame_ms_p50/p99,
 * up_spawn_ms_p50, sshw_spawn_ms_p50 and the serve path's serve_* figures; RSS is the
 * gateway daemon's only (its growth above its idle RSS, divided by N).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createNetns, type Netns, uniqueId } from '../../test/support/netns.js';
import { startSshd } from '../../test/support/sshd.js';
import { type BringUpResult, measureBringUp } from './bringup.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const N = Number(process.env.BENCH_SESSIONS ?? 500);
const PER = Number(process.env.BENCH_PER_CONNECTION ?? 1);
const SERVE_N = Number(process.env.BENCH_SERVE_SESSIONS ?? 20);
const PINGS = Number(process.env.BENCH_PINGS ?? 3);
const UP_RUNS = Number(process.env.BENCH_UP_RUNS ?? 5);

function log(m: string): void {
  process.stderr.write(`[bench:gateway] ${m}\n`);
}

function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Pids in the namespace whose command line contains every word. */
function pidsIn(ns: string, ...words: string[]): number[] {
  const out: number[] = [];
  for (const p of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n')) {
    if (!p) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // The node process itself, not the `sh -c` sshd runs it through.
      // (and not the load generator, whose JSON argument names the serve command).
      if (
        cmd.startsWith(process.execPath) &&
        !cmd.includes('load.ts') &&
        words.every((w) => cmd.includes(w))
      )
        out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

interface LoadResult {
  sessions: number;
  up: number;
  pingOk: number;
  bringup: number[];
  firstFrame: number[];
  quietFirstFrame: number[];
  quietOwnFirstWrite: number[];
  quietDataEvent: number[];
  allUpMs: number;
  errors: string[];
  generatorRssMb: number;
}

/** Runs load.ts in the namespace; `during` runs while every link is still up. */
async function runLoad(
  ns: Netns,
  args: Record<string, unknown>,
  during: () => void,
): Promise<LoadResult> {
  const child: ChildProcess = ns.spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'bench', 'gateway', 'load.ts'), JSON.stringify(args)],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  let result: LoadResult | null = null;
  for await (const line of lines) {
    const msg = JSON.parse(line) as { phase: string } & LoadResult;
    if (msg.phase === 'up') log(`${msg.up} links up; pinging through each`);
    if (msg.phase === 'done') {
      result = msg;
      during();
      child.stdin!.end();
      break;
    }
  }
  await new Promise((r) => child.once('exit', r));
  if (!result) throw new Error('the load generator ended without results');
  return result;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    log('needs root (namespaces, TUN devices): sudo npm run bench:gateway');
    process.exit(2);
  }
  if (!existsSync(CLI))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  const id = uniqueId();
  const dir = mkdtempSync(join(tmpdir(), `tvgwb-${id}-`));
  const ns = createNetns(`tvgwb-${id}`);
  const sshd = await startSshd({
    ns: ns.name,
    listenAddress: '127.0.0.1',
    port: 2222,
    extraConfig: 'MaxSessions 1000\nMaxStartups 200\n',
  });
  const socket = join(dir, 'gateway.sock');
  const gwYaml = join(dir, 'gateway.yaml');
  writeFileSync(
    gwYaml,
    `socket: { path: ${socket} }
pool: 10.77.0.0/20
defaults: { max-sessions: 4096 }
max-sessions: 4096
forwarding: enable
echo-interval: 30
state-dir: ${join(dir, 'gw-state')}
`,
  );
  const serverYaml = join(dir, 'server.yaml');
  writeFileSync(
    serverYaml,
    `pool: 10.78.0.0/24\nmax-sessions: 64\nstate-dir: ${join(dir, 'srv-state')}\n`,
  );
  const base = {
    host: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    key: sshd.clientKeyPath,
    pings: PINGS,
  };
  let gw: ChildProcess | null = null;
  try {
    gw = ns.spawn(
      process.execPath,
      [CLI, 'gateway', gwYaml, '--state-dir', join(dir, 'gw-state')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let gwLog = '';
    gw.stderr!.on('data', (d) => (gwLog += d));
    for (let i = 0; i < 200 && !/listening on/.test(gwLog); i++)
      await new Promise((r) => setTimeout(r, 50));
    if (!/listening on/.test(gwLog)) throw new Error(`gateway did not start:\n${gwLog}`);
    const gwPid = gw.pid!;
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssMb(gwPid);
    log(
      `gateway pid ${gwPid} idle rss ${r1(idle)} MB; opening ${N} sessions (${PER} per SSH connection)`,
    );
    let loaded = 0;
    let tuns = 0;
    /** The gateway's own accept → first frame written, per session (from its status). */
    let gwFirst: number[] = [];
    const g = await runLoad(
      ns,
      { ...base, mode: 'gateway', target: socket, sessions: N, perConnection: PER },
      () => {
        loaded = rssMb(gwPid);
        const links = execFileSync('ip', ['netns', 'exec', ns.name, 'ip', '-o', 'link'], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        tuns = links.match(/ tsvg\d+:/g)?.length ?? 0;
        const st = JSON.parse(
          execFileSync(
            'ip',
            [
              'netns',
              'exec',
              ns.name,
              process.execPath,
              CLI,
              'status',
              '--json',
              '--state-dir',
              join(dir, 'gw-state'),
            ],
            { encoding: 'utf8', maxBuffer: 64 << 20 },
          ),
        ) as { sessions: { firstFrameMs: number | null }[] };
        gwFirst = st.sessions.flatMap((x) => (x.firstFrameMs === null ? [] : [x.firstFrameMs]));
      },
    );
    const perSession = (loaded - idle) / Math.max(1, g.up);
    console.log(
      `gateway: ${g.up}/${g.sessions} up in ${r1(g.allUpMs / 1000)} s, ping ok ${g.pingOk}, TUN devices ${tuns}`,
    );
    console.log(
      `gateway: rss idle ${r1(idle)} MB, loaded ${r1(loaded)} MB, per session ${(loaded - idle) / Math.max(1, g.up) < 0.1 ? ((loaded - idle) / Math.max(1, g.up)).toFixed(3) : r1(perSession)} MB; generator rss ${g.generatorRssMb} MB`,
    );
    console.log(
      `gateway: bring-up (channel request → IPCP up) p50 ${r1(pct(g.bringup, 50))} ms p99 ${r1(pct(g.bringup, 99))} ms; first frame after channel open p50 ${r1(pct(g.firstFrame, 50))} ms p99 ${r1(pct(g.firstFrame, 99))} ms`,
    );
    console.log(
      `gateway: its own accept → first PPP frame written: p50 ${r1(pct(gwFirst, 50))} ms p99 ${r1(pct(gwFirst, 99))} ms (${gwFirst.length} sessions)`,
    );
    console.log(
      `gateway: first frame after channel open, one channel at a time with all sessions up: p50 ${r1(pct(g.quietFirstFrame, 50))} ms p99 ${r1(pct(g.quietFirstFrame, 99))} ms (${g.quietFirstFrame.length} samples)`,
    );
    console.log(
      `gateway: (same samples: the channel's first 'data' event p50 ${r1(pct(g.quietDataEvent, 50))} ms p99 ${r1(pct(g.quietDataEvent, 99))} ms; the generator's own first frame written p50 ${r1(pct(g.quietOwnFirstWrite, 50))} ms p99 ${r1(pct(g.quietOwnFirstWrite, 99))} ms)`,
    );
    if (g.errors.length) console.log(`gateway: errors: ${g.errors.join(' | ')}`);
    let bu: BringUpResult = { tsvpn: [], sshw: [], errors: [], lastUpDetail: '' };
    if (UP_RUNS > 0) {
      log(`one client's bring-up: installed ts-vpn up vs ssh -w, ${UP_RUNS} runs each`);
      bu = await measureBringUp(ns, id, dir, socket, UP_RUNS);
      console.log(
        `bring-up of one client, spawn → tunnel up: ts-vpn up (installed) via the gateway p50 ${r1(pct(bu.tsvpn, 50))} ms max ${r1(Math.max(...bu.tsvpn))} ms (${bu.tsvpn.length} runs); ssh -w p50 ${r1(pct(bu.sshw, 50))} ms max ${r1(Math.max(...bu.sshw))} ms (${bu.sshw.length} runs, tun devices only, no addresses)`,
      );
      console.log(`bring-up: ts-vpn up's last run by its own log: ${bu.lastUpDetail}`);
      if (bu.errors.length) console.log(`bring-up: errors: ${bu.errors.slice(0, 3).join(' | ')}`);
    }
    gw.kill('SIGTERM');
    await new Promise((r) => gw!.once('exit', r));
    gw = null;

    let serveSummary = '';
    if (SERVE_N > 0) {
      log(`old path: ${SERVE_N} sessions of ts-vpn serve over exec channels`);
      let serveRss = 0;
      let servePids = 0;
      const s = await runLoad(
        ns,
        {
          ...base,
          mode: 'serve',
          target: `${process.execPath} ${CLI} serve --config ${serverYaml}`,
          sessions: SERVE_N,
          perConnection: 1,
        },
        () => {
          const pids = pidsIn(ns.name, CLI, ' serve ');
          servePids = pids.length;
          serveRss = pids.reduce((t, p) => t + rssMb(p), 0);
        },
      );
      console.log(
        `serve: first frame after channel open, one channel at a time with all sessions up: p50 ${r1(pct(s.quietFirstFrame, 50))} ms p99 ${r1(pct(s.quietFirstFrame, 99))} ms`,
      );
      console.log(
        `serve: ${s.up}/${s.sessions} up, ping ok ${s.pingOk}, ${servePids} serve processes, rss ${r1(serveRss / Math.max(1, servePids))} MB each; bring-up p50 ${r1(pct(s.bringup, 50))} ms p99 ${r1(pct(s.bringup, 99))} ms; first frame after channel open p50 ${r1(pct(s.firstFrame, 50))} ms p99 ${r1(pct(s.firstFrame, 99))} ms`,
      );
      serveSummary = ` serve_sessions=${s.sessions} serve_up=${s.up} serve_rss_mb_per_session=${r1(serveRss / Math.max(1, servePids))} serve_first_frame_ms_p50=${r1(pct(s.quietFirstFrame, 50))}`;
    }
    console.log(
      `summary: sessions=${g.sessions} up=${g.up} rss_mb_per_session=${perSession.toFixed(3)} bringup_ms_p50=${r1(pct(g.bringup, 50))} bringup_ms_p99=${r1(pct(g.bringup, 99))} ping_ok=${g.pingOk} first_frame_ms_p50=${r1(pct(g.quietFirstFrame, 50))} first_frame_ms_p99=${r1(pct(g.quietFirstFrame, 99))} gateway_accept_to_first_frame_ms_p50=${r1(pct(gwFirst, 50))} gateway_accept_to_first_frame_ms_p99=${r1(pct(gwFirst, 99))} up_spawn_ms_p50=${r1(pct(bu.tsvpn, 50))} sshw_spawn_ms_p50=${r1(pct(bu.sshw, 50))}${serveSummary}`,
    );
  } finally {
    if (gw) gw.kill('SIGKILL');
    await sshd.stop().catch(() => undefined);
    ns.destroy();
    rmSync(dir, { recursive: true, force: true });
    void readdirSync;
  }
}

await main();
