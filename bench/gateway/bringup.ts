/**
 * One client's bring-up for `npm run bench:gateway`, side by side: the installed
 * `ts-vpn up` (bin spawn → its "tunnel up" line) against the running gateway, and
 * OpenSSH's `ssh -w any:any` (spawn → a tun device on both sides, as bench:tunnel
 * counts it: ssh -w sets no addresses). Both from a client namespace of their own
 * over a veth to the gateway's namespace, to one sshd there with PermitTunnel yes,
 * one run after the other (alternating), `runs` times each.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureInstalled } from '../../test/support/installed.js';
import { createNetns, linkNetns, type Netns } from '../../test/support/netns.js';
import { startSshd } from '../../test/support/sshd.js';
import { sshTunnelArgs, stopChild, tunSnapshot, waitForNewTuns } from '../support/ssh-w.js';

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
  const before = tunSnapshot(cli, srv);
  const t0 = performance.now();
  const c = cli.spawn('ssh', sshTunnelArgs({ key, knownHosts, port, host: SERVER }), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  c.stderr!.on('data', (d) => (err += d));
  try {
    await waitForNewTuns(c, cli, srv, before, () => err, { timeoutMs: 20_000, pollMs: 2 });
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
