/**
 * Plugs ts-vpn into the tunnel benchmark, on the benchmark's own namespaces and sshd:
 * `ts-vpn serve` at the far end (the remote command, through the same sshd) and
 * `ts-vpn up peer.yaml` in the client namespace, same cipher, built CLI (dist/).
 * Config files follow test/support/lab.ts; bring-up figures come from ts-vpn's own log
 * lines (`ssh: connected in …`, `ssh: authenticated … in …`, `tunnel up: … in … total`).
 */
import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../../test/support/netns.js';
import type { Sshd } from '../../test/support/sshd.js';
import { farEndIsGateway, type GatewayFarEnd, startGatewayFarEnd } from './gateway-far-end.js';

export interface TsVpnOptions {
  root: string;
  cli: Netns;
  srv: Netns;
  sshd: Sshd;
  host: string;
  port: number;
  cipher: string;
  track: (p: ChildProcess) => ChildProcess;
  progress: (msg: string) => void;
  /** Run both ends with --cpu-prof into this dir. */
  profileDir?: string;
}

export interface TsVpnHandle {
  /** Pid of `ts-vpn up`. */
  pid: number;
  /** The far end's tunnel address (iperf3 server binds here, ping targets it). */
  peerAddress: string;
  localAddress: string;
  /** SSH connect + key exchange + authentication (ms, ts-vpn's log). */
  handshakeMs?: number;
  /** ts-vpn's own "tunnel up … in N ms total". */
  totalUpMs?: number;
  /** From the benchmark's spawn of `ts-vpn up` (ms): its entry module evaluated, TCP connect started, first SSH byte written, tunnel up seen. */
  startup: {
    mainMs?: number;
    tcpConnectMs?: number;
    firstSshByteMs?: number;
    /** CPU time of `up` (all threads) when it wrote the first SSH byte. */
    firstSshByteCpuMs?: number;
    upMs: number;
  };
  bringUpText: string;
  /** BENCH_FAR_END=gateway: the gateway daemon's pid (the far end is not under sshd). */
  farEndPid?: number;
  log(): string;
  stop(): Promise<void>;
}

const POOL = '10.77.0.0/24';

/** true, or why ts-vpn cannot be benchmarked yet. */
export function tsVpnAvailable(root: string): true | string {
  if (!existsSync(join(root, 'dist/cli/main.js')))
    return 'dist/cli/main.js not built: run `npm run build`';
  if (!existsSync(join(root, 'dist/runtime/client.js')))
    return 'ts-vpn up not built yet (dist/runtime/client.js)';
  return true;
}

/** The node flags in a script's `#!/usr/bin/env -S node <flags>` first line ([] for none). */
export function shebangNodeFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first.trim());
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

export async function startTsVpn(o: TsVpnOptions): Promise<TsVpnHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'tvb-tsvpn-'));
  chmodSync(dir, 0o700);
  // BENCH_DIST: benchmark another build (e.g. an experimental copy of the tree).
  const cliJs = join(process.env.BENCH_DIST ?? join(o.root, 'dist'), 'cli/main.js');
  // One directory per end (V8's default file names carry pid and time).
  const prof = (name: string) => {
    if (!o.profileDir) return [];
    mkdirSync(join(o.profileDir, name), { recursive: true });
    return ['--cpu-prof', `--cpu-prof-dir=${join(o.profileDir, name)}`];
  };
  const serverYaml = join(dir, 'server.yaml');
  writeFileSync(serverYaml, `pool: ${POOL}\nstate-dir: ${join(dir, 'srv-state')}\n`);
  // BENCH_ENV="K=V …": extra environment for both ends (e.g. glibc malloc tunables, for A/B).
  const extraEnv = (process.env.BENCH_ENV ?? '').split(/\s+/).filter((kv) => /^\w+=\S*$/.test(kv));
  const serveCmd = [
    ...(extraEnv.length > 0 ? ['env', ...extraEnv] : []),
    process.execPath,
    ...prof('serve'),
    cliJs,
    'serve',
    '--config',
    serverYaml,
  ].join(' ');
  const envOf = (extra: string[]) => ({
    ...process.env,
    ...Object.fromEntries(extra.map((kv) => kv.split(/=(.*)/s).slice(0, 2))),
  });
  // BENCH_FAR_END=gateway: one gateway daemon instead of `serve` (see gateway-far-end.ts).
  let gateway: GatewayFarEnd | null = null;
  if (farEndIsGateway())
    gateway = await startGatewayFarEnd({
      srv: o.srv,
      cliJs,
      dir,
      pool: POOL,
      env: envOf(extraEnv),
      track: o.track,
    });
  const remote = gateway
    ? `  gateway: ${gateway.socket}`
    : `  command: ${serveCmd}\n  kind: ts-vpn`;
  const peerYaml = join(dir, 'peer.yaml');
  writeFileSync(
    peerYaml,
    `name: bench-${process.pid}
ssh:
  host: ${o.host}
  port: ${o.port}
  user: root
  identity-files: [${o.sshd.clientKeyPath}]
  agent: false
  host-key:
    known-hosts: ${o.sshd.knownHostsPath}
  ciphers: [${o.cipher}]
remote:
${remote}
ppp:
  accept-local: [${POOL}]
  accept-peer: [${POOL}]
tunnel:
  interface: tvbtun%d
  offload: ${process.env.BENCH_OFFLOAD === '0' ? 'false' : 'true'}
routes: []
dns:
  write-to: ${join(dir, 'resolv.conf')}
reconnect:
  enabled: false
`,
    { mode: 0o600 },
  );
  // Start `up` the way the installed bin does: with the node flags of its shebang
  // (`#!/usr/bin/env -S node <flags>`), read from the file so they cannot drift.
  const nodeArgs = [...shebangNodeFlags(cliJs), ...prof('up')];
  // TSVPN_STARTUP_TRACE=1: `up` writes wall-clock stamps of its start-up (src/cli/startup-trace.ts).
  const wall0 = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  const child = o.track(
    o.cli.spawn(
      process.execPath,
      [...nodeArgs, cliJs, 'up', peerYaml, '--state-dir', join(dir, 'cli-state')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...envOf(extraEnv), TSVPN_STARTUP_TRACE: '1' },
      },
    ),
  );
  let text = '';
  const upRe = /tunnel up: (\S+) (\S+) → (\S+),.* in (\d+(?:\.\d+)?) ms total/;
  let upAt: number | undefined; // stamped when the line arrives, not at the next poll
  const onText = (d: Buffer) => {
    text += d.toString('utf8');
    if (upAt === undefined && upRe.test(text)) upAt = performance.now();
  };
  child.stdout!.on('data', onText);
  child.stderr!.on('data', onText);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      try {
        process.kill(child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 8000);
      await gone;
      clearTimeout(t);
    }
    // Let the far end exit (it sees EOF) so its profile is written and the next run starts clean.
    for (let i = 0; i < 60 && sshdChildren(o.sshd).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (upAt !== undefined) break;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`ts-vpn up exited (${child.exitCode ?? child.signalCode}):\n${text}`);
      if (Date.now() > deadline) throw new Error(`ts-vpn up: no "tunnel up" within 30 s:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const spawnMs = upAt - t0;
    const m = upRe.exec(text)!;
    const [, ifname, local, peer, total] = m;
    const conn = /ssh: connected in (\d+(?:\.\d+)?) ms/.exec(text);
    const auth = /ssh: authenticated .* in (\d+(?:\.\d+)?) ms/.exec(text);
    const handshakeMs = conn ? Number(conn[1]) + (auth ? Number(auth[1]) : 0) : undefined;
    const totalUpMs = Number(total);
    const lcp = /ppp: LCP up .* in (\d+(?:\.\d+)?) ms/.exec(text);
    const farEnd = /the far end answered after (\d+) ms/.exec(text);
    const negotiation = /negotiation took (\d+) ms from the far end's first frame/.exec(text);
    const bringUpText =
      `${ifname} ${local} → ${peer}: ts-vpn total ${Math.round(totalUpMs)} ms` +
      (handshakeMs !== undefined
        ? ` = SSH ${Math.round(handshakeMs)} ms + exec/PPP/netlink ${Math.round(totalUpMs - handshakeMs)} ms`
        : '') +
      (lcp ? ` (LCP up ${lcp[1]} ms after exec)` : '') +
      (farEnd ? `; far end's first frame ${farEnd[1]} ms after exec` : '') +
      (negotiation
        ? `; PPP negotiation itself ${negotiation[1]} ms (far end's first frame → IPCP up)`
        : '') +
      `; ${Math.round(spawnMs)} ms from spawn incl. node start-up`;
    const traced = (event: string) => {
      const t = new RegExp(
        `^startup-trace: ${event} (\\d+(?:\\.\\d+)?) cpu (\\d+(?:\\.\\d+)?)$`,
        'm',
      ).exec(text);
      return t ? Number(t[1]) - wall0 : undefined;
    };
    const cpuAt = (event: string) => {
      const t = new RegExp(`^startup-trace: ${event} \\S+ cpu (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
      return t ? Number(t[1]) : undefined;
    };
    const startup = {
      mainMs: traced('main'),
      tcpConnectMs: traced('tcp-connect'),
      firstSshByteMs: traced('first-ssh-byte'),
      firstSshByteCpuMs: cpuAt('first-ssh-byte'),
      upMs: spawnMs,
    };
    return {
      pid: child.pid!,
      peerAddress: peer!,
      localAddress: local!,
      handshakeMs,
      totalUpMs,
      startup,
      bringUpText,
      ...(gateway ? { farEndPid: gateway.pid } : {}),
      log: () => text,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function sshdChildren(sshd: Sshd): number[] {
  return sshd.sessionPids();
}
