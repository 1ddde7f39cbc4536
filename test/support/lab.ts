/**
 * The end-to-end lab: three namespaces with unique names (created and removed here),
 *
 *   tv-cli-<id>  198.18.0.1/30 ── 198.18.0.2/30  tv-srv-<id>  198.18.16.1/24 ── 198.18.16.2/24  tv-lan-<id>
 *   (ts-vpn up)                   (sshd, ts-vpn serve, ip_forward=1)              (a host behind the server)
 *
 * a real sshd in the server namespace with known_hosts for the client, a peer.yaml and
 * server.yaml in a temp dir, and helpers to run the CLI in the namespaces, both ends
 * (`up` here, `serve` as sshd's remote command). Under vitest that CLI is the INSTALLED
 * package's `ts-vpn` bin (`npm pack` + `npm install -g --prefix`, once per run:
 * test/support/installed.ts, global-setup.ts); scripts/demo.ts and the benchmarks, which
 * run outside vitest, use the built dist/cli/main.js.
 * destroy() kills only the processes it started (by pid), then removes namespaces and files.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALLED_CLI_ENV } from './installed.js';
import { createNetns, linkNetns, type Netns, uniqueId } from './netns.js';
import { type Sshd, startSshd } from './sshd.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `ts-vpn` the lab runs: the installed bin in a test run, dist/ otherwise (see above). */
export const CLI = process.env[INSTALLED_CLI_ENV] ?? join(REPO, 'dist', 'cli', 'main.js');
export const NODE = process.execPath;

export const CLIENT_ADDR = '198.18.0.1';
export const SERVER_ADDR = '198.18.0.2';
export const SERVER_LAN_ADDR = '198.18.16.1';
export const LAN_ADDR = '198.18.16.2';
export const LAN_NET = '198.18.16.0/24';
export const POOL = '10.77.0.0/24';
export const SERVER_PPP_ADDR = '10.77.0.1';
export const LAN_DNS = '198.18.16.53';

export interface UpProcess {
  child: ChildProcess;
  pid: number;
  /** stderr + stdout so far. */
  log(): string;
  /** Types `text` on the terminal (startUp({ tty: true }) only). */
  type(text: string): void;
  /** Resolves with the exit code (or null + signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) to this pid and waits for the exit (SIGKILL after timeoutMs). */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the log matches `re` (rejects on exit or timeout, with the log). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

export interface PeerOverrides {
  name?: string;
  /** The whole body of the `ssh:` section (two-space indented lines), replacing the lab's. */
  ssh?: string;
  /** Routes through the tunnel; default [LAN_NET]. */
  routes?: string[];
  interface?: string;
  knownHosts?: string;
  identity?: string;
  remoteCommand?: string;
  /** Extra YAML appended at the top level (e.g. `reconnect:\n  enabled: true`). */
  extra?: string;
  /** Extra YAML lines inside `ppp:` (two-space indented). */
  ppp?: string;
  /** ppp.echo-interval / echo-failures (default 5 s, config default). */
  echoInterval?: number;
  echoFailures?: number;
  /** ssh.keepalive-interval / keepalive-count-max (default 5 s, config default). */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
}

export interface LabOptions {
  /** Unique id (hex, ≤ 6 chars) for names; default random. */
  id?: string;
  /** Extra YAML for server.yaml. */
  serverExtra?: string;
  /** Default peer.yaml overrides. */
  peer?: PeerOverrides;
  /** server.yaml echo-interval / echo-failures (default 5 s, config default). */
  serverEchoInterval?: number;
  serverEchoFailures?: number;
}

export interface Lab {
  id: string;
  dir: string;
  cli: Netns;
  srv: Netns;
  lan: Netns;
  sshd: Sshd;
  peerYaml: string;
  serverYaml: string;
  /** --state-dir of the client (unique per lab). */
  stateDir: string;
  serverStateDir: string;
  /** The tunnel name of the default peer.yaml. */
  name: string;
  /** Writes another peer file (e.g. a second tunnel, a wrong known_hosts). */
  writePeer(file: string, o?: PeerOverrides): string;
  /** Spawns `ts-vpn up <peer>` in the client namespace and waits for "tunnel up". */
  startUp(opts?: {
    peerYaml?: string;
    args?: string[];
    wait?: boolean;
    timeoutMs?: number;
    /**
     * Run it on a pseudo-terminal (util-linux `script -qfe --echo never -c`): stdin is a
     * TTY, what UpProcess.type writes is typed on it (echoed only if the terminal echoes), and stdout+stderr arrive merged from the pty.
     * `pid` is then script's; stop the tunnel with `ts-vpn down`.
     */
    tty?: boolean;
  }): Promise<UpProcess>;
  /**
   * Runs the CLI to completion in the client namespace (status, down, check…);
   * `asNobody`: as uid/gid 65534 without groups (setpriv), like a user without sudo.
   */
  runCli(
    args: string[],
    opts?: { timeoutMs?: number; asNobody?: boolean },
  ): { code: number | null; stdout: string; stderr: string };
  /** Pids of `ts-vpn serve` processes in the server namespace. */
  servePids(): number[];
  /** SIGKILLs every `up` of this lab still running (after a test, so a failure cannot leak into the next). */
  killUps(): Promise<void>;
  destroy(): Promise<void>;
}

/** `arg` quoted for sh -c (script's command line). */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function serveCommand(serverYaml: string): string {
  return `${NODE} ${CLI} serve --config ${serverYaml}`;
}

function labSsh(lab: { sshd: Sshd }, o: PeerOverrides): string {
  return `  host: ${SERVER_ADDR}
  port: ${lab.sshd.port}
  user: root
  identity-files: [${o.identity ?? lab.sshd.clientKeyPath}]
  agent: false
  host-key:
    known-hosts: ${o.knownHosts ?? lab.sshd.knownHostsPath}
  keepalive-interval: ${o.keepaliveInterval ?? 5}
${o.keepaliveCountMax ? `  keepalive-count-max: ${o.keepaliveCountMax}\n` : ''}  connect-timeout: 10`;
}

function peerText(
  lab: { id: string; dir: string; sshd: Sshd; serverYaml: string },
  o: PeerOverrides,
): string {
  const routes = o.routes ?? [LAN_NET];
  return `# written by test/support/lab.ts
name: ${o.name ?? `lab-${lab.id}`}
ssh:
${o.ssh ?? labSsh(lab, o)}
remote:
  command: ${o.remoteCommand ?? serveCommand(lab.serverYaml)}
  kind: ts-vpn
ppp:
  accept-local: [${POOL}]
  accept-peer: [${POOL}]
  use-peer-dns: true
  echo-interval: ${o.echoInterval ?? 5}
${o.echoFailures ? `  echo-failures: ${o.echoFailures}\n` : ''}${o.ppp ?? ''}
tunnel:
  interface: ${o.interface ?? 'tsvpn%d'}
routes: [${routes.join(', ')}]
dns:
  write-to: ${join(lab.dir, `${o.name ?? 'peer'}-resolv.conf`)}
${o.extra ?? 'reconnect:\n  enabled: false'}
`;
}

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const id = opts.id ?? uniqueId();
  const dir = mkdtempSync(join(tmpdir(), `tv-lab-${id}-`));
  chmodSync(dir, 0o700);
  const made: Netns[] = [];
  const ups: UpProcess[] = [];
  let sshd: Sshd | null = null;
  const killUps = async () => {
    for (const u of ups) {
      if (u.child.exitCode === null && u.child.signalCode === null)
        await u.stop('SIGKILL', 2000).catch(() => undefined);
    }
  };
  const cleanup = async () => {
    await killUps();
    if (sshd) await sshd.stop().catch(() => undefined);
    for (const ns of made.reverse()) ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const cli = createNetns(`tv-cli-${id}`);
    made.push(cli);
    const srv = createNetns(`tv-srv-${id}`);
    made.push(srv);
    const lan = createNetns(`tv-lan-${id}`);
    made.push(lan);
    linkNetns(cli, `${CLIENT_ADDR}/30`, srv, `${SERVER_ADDR}/30`, `tvc${id}`);
    linkNetns(srv, `${SERVER_LAN_ADDR}/24`, lan, `${LAN_ADDR}/24`, `tvl${id}`);
    lan.exec('ip', ['route', 'add', 'default', 'via', SERVER_LAN_ADDR]);
    lan.exec('ip', ['route', 'add', POOL, 'via', SERVER_LAN_ADDR]);
    srv.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    sshd = await startSshd({ ns: srv.name, listenAddress: SERVER_ADDR, port: 2222 });
    const serverYaml = join(dir, 'server.yaml');
    const serverStateDir = join(dir, 'srv-state');
    writeFileSync(
      serverYaml,
      `# written by test/support/lab.ts
pool: ${POOL}
dns: [${LAN_DNS}]
echo-interval: ${opts.serverEchoInterval ?? 5}
${opts.serverEchoFailures ? `echo-failures: ${opts.serverEchoFailures}\n` : ''}state-dir: ${serverStateDir}
${opts.serverExtra ?? ''}
`,
    );
    const base = { id, dir, sshd, serverYaml };
    const writePeer = (file: string, o: PeerOverrides = {}): string => {
      const p = join(dir, file);
      writeFileSync(p, peerText(base, { ...opts.peer, ...o }), { mode: 0o600 });
      return p;
    };
    const peerYaml = writePeer('peer.yaml');
    const stateDir = join(dir, 'cli-state');

    const startUp: Lab['startUp'] = async (o = {}) => {
      const args = [
        NODE,
        CLI,
        'up',
        o.peerYaml ?? peerYaml,
        '--state-dir',
        stateDir,
        ...(o.args ?? []),
      ];
      const child = o.tty
        ? cli.spawn(
            'script',
            ['-qfe', '--echo', 'never', '-c', args.map(shellQuote).join(' '), '/dev/null'],
            {
              stdio: ['pipe', 'pipe', 'pipe'],
            },
          )
        : cli.spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      const waiters: Array<() => void> = [];
      const onText = (d: Buffer) => {
        text += d.toString('utf8');
        for (const w of waiters.slice()) w();
      };
      child.stdout!.on('data', onText);
      child.stderr!.on('data', onText);
      let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
        child.on('exit', (code, signal) => {
          // Let the pipes drain so log() is complete.
          setTimeout(() => {
            // Set before waking the waiters, so an early exit fails a wait at once.
            exitInfo = { code, signal };
            res(exitInfo);
            for (const w of waiters.slice()) w();
          }, 50);
        });
      });
      const up: UpProcess = {
        child,
        pid: child.pid!,
        log: () => text,
        type: (t) => {
          if (!child.stdin) throw new Error('type() needs startUp({ tty: true })');
          child.stdin.write(t);
        },
        exited,
        stop: async (signal = 'SIGTERM', timeoutMs = 8000) => {
          if (child.exitCode === null && child.signalCode === null) {
            try {
              process.kill(child.pid!, signal);
            } catch {
              /* gone */
            }
            const t = setTimeout(() => {
              try {
                process.kill(child.pid!, 'SIGKILL');
              } catch {
                /* gone */
              }
            }, timeoutMs);
            const r = await exited;
            clearTimeout(t);
            return r;
          }
          return exited;
        },
        waitFor: (re, timeoutMs = 20_000) =>
          new Promise<void>((res, rej) => {
            const t0 = Date.now();
            const timer = setTimeout(() => check(true), timeoutMs);
            const check = (timedOut = false) => {
              if (re.test(text)) {
                clearTimeout(timer);
                waiters.splice(waiters.indexOf(check), 1);
                res();
              } else if (exitInfo || timedOut) {
                clearTimeout(timer);
                waiters.splice(waiters.indexOf(check), 1);
                const why = exitInfo
                  ? `exited (code ${exitInfo.code}, signal ${exitInfo.signal})`
                  : `timed out after ${Date.now() - t0} ms`;
                rej(
                  new Error(
                    `ts-vpn up ${why} before ${re}; its log:\n${text}\n--- sshd log:\n${sshd?.log().slice(-3000)}`,
                  ),
                );
              }
            };
            waiters.push(check);
            check();
          }),
      };
      ups.push(up);
      if (o.wait !== false) {
        await up.waitFor(/tunnel up:/, o.timeoutMs ?? 30_000);
        // Each end configures its own interface when its IPCP opens; the client can be
        // done first. When the far end is `ts-vpn serve`, its "session up" line comes
        // back over SSH: wait (briefly, softly) for it so a first packet is not sent
        // into a far end that has no interface yet.
        await up.waitFor(/remote: serve: session up/, 5000).catch(() => {});
      }
      return up;
    };

    const runCli: Lab['runCli'] = (args, o = {}) => {
      const user = o.asNobody
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']
        : [];
      const r = spawnSync(
        'ip',
        ['netns', 'exec', cli.name, ...user, NODE, CLI, ...args, '--state-dir', stateDir],
        {
          // A directory every user may enter (the repository may not be one).
          cwd: '/',
          encoding: 'utf8',
          timeout: o.timeoutMs ?? 20_000,
        },
      );
      return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };

    const servePids = (): number[] => {
      const pids = spawnSync('ip', ['netns', 'pids', srv.name], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
      const out: number[] = [];
      for (const p of pids) {
        const cmd = spawnSync('cat', [`/proc/${p}/cmdline`], { encoding: 'utf8' }).stdout.replace(
          /\0/g,
          ' ',
        );
        if (cmd.includes(CLI) && / serve /.test(cmd)) out.push(Number(p));
      }
      return out;
    };

    return {
      id,
      dir,
      cli,
      srv,
      lan,
      sshd,
      peerYaml,
      serverYaml,
      stateDir,
      serverStateDir,
      name: `lab-${id}`,
      writePeer,
      startUp,
      runCli,
      servePids,
      killUps,
      destroy: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Interfaces in a namespace (`ip -j link`). */
export function links(ns: Netns): Array<{ ifname: string; mtu: number; operstate: string }> {
  const out = ns.exec('ip', ['-j', 'link']);
  return out.trim() ? JSON.parse(out) : [];
}

/** IPv4 routes in a namespace (`ip -j route`). */
export function routes(
  ns: Netns,
  family: '-4' | '-6' = '-4',
): Array<{ dst: string; dev?: string; gateway?: string }> {
  const out = ns.exec('ip', ['-j', family, 'route']);
  return out.trim() ? JSON.parse(out) : [];
}

/** Polls `fn` until it returns true (or throws after timeoutMs). */
export async function until(
  fn: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const TCP_TOOL = join(REPO, 'test', 'support', 'tcp-tool.mjs');

export interface TransferResult {
  sent: { bytes: number; sha256: string; ms: number };
  received: { bytes: number; sha256: string; ms: number };
  /** Receiver-side throughput, Mbit/s. */
  mbps: number;
}

/** Sends `bytes` random bytes over TCP from namespace `from` to `toAddr` (a listener in `to`); both sides hash. */
export async function tcpTransfer(
  from: Netns,
  to: Netns,
  toAddr: string,
  bytes: number,
  port = 5001,
): Promise<TransferResult> {
  const recv = to.spawn(NODE, [TCP_TOOL, 'recv', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let rOut = '';
  let rErr = '';
  recv.stdout!.on('data', (d: Buffer) => {
    rOut += d.toString();
  });
  recv.stderr!.on('data', (d: Buffer) => {
    rErr += d.toString();
  });
  const recvDone = new Promise<void>((res) => recv.on('exit', () => res()));
  try {
    await until(
      () => rOut.includes('listening') || recv.exitCode !== null,
      10_000,
      'the TCP receiver',
    );
    const send = spawnSync(
      'ip',
      ['netns', 'exec', from.name, NODE, TCP_TOOL, 'send', toAddr, String(port), String(bytes)],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    if (send.status !== 0) throw new Error(`sender failed (${send.status}): ${send.stderr}`);
    await Promise.race([recvDone, new Promise((r) => setTimeout(r, 10_000))]);
    const line = rOut.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`receiver printed no result: ${rOut} ${rErr}`);
    const received = JSON.parse(line) as TransferResult['received'];
    const sent = JSON.parse(send.stdout.trim()) as TransferResult['sent'];
    return { sent, received, mbps: (received.bytes * 8) / (Math.max(received.ms, 1) * 1000) };
  } finally {
    if (recv.exitCode === null) {
      try {
        process.kill(recv.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

export interface RunningTransfer {
  /** Resolves when the sender is connected and sending. */
  started: Promise<void>;
  /** Both ends finished (rejects on a failure or after timeoutMs). */
  done: Promise<TransferResult>;
  /** SIGKILLs both ends (for cleanup after a failed test). */
  kill(): void;
}

/** Like tcpTransfer, but without blocking: the caller can break things while it runs. */
export function tcpTransferAsync(
  from: Netns,
  to: Netns,
  toAddr: string,
  bytes: number,
  port = 5002,
  timeoutMs = 40_000,
): RunningTransfer {
  const procs: ChildProcess[] = [];
  const kill = () => {
    for (const p of procs) {
      if (p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(p.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  };
  const collect = (p: ChildProcess) => {
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exit = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
    return { out: () => out, err: () => err, exit };
  };
  const recv = to.spawn(NODE, [TCP_TOOL, 'recv', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(recv);
  const r = collect(recv);
  let resolveStarted!: () => void;
  const started = new Promise<void>((res) => {
    resolveStarted = res;
  });
  const done = (async () => {
    const timer = setTimeout(kill, timeoutMs);
    try {
      await until(
        () => r.out().includes('listening') || recv.exitCode !== null,
        10_000,
        'the TCP receiver',
      );
      const send = from.spawn(NODE, [TCP_TOOL, 'send', toAddr, String(port), String(bytes)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      procs.push(send);
      const s = collect(send);
      setTimeout(resolveStarted, 100);
      const [sc, rc] = await Promise.all([s.exit, r.exit]);
      if (sc !== 0 || rc !== 0)
        throw new Error(`transfer failed: sender ${sc} ${s.err()} receiver ${rc} ${r.err()}`);
      const received = JSON.parse(
        r
          .out()
          .split('\n')
          .find((l) => l.startsWith('{'))!,
      ) as TransferResult['received'];
      const sent = JSON.parse(s.out().trim()) as TransferResult['sent'];
      return { sent, received, mbps: (received.bytes * 8) / (Math.max(received.ms, 1) * 1000) };
    } finally {
      clearTimeout(timer);
      resolveStarted();
      kill();
    }
  })();
  return { started, done, kill };
}
