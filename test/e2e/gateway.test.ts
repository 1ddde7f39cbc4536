/**
 * End to end: `ts-vpn gateway` in a server namespace behind a real sshd, clients
 * `ts-vpn up` with `remote: { gateway: … }` in a client namespace, logging in as
 * two different non-root users (created here with useradd, removed after; no
 * sudo rule anywhere). A LAN namespace shares 198.18.16.0/24 with the gateway
 * and has NO route to the clients: it reaches them through proxy ARP only.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NODE, REPO } from '../support/lab.js';
import { createNetns, linkNetns, type Netns, requireNetns, uniqueId } from '../support/netns.js';
import { type Sshd, startSshd } from '../support/sshd.js';

const enabled = requireNetns('gateway e2e tests');

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';
const GW_LAN = '198.18.16.1';
const LAN_HOST = '198.18.16.2';
/** Client addresses come from the LAN subnet: the LAN reaches them by proxy ARP. */
const POOL = '198.18.16.100-198.18.16.119';
const ALICE_ADDR = '198.18.16.110';

interface Proc {
  child: ChildProcess;
  log(): string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(sig?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess, what: string): Proc {
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

describe.skipIf(!enabled)('ts-vpn gateway end to end', () => {
  const id = uniqueId();
  const users = { alice: `tvgwa${id}`, bob: `tvgwb${id}`, carol: `tvgwc${id}`, eve: `tvgwe${id}` };
  const group = `tvgw${id}`;
  let dir = '';
  let cli: Netns;
  /** bob's own client namespace (each client routes the LAN through its tunnel). */
  let cli2: Netns;
  let srv: Netns;
  let lan: Netns;
  let sshd: Sshd;
  let gwYaml = '';
  let socketPath = '';
  let gwState = '';
  const procs: Proc[] = [];

  const peerFile = (
    user: string,
    extra = '',
    remoteExtra = '',
    accept = '[198.18.16.0/24]',
  ): string => {
    const p = join(dir, `${user}.yaml`);
    writeFileSync(
      p,
      `name: gw-${user}
ssh:
  host: ${SERVER}
  port: ${sshd.port}
  user: ${user}
  identity-files: [${sshd.clientKeyPath}]
  agent: false
  host-key: { known-hosts: ${sshd.knownHostsPath} }
  connect-timeout: 10
remote:
  gateway: ${socketPath}
${remoteExtra}ppp:
  accept-local: ${accept}
  accept-peer: ${accept}
  echo-interval: 2
  echo-failures: 3
tunnel: { interface: tsvpn%d }
routes: [198.18.16.0/24]
${extra || 'reconnect:\n  enabled: false'}
`,
      { mode: 0o600 },
    );
    return p;
  };

  const startGateway = (yaml = gwYaml): Proc => {
    const p = track(
      srv.spawn(NODE, [CLI, 'gateway', yaml, '--state-dir', gwState], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'gateway',
    );
    procs.push(p);
    return p;
  };

  const up = (
    user: string,
    extra = '',
    ns: Netns = user === users.bob ? cli2 : cli,
    remoteExtra = '',
    accept?: string,
  ): Proc => {
    const p = track(
      ns.spawn(
        NODE,
        [
          CLI,
          'up',
          peerFile(user, extra, remoteExtra, accept),
          '--state-dir',
          join(dir, `st-${user}`),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
      `up ${user}`,
    );
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `tvgw-${id}-`));
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
    cli = createNetns(`tvgw-c-${id}`);
    srv = createNetns(`tvgw-s-${id}`);
    lan = createNetns(`tvgw-l-${id}`);
    cli2 = createNetns(`tvgw-d-${id}`);
    linkNetns(cli, `${CLIENT}/30`, srv, `${SERVER}/30`, `tvgc${id}`);
    linkNetns(cli2, '198.18.0.5/30', srv, '198.18.0.6/30', `tvgd${id}`);
    cli2.exec('ip', ['route', 'add', `${SERVER}/32`, 'via', '198.18.0.6']);
    linkNetns(srv, `${GW_LAN}/24`, lan, `${LAN_HOST}/24`, `tvgl${id}`);
    // sshd reads authorized_keys as the user: a readable copy for the test users.
    const keys = join(dir, 'authorized_keys');
    sshd = await startSshd({
      ns: srv.name,
      listenAddress: SERVER,
      port: 2222,
      extraConfig: `Match Group ${group}\n  AuthorizedKeysFile ${keys}\nMatch User ${users.eve}\n  AllowStreamLocalForwarding no\n`,
    });
    writeFileSync(keys, execFileSync('ssh-keygen', ['-y', '-f', sshd.clientKeyPath]), {
      mode: 0o644,
    });
    socketPath = join(dir, 'run', 'gateway.sock');
    gwState = join(dir, 'gw-state');
    gwYaml = join(dir, 'gateway.yaml');
    writeFileSync(
      gwYaml,
      `socket: { path: ${socketPath}, group: ${group}, mode: "0660" }
local-address: ${GW_LAN}
pool: ${POOL}
unknown-users: refuse
users:
  ${users.alice}: { address: ${ALICE_ADDR}, allow-client-routes: [10.200.0.0/16] }
  ${users.bob}: {}
lan-interface: tvgl${id}a
proxy-arp: true
forwarding: enable
echo-interval: 2
state-dir: ${gwState}
`,
    );
  });

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL').catch(() => undefined);
    await sshd?.stop().catch(() => undefined);
    for (const ns of [cli, cli2, srv, lan]) ns?.destroy();
    for (const u of Object.values(users)) {
      try {
        execFileSync('userdel', [u], { stdio: 'ignore' });
      } catch {
        /* not created */
      }
    }
    try {
      execFileSync('groupdel', [group], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves two users with their own addresses, reachable from the LAN by proxy ARP; refuses others; cleans up on stop', async () => {
    const proxyDelay = `/proc/sys/net/ipv4/neigh/tvgl${id}a/proxy_delay`;
    const delayBefore = srv.exec('cat', [proxyDelay]).trim();
    const gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    // Proxy ARP answers at once while the gateway runs (the kernel's default delays up to 0.8 s).
    expect(srv.exec('cat', [proxyDelay]).trim()).toBe('0');
    const a = up(users.alice);
    const b = up(users.bob);
    await a.waitFor(/tunnel up:/);
    await b.waitFor(/tunnel up:/);
    await gw.waitFor(new RegExp(`${users.alice}, uid \\d+\\): up: tsvg`));
    await gw.waitFor(new RegExp(`${users.bob}, uid \\d+\\): up: tsvg`));
    expect(a.log()).toMatch(new RegExp(`tunnel up: .*${ALICE_ADDR.replaceAll('.', '\\.')}`));
    const bobAddr = /tunnel up: \S+ (\d+\.\d+\.\d+\.\d+)/.exec(b.log())?.[1];
    expect(bobAddr).toMatch(/^198\.18\.16\.1[01]\d$/);
    expect(bobAddr).not.toBe(ALICE_ADDR);
    // The gateway saw who connected (SO_PEERCRED through sshd).
    expect(gw.log()).toMatch(new RegExp(`${users.alice}, uid \\d+\\): up: tsvg\\d+`));
    expect(gw.log()).toMatch(new RegExp(`${users.bob}, uid \\d+\\): up: tsvg\\d+`));

    // The LAN host has no route to the clients: only its connected /24.
    expect(lan.exec('ip', ['route']).trim().split('\n')).toEqual([
      `198.18.16.0/24 dev tvgl${id}b proto kernel scope link src ${LAN_HOST} `.trim(),
    ]);
    expect(lan.exec('ping', ['-c', '2', '-W', '3', ALICE_ADDR])).toMatch(/2 received/);
    expect(lan.exec('ping', ['-c', '2', '-W', '3', bobAddr!])).toMatch(/2 received/);
    expect(srv.exec('ip', ['neigh', 'show', 'proxy'])).toMatch(ALICE_ADDR);

    // status lists both sessions with user and uid
    const st = JSON.parse(srv.exec(NODE, [CLI, 'status', '--json', '--state-dir', gwState])) as {
      sessions: { user: string; uid: number; peer: string; state: string }[];
    };
    expect(st.sessions.map((s) => [s.user, s.state, s.peer]).sort()).toEqual(
      [
        [users.alice, 'up', ALICE_ADDR],
        [users.bob, 'up', bobAddr],
      ].sort(),
    );

    // Stop: every interface, neighbour entry and the forwarding change go away.
    expect(await gw.stop('SIGTERM')).toBe(0);
    expect(srv.exec('ip', ['-o', 'link']).match(/tsvg\d+/g)).toBeNull();
    expect(srv.exec('ip', ['neigh', 'show', 'proxy']).trim()).toBe('');
    expect(srv.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('0');
    expect(srv.exec('cat', [proxyDelay]).trim()).toBe(delayBefore);
    await a.exited;
    await b.exited;
  });

  // A library client (no TUN) sends its first echo request the moment IPCP opens, before
  // the gateway has its side configured. The reply from the LAN host once came a second
  // late: the LAN host's ARP for the client went unanswered until the session's proxy
  // entry existed, which was added only after the held packets had been passed on.
  it('delivers each ICMP echo reply before the next request goes out, also the first one sent as IPCP opens', async () => {
    const gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    const probe = async (target: string) => {
      const p = track(
        cli.spawn(
          NODE,
          [
            '--import',
            'tsx',
            join(REPO, 'test', 'e2e', 'gateway-ping-client.ts'),
            JSON.stringify({
              host: SERVER,
              port: sshd.port,
              user: users.bob,
              key: sshd.clientKeyPath,
              socket: socketPath,
              target,
              count: 5,
              gapMs: 1000,
            }),
          ],
          { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
        'ping client',
      );
      procs.push(p);
      expect(await p.exited).toBe(0);
      return JSON.parse(p.log()) as { inTime: boolean[]; replied: number[] };
    };
    const r1 = await probe(GW_LAN);
    const r2 = await probe(LAN_HOST);
    expect(r1.inTime).toEqual([true, true, true, true, true]);
    expect(r2.inTime).toEqual([true, true, true, true, true]);
    expect(await gw.stop()).toBe(0);
  });

  it('routes the networks a client claims to its session only inside its allow-client-routes', async () => {
    const gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    const a = up(users.alice, '', cli, '  client-routes: [10.200.1.0/24, 10.201.0.0/24]\n');
    const b = up(users.bob, '', cli2, '  client-routes: [10.200.2.0/24]\n');
    await a.waitFor(/tunnel up:/);
    await b.waitFor(/tunnel up:/);
    await gw.waitFor(
      new RegExp(`${users.alice}, uid \\d+\\): client route 10\\.200\\.1\\.0/24 → tsvg`),
    );
    await gw.waitFor(
      new RegExp(`${users.bob}, uid \\d+\\): client route 10\\.200\\.2\\.0/24 refused`),
    );
    expect(gw.log()).toMatch(
      new RegExp(
        `${users.alice}, uid \\d+\\): client route 10\\.201\\.0\\.0/24 refused: not inside allow-client-routes`,
      ),
    );
    const st = JSON.parse(srv.exec(NODE, [CLI, 'status', '--json', '--state-dir', gwState])) as {
      sessions: { user: string; interface: string; clientRoutes: string[] }[];
    };
    const alice = st.sessions.find((s) => s.user === users.alice)!;
    const bob = st.sessions.find((s) => s.user === users.bob)!;
    expect(alice.clientRoutes).toEqual(['10.200.1.0/24']);
    expect(bob.clientRoutes).toEqual([]);
    // The kernel routes the granted network to alice's device, and nothing else claimed.
    expect(srv.exec('ip', ['route', 'show', '10.200.1.0/24'])).toMatch(`dev ${alice.interface}`);
    expect(srv.exec('ip', ['route', 'show', '10.201.0.0/24']).trim()).toBe('');
    expect(srv.exec('ip', ['route', 'show', '10.200.2.0/24']).trim()).toBe('');
    expect(await gw.stop()).toBe(0);
    expect(srv.exec('ip', ['route', 'show', '10.200.1.0/24']).trim()).toBe('');
    await a.exited;
    await b.exited;
  });

  it('masquerades a pool outside the LAN (masquerade: true) in its own nft table, removed at stop', async () => {
    const nft = srv.try('nft', ['--version']);
    expect(nft.code, 'nft (Debian nftables) is needed: bash scripts/setup.sh installs it').toBe(0);
    const yaml = join(dir, 'gateway-masq.yaml');
    writeFileSync(
      yaml,
      `socket: { path: ${socketPath}, group: ${group}, mode: "0660" }
local-address: 10.77.5.1
pool: 10.77.5.0/24
unknown-users: refuse
users:
  ${users.alice}: {}
lan-interface: tvgl${id}a
masquerade: true
forwarding: enable
state-dir: ${gwState}
`,
    );
    const gw = startGateway(yaml);
    await gw.waitFor(/gateway: listening on/);
    expect(gw.log()).toMatch(/masquerading 10\.77\.5\.\d+-10\.77\.5\.\d+ out of tvgl\w+ \(nft\)/);
    expect(srv.exec('nft', ['list', 'table', 'ip', 'ts_vpn_gateway'])).toMatch(
      new RegExp(`oifname "tvgl${id}a" ip saddr 10\\.77\\.5\\.\\d+-10\\.77\\.5\\.\\d+ masquerade`),
    );
    const a = up(users.alice, '', cli, '', '[10.77.5.0/24]');
    await a.waitFor(/tunnel up: \S+ 10\.77\.5\./);
    // The LAN host has no route to 10.77.5.0/24: it sees (and answers) the gateway's LAN address.
    expect(lan.try('ip', ['route', 'get', '10.77.5.2']).stderr).toMatch(/unreachable/);
    const server = track(
      lan.spawn(
        NODE,
        [
          '-e',
          `require('net').createServer((s) => { process.stdout.write('from ' + s.remoteAddress + '\\n'); s.end('hi\\n'); }).listen(7777, '${LAN_HOST}', () => process.stdout.write('listening\\n'))`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
      'LAN listener',
    );
    procs.push(server);
    await server.waitFor(/listening/);
    const got = cli.exec(NODE, [
      '-e',
      `const s = require('net').connect(7777, '${LAN_HOST}'); s.on('data', (d) => { process.stdout.write(d); s.end(); }); s.on('error', (e) => { console.log(e.message); process.exit(1); });`,
    ]);
    expect(got).toBe('hi\n');
    await server.waitFor(/from /);
    expect(server.log()).toMatch(new RegExp(`from ${GW_LAN.replaceAll('.', '\\.')}\\n`));
    expect(await a.stop()).toBe(0);
    expect(await gw.stop()).toBe(0);
    expect(srv.try('nft', ['list', 'table', 'ip', 'ts_vpn_gateway']).code).not.toBe(0);
    expect(srv.exec('nft', ['list', 'tables'])).not.toMatch(/ts_vpn_gateway/);
    await server.stop('SIGKILL');
  });

  it('refuses a user the policy does not allow, with the reason on the client (exit 6, even with reconnect on)', async () => {
    const gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    // reconnect is on (and up retries a failed first attempt): a policy refusal is not retried.
    const c = up(users.carol, 'reconnect:\n  enabled: true\n  holdoff: 1\n');
    expect(await c.exited).toBe(6);
    expect(c.log()).toMatch(/not retrying/);
    expect(c.log()).toMatch(
      new RegExp(`far end closed the link: user ${users.carol} is not allowed on this gateway`),
    );
    expect(gw.log()).toMatch(new RegExp(`refused ${users.carol} \\(uid \\d+, sshd pid \\d+\\)`));
    expect(await gw.stop()).toBe(0);
  });

  it('says the administrator forbade stream-local forwarding when sshd does', async () => {
    const gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    const e = up(users.eve);
    expect(await e.exited).toBe(6);
    // OpenSSH answers "open failed" (reason 2) both for this and for a missing socket.
    expect(e.log()).toMatch(/administrator forbids stream-local forwarding for this user/);
    expect(e.log()).toMatch(/AllowStreamLocalForwarding no/);
    expect(gw.log()).not.toMatch(users.eve);
    expect(await gw.stop()).toBe(0);
  });

  it('ends one session on ts-vpn down --session, and clients reconnect after a gateway restart', async () => {
    let gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    const reconnect = 'reconnect:\n  enabled: true\n  holdoff: 1\n  max-backoff: 2\n';
    const a = up(users.alice, reconnect);
    await a.waitFor(/tunnel up:/);
    const b = up(users.bob);
    await b.waitFor(/tunnel up:/);
    const st = JSON.parse(srv.exec(NODE, [CLI, 'status', '--json', '--state-dir', gwState])) as {
      sessions: { id: string; user: string }[];
    };
    const bobSession = st.sessions.find((x) => x.user === users.bob)!.id;
    expect(srv.exec(NODE, [CLI, 'down', '--session', bobSession, '--state-dir', gwState])).toMatch(
      `session ${bobSession} ended`,
    );
    await b.exited;
    expect(b.log()).toMatch(/ended by the gateway administrator/);

    expect(await gw.stop()).toBe(0);
    await a.waitFor(/link lost: .*reconnecting/);
    gw = startGateway();
    await gw.waitFor(/gateway: listening on/);
    await a.waitFor(/reconnected in/, 40_000);
    await gw.waitFor(new RegExp(`${users.alice}, uid \\d+\\): up: tsvg`));
    expect(lan.exec('ping', ['-c', '2', '-W', '3', ALICE_ADDR])).toMatch(/2 received/);
    expect(await a.stop()).toBe(0);
    expect(await gw.stop()).toBe(0);
  });
});
