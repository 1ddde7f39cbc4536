/**
 * The long up/down soak: `npx tsx bench/fuzz/cycles.ts` (CYCLES=100 by default) in a
 * fresh lab (namespaces + real sshd), reporting leftovers and sshd fd counts.
 * The suite runs 10 cycles (test/faults/cycles.test.ts, same checks: cycles-run.ts).
 *
 * Each cycle: `ts-vpn up` until "tunnel up", SIGTERM, exit 0, then no `serve`, no TUN,
 * no extra route on either side. Unlike the suite's runner, a failing cycle does not
 * stop the soak: its full `up` log (with the far end's `remote:` lines), the sshd log
 * of that cycle, the previous cycle's log and a snapshot of the server side (serve
 * processes, session slots, pool leases) are printed, and the soak goes on (at most
 * MAX_FAILURES failures). Bounded: CYCLES cycles and DEADLINE_S seconds (default
 * 15 s per cycle + 60 s), whichever comes first. Exit status 1 on any failure.
 *
 * The soak runs a private snapshot of the built CLI. Both `up` and the far end start a
 * fresh `node dist/cli/main.js` every cycle, and the shared dist/ is rebuilt in place
 * by anyone's `npm run build` / ensureBuilt() (which starts with `rm -rf dist`): a
 * rebuild during a 3-minute soak fails a cycle — "Cannot find module", or, when dist/
 * vanishes while the far end is still loading its modules, a silent exit 0 of `serve`
 * ("the far end ended before PPP came up: remote command exited with code 0"). So the
 * soak copies dist/ (or SOAK_DIST, e.g. a private `tsc --outDir` build to verify a
 * patch) together with test/support into a temp dir and loads the lab from there, which
 * makes the lab's CLI the snapshot's. SOAK_SNAPSHOT=0 runs the shared dist/ instead.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from '../../test/e2e/ensure-built.js';
import type * as LabModule from '../../test/support/lab.js';
import type { Lab, UpProcess } from '../../test/support/lab.js';

const n = Number(process.env.CYCLES ?? 100);
const maxFailures = Number(process.env.MAX_FAILURES ?? 5);
const deadlineMs = Number(process.env.DEADLINE_S ?? n * 15 + 60) * 1000;
const snapshot = process.env.SOAK_SNAPSHOT !== '0';

let labMod: typeof LabModule = await import('../../test/support/lab.js');
let snapDir: string | null = null;
if (snapshot) {
  const src = process.env.SOAK_DIST ?? join(labMod.REPO, 'dist');
  if (!process.env.SOAK_DIST) await ensureBuilt();
  snapDir = mkdtempSync(join(tmpdir(), 'tv-soak-'));
  cpSync(src, join(snapDir, 'dist'), { recursive: true });
  cpSync(join(labMod.REPO, 'test', 'support'), join(snapDir, 'test', 'support'), {
    recursive: true,
  });
  cpSync(join(labMod.REPO, 'package.json'), join(snapDir, 'package.json'));
  symlinkSync(join(labMod.REPO, 'node_modules'), join(snapDir, 'node_modules'));
  labMod = (await import(
    pathToFileURL(join(snapDir, 'test', 'support', 'lab.ts')).href
  )) as typeof LabModule;
  // A snapshot taken while someone rebuilds dist/ would be partial: check it runs.
  const v = spawnSync(process.execPath, [labMod.CLI, 'version'], { encoding: 'utf8' });
  if (!/^ts-vpn /.test(v.stdout)) {
    rmSync(snapDir, { recursive: true, force: true });
    throw new Error(`the snapshot of ${src} does not run (${v.status}): ${v.stderr}`);
  }
  console.log(`soak: running a snapshot of ${src} in ${snapDir}`);
} else {
  await ensureBuilt();
  console.log(`soak: running the shared ${labMod.CLI} (SOAK_SNAPSHOT=0)`);
}
const { createLab, links, routes, until } = labMod;

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const names = (xs: Array<{ ifname: string }>) =>
  xs
    .map((x) => x.ifname)
    .sort()
    .join(',');
const dsts = (xs: Array<{ dst: string }>) =>
  xs
    .map((x) => x.dst)
    .sort()
    .join(',');

/** Server-side state at a failure: serve processes, session slots and pool leases. */
function serverSnapshot(lab: Lab): string {
  const out: string[] = [];
  for (const p of lab.servePids()) {
    let st = '';
    try {
      st = readFileSync(`/proc/${p}/status`, 'utf8')
        .split('\n')
        .filter((l) => /^(State|PPid):/.test(l))
        .join(' ')
        .replace(/\s+/g, ' ');
    } catch {
      st = 'gone';
    }
    out.push(`  serve pid ${p}: ${st}`);
  }
  if (out.length === 0) out.push('  no serve process in the server namespace');
  for (const sub of ['serve-sessions', 'serve-leases']) {
    const dir = join(lab.serverStateDir, sub);
    let ents: string[] = [];
    try {
      ents = readdirSync(dir);
    } catch {
      out.push(`  ${sub}/: (none)`);
      continue;
    }
    const desc = ents.map((e) => {
      let pid = '?';
      try {
        pid = readFileSync(join(dir, e), 'utf8').trim();
      } catch {
        /* released meanwhile */
      }
      return `${e}=${pid}${alive(Number(pid)) ? '(alive)' : '(dead)'}`;
    });
    out.push(`  ${sub}/: ${desc.join(' ') || '(empty)'}`);
  }
  out.push(`  sshd session children: ${lab.sshd.sessionPids().join(',') || 'none'}`);
  out.push(`  server links: ${names(links(lab.srv))}; client links: ${names(links(lab.cli))}`);
  return out.join('\n');
}

const lab = await createLab();
let exitCode = 0;
try {
  const failures: string[] = [];
  const baseLinks = names(links(lab.cli));
  const baseRoutes = dsts(routes(lab.cli));
  const srvLinks = names(links(lab.srv));
  const sshdPid = lab.sshd.pid;
  const fd0 = fds(sshdPid);
  const t0 = Date.now();
  let prevLog = '';
  let done = 0;
  const serveExitMs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Date.now() - t0 > deadlineMs) {
      failures.push(`deadline of ${deadlineMs / 1000} s reached after ${i} cycles`);
      break;
    }
    if (failures.length >= maxFailures) {
      console.log(`stopping after ${failures.length} failures`);
      break;
    }
    const sshdLogAt = lab.sshd.log().length;
    const before = failures.length;
    let up: UpProcess | null = null;
    try {
      up = await lab.startUp({ wait: false });
      const u = up;
      // waitFor only notices an exit at its timeout: race it with the exit itself.
      const exitedEarly = u.exited.then(async (e) => {
        await new Promise((r) => setTimeout(r, 20));
        if (!/tunnel up:/.test(u.log())) throw new Error(`up exited (${e.code ?? e.signal})`);
      });
      const upWait = u.waitFor(/tunnel up:/, 20_000);
      exitedEarly.catch(() => undefined);
      upWait.catch(() => undefined);
      await Promise.race([upWait, exitedEarly]);
      await upWait;
      const r = await up.stop('SIGTERM', 10_000);
      if (r.code !== 0) failures.push(`cycle ${i}: exit ${r.code ?? r.signal} after SIGTERM`);
    } catch (err) {
      const r = up ? await up.stop('SIGKILL', 2000) : null;
      failures.push(
        `cycle ${i}: up did not come up (exit ${r ? (r.code ?? r.signal) : 'spawn failed'})`,
      );
      console.log(`\n===== cycle ${i} FAILED (${new Date().toISOString()})`);
      console.log(`--- server side now:\n${serverSnapshot(lab)}`);
      console.log(`--- ts-vpn up log of cycle ${i}:\n${up?.log() ?? (err as Error).message}`);
      console.log(`--- sshd log during cycle ${i}:\n${lab.sshd.log().slice(sshdLogAt)}`);
      console.log(`--- ts-vpn up log of cycle ${i - 1}:\n${prevLog}`);
      console.log(`===== end of cycle ${i}\n`);
    }
    prevLog = up?.log() ?? '';
    const ts = Date.now();
    await until(() => lab.servePids().length === 0, 10_000, 'serve to exit').catch(() =>
      failures.push(`cycle ${i}: serve still running: ${lab.servePids().join(',')}`),
    );
    serveExitMs.push(Date.now() - ts);
    await until(() => names(links(lab.srv)) === srvLinks, 5000, 'server links').catch(() =>
      failures.push(`cycle ${i}: server interfaces ${names(links(lab.srv))}`),
    );
    const l = names(links(lab.cli));
    const rt = dsts(routes(lab.cli));
    if (l !== baseLinks) failures.push(`cycle ${i}: client interfaces ${l}`);
    if (rt !== baseRoutes) failures.push(`cycle ${i}: client routes ${rt}`);
    if (failures.length > before && !failures[before]!.includes('did not come up'))
      console.log(`cycle ${i}: ${failures.slice(before).join('; ')}\n${serverSnapshot(lab)}`);
    done = i + 1;
    if (done % 10 === 0)
      console.log(
        `cycle ${done}/${n}: ${((Date.now() - t0) / 1000).toFixed(0)} s, sshd fds ${fds(sshdPid)}, failures ${failures.length}`,
      );
  }
  const ms = Date.now() - t0;
  const worstServeExit = Math.max(0, ...serveExitMs);
  console.log(
    `cycles=${done} failures=${failures.length} total_s=${(ms / 1000).toFixed(1)} ms_per_cycle=${(ms / Math.max(done, 1)).toFixed(0)} sshd_fds=${fd0}->${fds(sshdPid)} worst_serve_exit_after_up_ms=${worstServeExit}`,
  );
  console.log(
    `leftovers: client links [${names(links(lab.cli))}] routes [${dsts(routes(lab.cli))}]; server links [${names(links(lab.srv))}]; serve processes [${lab.servePids().join(',')}]; sshd children [${lab.sshd.sessionPids().join(',')}]`,
  );
  for (const f of failures) console.log(`  ${f}`);
  if (failures.length > 0 || fds(sshdPid) > fd0 + 2) exitCode = 1;
} finally {
  await lab.destroy();
  if (snapDir) rmSync(snapDir, { recursive: true, force: true });
}
const left = (() => {
  try {
    return readdirSync('/run/netns').filter((x) => x.endsWith(`-${lab.id}`));
  } catch {
    return [];
  }
})();
console.log(`namespaces of this lab left after destroy: ${left.length ? left.join(',') : 'none'}`);
process.exitCode = exitCode;
