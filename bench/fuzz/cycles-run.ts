/**
 * N consecutive `ts-vpn up` / SIGTERM cycles in one lab: after each, no TUN, no extra
 * route, no `serve` process on either side; fd counts of the long-lived processes (sshd)
 * and the namespaces' interface/route lists must not drift.
 */
import { readdirSync } from 'node:fs';
import { type Lab, links, routes, until } from '../../test/support/lab.js';

export interface CycleReport {
  cycles: number;
  failures: string[];
  msPerCycle: number;
  sshdFds: [number, number];
}

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

export async function runCycles(
  lab: Lab,
  n: number,
  log: (s: string) => void = () => {},
): Promise<CycleReport> {
  const failures: string[] = [];
  const baseLinks = links(lab.cli)
    .map((l) => l.ifname)
    .sort()
    .join(',');
  const baseRoutes = routes(lab.cli)
    .map((r) => r.dst)
    .sort()
    .join(',');
  const srvLinks = links(lab.srv)
    .map((l) => l.ifname)
    .sort()
    .join(',');
  const sshdPid = lab.sshd.pid;
  const fd0 = fds(sshdPid);
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const up = await lab.startUp({ timeoutMs: 20_000 });
    const r = await up.stop('SIGTERM', 10_000);
    if (r.code !== 0) failures.push(`cycle ${i}: exit ${r.code ?? r.signal}`);
    await until(() => lab.servePids().length === 0, 10_000, 'serve to exit').catch(() =>
      failures.push(`cycle ${i}: serve still running`),
    );
    await until(
      () =>
        links(lab.srv)
          .map((l) => l.ifname)
          .sort()
          .join(',') === srvLinks,
      5000,
      'server links',
    ).catch(() =>
      failures.push(`cycle ${i}: server interfaces ${links(lab.srv).map((l) => l.ifname)}`),
    );
    const l = links(lab.cli)
      .map((x) => x.ifname)
      .sort()
      .join(',');
    const rt = routes(lab.cli)
      .map((x) => x.dst)
      .sort()
      .join(',');
    if (l !== baseLinks) failures.push(`cycle ${i}: client interfaces ${l}`);
    if (rt !== baseRoutes) failures.push(`cycle ${i}: client routes ${rt}`);
    if ((i + 1) % 10 === 0)
      log(`cycle ${i + 1}/${n}: sshd fds ${fds(sshdPid)}, failures ${failures.length}`);
  }
  return { cycles: n, failures, msPerCycle: (Date.now() - t0) / n, sshdFds: [fd0, fds(sshdPid)] };
}
