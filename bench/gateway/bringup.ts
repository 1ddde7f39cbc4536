/**
 * One client's bring-up for `npm run bench:gateway`, side by side: the installed
 * `ts-vpn up` (bin spawn → its "tunnel up" line) against the running gateway, and
 * OpenSSH's `ssh -w any:any` (spawn → a tun device on both sides, as bench:tunnel
 * counts it: ssh -w sets no addresses). Both from a client namespace of their own
 * over a veth to the gateway's namespace, to one sshd there with PermitTunnel yes,
 * one run after the other (alternating), `runs` times each.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureInstalled } from '../../test/support/installed.js';
import { createNetns, linkNetns, type Netns } from '../../test/support/netns.js';
import { startSshd } from '../../test/support/sshd.js';

const CLIENT = '198.18.20.1';
const SERVER = '198.18.20.2';

export interface BringUpResult {
  /** ts-vpn up (installed bin) spawn → "tunnel up", ms, one per run. */
  tsvpn: number[];
  /** ssh -w spawn → tun device on both ends, ms, one per run. */
  sshw: number[];
  errors: string[];
  /** ts-vpn up's own account of its last run (its log lines: SSH, far end, total). */
  lastUpDetail: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tunDevices(ns: Netns): string[] {
  return [...ns.exec('ip', ['-o', 'link', 'show', 'type', 'tun']).matchAll(/^\d+: ([^:@]+)/gm)].map(
    (m) => m[1]!,
  );
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** The timing lines ts-vpn up logs, in one phrase. */
function upDetail(log: string): string {
  const n = (re: RegExp) => re.exec(log)?.[1] ?? '?';
  return `ssh connected ${n(/ssh: connected in (\d+(?:\.\d+)?) ms/)} ms + authenticated ${n(/ssh: authenticated .* in (\d+(?:\.\d+)?) ms/)} ms; the gateway's first frame ${n(/the far end answered after (\d+) ms/)} ms after the channel; tunnel up ${n(/tunnel up: .* in (\d+(?:\.\d+)?) ms/)} ms after ts-vpn's start`;
}

let lastLog = '';

async function tsvpnOnce(cli: Netns, bin: string, peer: string, state: string): Promise<number> {
  const t0 = performance.now();
  const c = cli.spawn(bin, ['up', peer, '--state-dir', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      const on = (d: Buffer) => {
        log += d;
        if (/tunnel up:/.test(log)) {
          lastLog = log;
          resolve(performance.now() - t0);
        }
      };
      c.stdout!.on('data', on);
      c.stderr!.on('data', on);
      c.once('exit', (code) => reject(new Error(`ts-vpn up exited ${code}: ${log.slice(-500)}`)));
      setTimeout(
        () => reject(new Error(`ts-vpn up: no tunnel after 20 s: ${log.slice(-500)}`)),
        20_000,
      );
    });
    return ms;
  } finally {
    await stopChild(c);
  }
}

async function sshwOnce(
  cli: Netns,
  srv: Netns,
  key: string,
  knownHosts: string,
  port: number,
): Promise<number> {
  const before = { cli: new Set(tunDevices(cli)), srv: new Set(tunDevices(srv)) };
  const t0 = performance.now();
  const c = cli.spawn(
    'ssh',
    [
      '-F',
      '/dev/null',
      '-N',
      '-T',
      '-i',
      key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'Tunnel=point-to-point',
      '-w',
      'any:any',
      '-o',
      'ExitOnForwardFailure=yes',
      '-p',
      String(port),
      `root@${SERVER}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  c.stderr!.on('data', (d) => (err += d));
  try {
    let a: string | undefined;
    let b: string | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (!a || !b)) {
      if (c.exitCode !== null) throw new Error(`ssh -w exited: ${err.trim()}`);
      a ??= tunDevices(cli).find((n) => !before.cli.has(n));
      b ??= tunDevices(srv).find((n) => !before.srv.has(n));
      if (!a || !b) await sleep(2);
    }
    if (!a || !b) throw new Error(`ssh -w: tun devices did not appear: ${err.trim()}`);
    return performance.now() - t0;
  } finally {
    await stopChild(c);
  }
}

/** Runs in `srv` (the gateway's namespace, its socket at `socket`); cleans up what it made. */
export async function measureBringUp(
  srv: Netns,
  id: string,
  dir: string,
  socket: string,
  runs: number,
): Promise<BringUpResult> {
  const out: BringUpResult = { tsvpn: [], sshw: [], errors: [], lastUpDetail: '' };
  const inst = await ensureInstalled();
  const cli = createNetns(`tvgwb-c-${id}`);
  let sshd: Awaited<ReturnType<typeof startSshd>> | null = null;
  try {
    linkNetns(cli, `${CLIENT}/30`, srv, `${SERVER}/30`, `tvgb${id}`);
    sshd = await startSshd({ ns: srv.name, listenAddress: SERVER, port: 2223, allowTunnel: true });
    const peer = join(dir, 'peer.yaml');
    writeFileSync(
      peer,
      `name: bench-gw
ssh:
  host: ${SERVER}
  port: ${sshd.port}
  user: root
  identity-files: [${sshd.clientKeyPath}]
  agent: false
  host-key: { known-hosts: ${sshd.knownHostsPath} }
remote:
  gateway: ${socket}
tunnel: { interface: tsvpn%d }
reconnect:
  enabled: false
`,
      { mode: 0o600 },
    );
    for (let i = 0; i < runs; i++) {
      try {
        out.tsvpn.push(await tsvpnOnce(cli, inst.bin, peer, join(dir, 'up-state')));
      } catch (e) {
        out.errors.push((e as Error).message);
      }
      try {
        out.sshw.push(await sshwOnce(cli, srv, sshd.clientKeyPath, sshd.knownHostsPath, sshd.port));
      } catch (e) {
        out.errors.push((e as Error).message);
      }
    }
  } finally {
    await sshd?.stop().catch(() => undefined);
    cli.destroy();
  }
  out.lastUpDetail = upDetail(lastLog);
  return out;
}
