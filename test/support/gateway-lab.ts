/**
 * The gateway's end-to-end lab (test/e2e/gateway*.test.ts), created and removed here:
 *
 *   <tag>-c-<id> 198.18.0.1/30 ── 198.18.0.2/30  <tag>-s-<id>  198.18.16.1/24 ── 198.18.16.2/24  <tag>-l-<id>
 *   (clients)                                    (sshd, ts-vpn gateway)            (a LAN host, NO route to the clients)
 *   <tag>-d-<id> 198.18.0.5/30 ── 198.18.0.6/30  (optional second client namespace)
 *
 * SSH users made for the test (non-root, no sudo rule, removed after) in one group whose
 * members log in with the sshd's client key; the gateway socket, its state and every
 * file in a temp dir. Helpers start the INSTALLED `ts-vpn gateway` (lab.ts's CLI), read
 * its status and track processes; destroy() ends only the processes started through the
 * lab (by pid), then removes namespaces, users, group and files.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, CLIENT_ADDR, LAN_ADDR, NODE, SERVER_ADDR, SERVER_LAN_ADDR } from './lab.js';
import { createNetns, linkNetns, type Netns, uniqueId } from './netns.js';
import { type Sshd, startSshd } from './sshd.js';

/** lab.ts's addresses, named for the gateway: client, server (sshd, gateway), its LAN side, the LAN host. */
export {
  CLIENT_ADDR as CLIENT,
  LAN_ADDR as LAN_HOST,
  SERVER_ADDR as SERVER,
  SERVER_LAN_ADDR as GW_LAN,
};

const CLIENT = CLIENT_ADDR;
const SERVER = SERVER_ADDR;
const GW_LAN = SERVER_LAN_ADDR;
const LAN_HOST = LAN_ADDR;

/** A process whose output is kept, to wait for a line of it. */
export interface Proc {
  child: ChildProcess;
  log(): string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(sig?: NodeJS.Signals): Promise<number | null>;
}

export function track(child: ChildProcess, what: string): Proc {
  let text = '';
  const waiters = new Set<() => void>();
  const on = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', on);
  child.stderr?.on('data', on);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (c) => {
      setTimeout(() => {
        code = c;
        r(c);
        for (const w of [...waiters]) w();
      }, 50);
    }),
  );
  return {
    child,
    log: () => text,
    exited,
    waitFor: (re, ms = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timeout after ${ms} ms`)), ms);
        const check = () => {
          if (re.test(text)) done();
          else if (code !== undefined) done(new Error(`exited with ${code}`));
        };
        const done = (err?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(new Error(`${what}: ${err.message} before ${re}; log:\n${text}`));
          else resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: async (sig = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return exited;
    },
  };
}

export interface GatewayLabOptions {
  /** What names start with (namespaces, links, users, group); 4 characters. */
  tag: string;
  /** SSH users to create, by role: role `a` becomes user `<tag>a<id>`. */
  roles: string[];
  /** A second client namespace (198.18.0.5/30 to the server's 198.18.0.6/30). */
  secondClient?: boolean;
  /** More sshd_config lines, given the user names by role. */
  sshdConfig?: (users: Record<string, string>) => string;
}

export interface PeerFileOptions {
  /** Top-level peer.yaml lines (default: reconnect off). */
  extra?: string;
  /** More lines under `remote:` (indented two spaces). */
  remoteExtra?: string;
  /** ppp accept-local / accept-peer (default the LAN, where the pool is). */
  accept?: string;
}

export interface GatewayLab {
  id: string;
  dir: string;
  group: string;
  /** User names by role. */
  users: Record<string, string>;
  cli: Netns;
  /** The second client namespace (null unless asked for). */
  cli2: Netns | null;
  srv: Netns;
  lan: Netns;
  sshd: Sshd;
  /** The server's interface on the LAN (gateway.yaml's lan-interface). */
  lanIf: string;
  /** The LAN host's interface. */
  lanHostIf: string;
  socketPath: string;
  gwState: string;
  /** Writes gateway.yaml `name` in the lab dir: the lab's socket (group, 0660) and state dir around `body`. */
  gatewayYaml(name: string, body: string): string;
  /** Starts `ts-vpn gateway yaml` in the server namespace; `path`: the daemon's PATH instead of ours. */
  startGateway(yaml: string, opts?: { path?: string }): Proc;
  /** Writes `<user>.yaml`: `ts-vpn up` as `user` through the lab's sshd to its gateway, routing the LAN. */
  peerFile(user: string, o?: PeerFileOptions): string;
  /** Runs the installed `ts-vpn up` with peerFile(user, o) in `ns` (tracked). */
  up(ns: Netns, user: string, o?: PeerFileOptions): Proc;
  /** `ts-vpn status --json` of the lab's gateway. */
  status<T = Record<string, unknown>>(): T;
  /** Tracks a process (ended by destroy() if still running). */
  track(child: ChildProcess, what: string): Proc;
  /**
   * Ends the tracked processes still running (SIGTERM, SIGKILL after `ms`): run after
   * each test, so a test that failed half way leaves no tunnel or gateway to the next.
   */
  stopRunning(ms?: number): Promise<void>;
  destroy(): Promise<void>;
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    /* not there */
  }
}

export async function createGatewayLab(opts: GatewayLabOptions): Promise<GatewayLab> {
  const id = uniqueId();
  const t = opts.tag;
  const group = `${t}${id}`;
  const users = Object.fromEntries(opts.roles.map((r) => [r, `${t}${r}${id}`]));
  const procs: Proc[] = [];
  const made: Netns[] = [];
  const dir = mkdtempSync(join(tmpdir(), `${t}-${id}-`));
  let sshd: Sshd | null = null;
  const destroy = async () => {
    for (const p of procs) await p.stop('SIGKILL').catch(() => undefined);
    await sshd?.stop().catch(() => undefined);
    for (const ns of made) ns.destroy();
    for (const u of Object.values(users)) tryRun('userdel', [u]);
    tryRun('groupdel', [group]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    chmodSync(dir, 0o755);
    execFileSync('groupadd', [group]);
    for (const u of Object.values(users))
      execFileSync('useradd', [
        '-M',
        '-N',
        '-g',
        group,
        '-p',
        '*',
        '-s',
        '/bin/sh',
        '-d',
        '/nonexistent',
        u,
      ]);
    const ns = (k: string) => {
      const n = createNetns(`${t}-${k}-${id}`);
      made.push(n);
      return n;
    };
    const cli = ns('c');
    const srv = ns('s');
    const lan = ns('l');
    const cli2 = opts.secondClient ? ns('d') : null;
    linkNetns(cli, `${CLIENT}/30`, srv, `${SERVER}/30`, `${t}c${id}`);
    if (cli2) {
      linkNetns(cli2, '198.18.0.5/30', srv, '198.18.0.6/30', `${t}d${id}`);
      cli2.exec('ip', ['route', 'add', `${SERVER}/32`, 'via', '198.18.0.6']);
    }
    const { aIf: lanIf, bIf: lanHostIf } = linkNetns(
      srv,
      `${GW_LAN}/24`,
      lan,
      `${LAN_HOST}/24`,
      `${t}l${id}`,
    );
    // sshd reads authorized_keys as the user: a readable copy for the test's users.
    const keys = join(dir, 'authorized_keys');
    sshd = await startSshd({
      ns: srv.name,
      listenAddress: SERVER,
      port: 2222,
      extraConfig: `Match Group ${group}\n  AuthorizedKeysFile ${keys}\n${opts.sshdConfig?.(users) ?? ''}`,
    });
    writeFileSync(keys, execFileSync('ssh-keygen', ['-y', '-f', sshd.clientKeyPath]), {
      mode: 0o644,
    });
    const socketPath = join(dir, 'run', 'gateway.sock');
    const gwState = join(dir, 'gw-state');
    const lab: GatewayLab = {
      id,
      dir,
      group,
      users,
      cli,
      cli2,
      srv,
      lan,
      sshd,
      lanIf,
      lanHostIf,
      socketPath,
      gwState,
      gatewayYaml: (name, body) => {
        const p = join(dir, name);
        writeFileSync(
          p,
          `socket: { path: ${socketPath}, group: ${group}, mode: "0660" }\n${body}state-dir: ${gwState}\n`,
        );
        return p;
      },
      startGateway: (yaml, o = {}) => {
        const args = [CLI, 'gateway', yaml, '--state-dir', gwState];
        const child =
          o.path === undefined
            ? srv.spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] })
            : srv.spawn('env', [`PATH=${o.path}`, NODE, ...args], {
                stdio: ['ignore', 'pipe', 'pipe'],
              });
        return lab.track(child, 'gateway');
      },
      peerFile: (user, o = {}) => {
        const p = join(dir, `${user}.yaml`);
        const accept = o.accept ?? '[198.18.16.0/24]';
        writeFileSync(
          p,
          `name: gw-${user}
ssh:
  host: ${SERVER}
  port: ${sshd!.port}
  user: ${user}
  identity-files: [${sshd!.clientKeyPath}]
  agent: false
  host-key: { known-hosts: ${sshd!.knownHostsPath} }
  connect-timeout: 10
remote:
  gateway: ${socketPath}
${o.remoteExtra ?? ''}ppp:
  accept-local: ${accept}
  accept-peer: ${accept}
  echo-interval: 2
  echo-failures: 3
tunnel: { interface: tsvpn%d }
routes: [198.18.16.0/24]
${o.extra || 'reconnect:\n  enabled: false'}
`,
          { mode: 0o600 },
        );
        return p;
      },
      up: (where, user, o) =>
        lab.track(
          where.spawn(
            NODE,
            [CLI, 'up', lab.peerFile(user, o), '--state-dir', join(dir, `st-${user}`)],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          ),
          `up ${user}`,
        ),
      status: <T>() =>
        JSON.parse(srv.exec(NODE, [CLI, 'status', '--json', '--state-dir', gwState])) as T,
      track: (child, what) => {
        const p = track(child, what);
        procs.push(p);
        return p;
      },
      stopRunning: async (ms = 5000) => {
        const running = procs.splice(0);
        await Promise.all(
          running.map(async (p) => {
            const kill = setTimeout(() => p.child.kill('SIGKILL'), ms);
            await p.stop('SIGTERM').catch(() => undefined);
            clearTimeout(kill);
          }),
        );
      },
      destroy,
    };
    return lab;
  } catch (e) {
    await destroy();
    throw e;
  }
}
