/**
 * One client's bring-up, A/B: `ts-vpn up` of each given dist/ (spawn → its "tunnel up" line)
 * against `ssh -w any:any` (spawn → a tun device on both ends, as bench/gateway/bringup.ts
 * counts it), alternated, from a client namespace over a veth to a server namespace with one
 * sshd (PermitTunnel yes) and, as the far end, the gateway daemon of the first dist
 * (BRINGUP_SERVE=1: each dist's own `ts-vpn serve` through remote.command instead). Root.
 * Prints the medians, then (BRINGUP_SHOW != 0) the last run of each with its log lines
 * placed at ms after spawn (BRINGUP_DEBUG=1 adds --debug) and `ssh -v`'s lines as read.
 *
 *   sudo npx tsx bench/startup/bringup.ts RUNS DIST_A [DIST_B ...]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, linkNetns, type Netns, uniqueId } from '../../test/support/netns.js';
import { startSshd } from '../../test/support/sshd.js';
import { sshTunnelArgs, stopChild, tunSnapshot, waitForNewTuns } from '../support/ssh-w.js';

const CLIENT = '198.18.21.1';
const SERVER = '198.18.21.2';
const runs = Number(process.argv[2]);
const dists = process.argv.slice(3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

function todMs(hms: string, ref: number): number {
  // HH:MM:SS.mmm local → epoch ms (same day as ref)
  const d = new Date(ref);
  const [h, m, s] = hms.split(':');
  d.setHours(Number(h), Number(m), 0, 0);
  return d.getTime() + Number(s) * 1000;
}

async function upOnce(cli: Netns, dist: string, peer: string, state: string, debug: boolean) {
  const t0 = now();
  const args = [
    ...(process.env.BRINGUP_NODE_OPTIONS ? process.env.BRINGUP_NODE_OPTIONS.split(' ') : []),
    join(dist, 'cli/main.js'),
    'up',
    peer,
    '--state-dir',
    state,
  ];
  if (debug) args.push('--debug');
  const c = cli.spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSVPN_STARTUP_TRACE: '1' },
  });
  let log = '';
  const lines: string[] = [];
  let upAt = 0;
  await new Promise<void>((resolve, reject) => {
    const on = (d: Buffer) => {
      const at = now();
      log += d;
      for (const l of String(d).split('\n'))
        if (l) lines.push(`${(at - t0).toFixed(0).padStart(5)} | ${l}`);
      if (!upAt && /tunnel up:/.test(log)) {
        upAt = at - t0;
        resolve();
      }
    };
    c.stdout!.on('data', on);
    c.stderr!.on('data', on);
    c.once('exit', (code) => reject(new Error(`up exited ${code}: ${log.slice(-800)}`)));
    setTimeout(() => reject(new Error('no tunnel')), 20000);
  });
  await stopChild(c, 5000);
  // own stamps: log line timestamps relative to spawn
  const own = lines.map((l) => {
    const m = /\| (\d\d:\d\d:\d\d\.\d\d\d) (.*)$/.exec(l);
    const st = /startup-trace: (\S+) (\d+\.\d+) cpu (\S+)/.exec(l);
    if (st) return `${(Number(st[2]) - t0).toFixed(0).padStart(5)} ${st[1]} cpu ${st[3]}`;
    return m ? `${(todMs(m[1]!, t0) - t0).toFixed(0).padStart(5)} ${m[2]}` : l;
  });
  return { upAt, own };
}

async function sshwOnce(cli: Netns, srv: Netns, key: string, kh: string, port: number) {
  const before = tunSnapshot(cli, srv);
  const t0 = now();
  const c = cli.spawn(
    'ssh',
    sshTunnelArgs({ key, knownHosts: kh, port, host: SERVER, verbose: true }),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines: string[] = [];
  c.stderr!.on('data', (d) => {
    const at = now();
    for (const l of String(d).split('\n'))
      if (l) lines.push(`${(at - t0).toFixed(0).padStart(5)} ${l}`);
  });
  await waitForNewTuns(c, cli, srv, before, () => lines.join('\n'), {
    timeoutMs: 20_000,
    pollMs: 2,
  });
  const upAt = now() - t0;
  await stopChild(c, 5000);
  return { upAt, lines };
}

const id = uniqueId();
const dir = mkdtempSync(join(tmpdir(), `tvhs-${id}-`));
const srv = createNetns(`tvhs-s-${id}`);
const cli = createNetns(`tvhs-c-${id}`);
let gw: ChildProcess | null = null;
let sshd: Awaited<ReturnType<typeof startSshd>> | null = null;
try {
  linkNetns(cli, `${CLIENT}/30`, srv, `${SERVER}/30`, `tvhs${id}`);
  sshd = await startSshd({ ns: srv.name, listenAddress: SERVER, port: 2223, allowTunnel: true });
  const socket = join(dir, 'gateway.sock');
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `socket: { path: ${socket} }\npool: 10.77.0.0/20\nforwarding: enable\nstate-dir: ${join(dir, 'gw-state')}\n`,
  );
  gw = srv.spawn(
    process.execPath,
    [
      join(dists[0]!, 'cli/main.js'),
      'gateway',
      join(dir, 'gateway.yaml'),
      '--state-dir',
      join(dir, 'gw-state'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let gwLog = '';
  gw.stderr!.on('data', (d) => (gwLog += d));
  for (let i = 0; i < 200 && !/listening on/.test(gwLog); i++) await sleep(50);
  if (!/listening on/.test(gwLog)) throw new Error(`gateway: ${gwLog}`);
  const serveMode = process.env.BRINGUP_SERVE === '1';
  writeFileSync(
    join(dir, 'server.yaml'),
    `pool: 10.78.0.0/24\nstate-dir: ${join(dir, 'srv-state')}\n`,
  );
  const peerFor = (d: string) => {
    const f = join(dir, `peer-${dists.indexOf(d)}.yaml`);
    writeFileSync(
      f,
      `name: hs\nssh:\n  host: ${SERVER}\n  port: ${sshd!.port}\n  user: root\n  identity-files: [${sshd!.clientKeyPath}]\n  agent: false\n  host-key: { known-hosts: ${sshd!.knownHostsPath} }\nremote:\n  kind: ts-vpn\n  command: ${process.execPath} ${join(d, 'cli/main.js')} serve ${join(dir, 'server.yaml')}\ntunnel: { interface: tsvpn%d }\nreconnect:\n  enabled: false\n`,
      { mode: 0o600 },
    );
    return f;
  };
  const peer = join(dir, 'peer.yaml');
  writeFileSync(
    peer,
    `name: hs\nssh:\n  host: ${SERVER}\n  port: ${sshd.port}\n  user: root\n  identity-files: [${sshd.clientKeyPath}]\n  agent: false\n  host-key: { known-hosts: ${sshd.knownHostsPath} }\nremote:\n  gateway: ${socket}\ntunnel: { interface: tsvpn%d }\nreconnect:\n  enabled: false\n`,
    { mode: 0o600 },
  );
  const res: Record<string, number[]> = {};
  const debug = process.env.BRINGUP_DEBUG === '1';
  const lastOwn: Record<string, string[]> = {};
  let lastSsh: string[] = [];
  for (let i = 0; i < runs; i++) {
    for (const d of dists) {
      try {
        const r = await upOnce(cli, d, serveMode ? peerFor(d) : peer, join(dir, 'up-state'), debug);
        res[d] = [...(res[d] ?? []), r.upAt];
        lastOwn[d] = r.own;
      } catch (e) {
        console.log('ERR', d, (e as Error).message);
      }
    }
    const s = await sshwOnce(cli, srv, sshd.clientKeyPath, sshd.knownHostsPath, sshd.port);
    res['ssh -w'] = [...(res['ssh -w'] ?? []), s.upAt];
    lastSsh = s.lines;
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const [k, v] of Object.entries(res))
    console.log(
      `spawn → up median ${med(v).toFixed(0)} ms  [${v.map((x) => x.toFixed(0)).join(' ')}]  ${k}`,
    );
  if (process.env.BRINGUP_SHOW !== '0') {
    for (const [k, v] of Object.entries(lastOwn))
      console.log(`--- last run of ${k}\n${v.join('\n')}`);
    console.log(`--- last ssh -w\n${lastSsh.join('\n')}`);
  }
} finally {
  if (gw) await stopChild(gw, 5000);
  await sshd?.stop().catch(() => undefined);
  cli.destroy();
  srv.destroy();
  rmSync(dir, { recursive: true, force: true });
}
