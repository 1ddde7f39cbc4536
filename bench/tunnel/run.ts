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
 *
 * This file is the entry and the order of things; the parts: config.ts (settings above),
 * lab.ts (namespaces, sshd, child processes, cleanup), paths.ts (bringing up the three
 * paths), measure.ts (iperf3, ping, the interleaved rounds, soak), report.ts (stdout).
 */
import { cpus, getPriority, loadavg, setPriority } from 'node:os';
import { NET, NICE, ONLY, progress, ROOT, RUNS, SECONDS, SOAK, sleep } from './config.js';
import { cleanup, makeLab } from './lab.js';
import { emptyResult, measureAll, type Path, type PathResult } from './measure.js';
import { startRaw, startSshW, startTsVpnPath } from './paths.js';
import { report } from './report.js';
import { tsVpnAvailable } from './tsvpn.js';

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
  const loadLine = `load average (1 min) before/after: ${load0[0]!.toFixed(2)} / ${load1[0]!.toFixed(2)} on ${cpus().length} cores, bench niceness ${getPriority(0)} (other work on the machine skews figures; ratios come from interleaved runs)`;
  for (const line of report(results, loadLine)) console.log(line);
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
