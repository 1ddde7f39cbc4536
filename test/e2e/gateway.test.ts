/**
 * End to end: `ts-vpn gateway` in a server namespace behind a real sshd, clients
 * `ts-vpn up` with `remote: { gateway: … }` in a client namespace, logging in as
 * two different non-root users (created with useradd, removed after; no sudo
 * rule anywhere). A LAN namespace shares 198.18.16.0/24 with the gateway and has
 * NO route to the clients: it reaches them through proxy ARP only (the lab:
 * test/support/gateway-lab.ts; masquerading: gateway-masquerade.test.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayLab,
  type GatewayLab,
  GW_LAN,
  LAN_HOST,
  type Proc,
  SERVER,
} from '../support/gateway-lab.js';
import { CLI, NODE, REPO } from '../support/lab.js';
import { type Netns, requireNetns } from '../support/netns.js';
import { procStatus } from '../support/proc-status.js';

const enabled = requireNetns('gateway e2e tests');

/** Client addresses come from the LAN subnet: the LAN reaches them by proxy ARP. */
const POOL = '198.18.16.100-198.18.16.119';
const ALICE_ADDR = '198.18.16.110';

describe.skipIf(!enabled)('ts-vpn gateway end to end', () => {
  let lab: GatewayLab;
  let users: { alice: string; bob: string; carol: string; eve: string };
  let cli: Netns;
  /** bob's own client namespace (each client routes the LAN through its tunnel). */
  let cli2: Netns;
  let srv: Netns;
  let lan: Netns;
  let gwYaml = '';
  let socketPath = '';
  let gwState = '';

  const startGateway = (yaml = gwYaml): Proc => lab.startGateway(yaml);

  const up = (
    user: string,
    extra = '',
    ns: Netns = user === users.bob ? cli2 : cli,
    remoteExtra = '',
    accept?: string,
  ): Proc => lab.up(ns, user, { extra, remoteExtra, accept });

  beforeAll(async () => {
    lab = await createGatewayLab({
      tag: 'tvgw',
      roles: ['a', 'b', 'c', 'e'],
      secondClient: true,
      sshdConfig: (u) => `Match User ${u.e}\n  AllowStreamLocalForwarding no\n`,
    });
    users = { alice: lab.users.a!, bob: lab.users.b!, carol: lab.users.c!, eve: lab.users.e! };
    ({ cli, srv, lan, socketPath, gwState } = lab);
    cli2 = lab.cli2!;
    gwYaml = lab.gatewayYaml(
      'gateway.yaml',
      `local-address: ${GW_LAN}
pool: ${POOL}
unknown-users: refuse
users:
  ${users.alice}: { address: ${ALICE_ADDR}, allow-client-routes: [10.200.0.0/16] }
  ${users.bob}: {}
lan-interface: ${lab.lanIf}
proxy-arp: true
forwarding: enable
echo-interval: 2
run-as: { user: nobody, group: nogroup }
`,
    );
  });

  afterEach(async () => {
    await lab?.stopRunning();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('serves two users with their own addresses, reachable from the LAN by proxy ARP; refuses others; cleans up on stop', async () => {
    const proxyDelay = `/proc/sys/net/ipv4/neigh/${lab.lanIf}/proxy_delay`;
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
    // It runs as run-as (every thread), with CAP_NET_ADMIN only, and still makes each
    // session's TUN device, addresses and neighbour entries.
    // Each session opens /dev/net/tun: where nobody cannot (0600 here, the kernel's
    // default is 0666), CAP_DAC_OVERRIDE stays too, and the log says why.
    const tunOpen = (statSync('/dev/net/tun').mode & 0o006) === 0o006;
    expect(gw.log()).toMatch(
      new RegExp(
        `privileges: kept CAP_NET_ADMIN ${tunOpen ? '' : 'and CAP_DAC_OVERRIDE '}only, now user nobody \\(65534\\), group nogroup \\(65534\\)`,
      ),
    );
    if (!tunOpen)
      expect(gw.log()).toMatch(/keeping CAP_DAC_OVERRIDE: uid 65534 cannot open \/dev\/net\/tun/);
    const pid = gw.child.pid!;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const t = procStatus(pid, task);
      expect(t.Uid?.split(/\s+/), `task ${task}`).toEqual(['65534', '65534', '65534', '65534']);
    }
    const main = procStatus(pid);
    const caps = tunOpen ? '0000000000001000' : '0000000000001002';
    expect(main.CapEff).toBe(caps);
    expect(main.CapBnd).toBe(caps);
    // The gateway saw who connected (SO_PEERCRED through sshd).
    expect(gw.log()).toMatch(new RegExp(`${users.alice}, uid \\d+\\): up: tsvg\\d+`));
    expect(gw.log()).toMatch(new RegExp(`${users.bob}, uid \\d+\\): up: tsvg\\d+`));

    // The LAN host has no route to the clients: only its connected /24.
    expect(lan.exec('ip', ['route']).trim().split('\n')).toEqual([
      `198.18.16.0/24 dev ${lab.lanHostIf} proto kernel scope link src ${LAN_HOST} `.trim(),
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

    // Stop (as nobody with CAP_NET_ADMIN): every interface, neighbour entry, the
    // forwarding change and the socket go away.
    expect(await gw.stop('SIGTERM')).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
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
      const p = lab.track(
        cli.spawn(
          NODE,
          [
            '--import',
            'tsx',
            join(REPO, 'test', 'e2e', 'gateway-ping-client.ts'),
            JSON.stringify({
              host: SERVER,
              port: lab.sshd.port,
              user: users.bob,
              key: lab.sshd.clientKeyPath,
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
    // Logged after the granted route's netlink request returns: wait for it too.
    await gw.waitFor(
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

  it('reads gateway.yaml again on SIGHUP: a newly listed user gets in, sessions up keep running, a broken file changes nothing', async () => {
    const body = (extraUsers: string, poolLine = `pool: ${POOL}`) =>
      `local-address: ${GW_LAN}
${poolLine}
unknown-users: refuse
users:
  ${users.alice}: { address: ${ALICE_ADDR} }
${extraUsers}lan-interface: ${lab.lanIf}
proxy-arp: true
forwarding: enable
echo-interval: 2
run-as: { user: nobody, group: nogroup }
`;
    const yaml = lab.gatewayYaml('gateway-reload.yaml', body(''));
    const gw = startGateway(yaml);
    await gw.waitFor(/gateway: listening on/);
    const a = up(users.alice);
    await a.waitFor(/tunnel up:/);

    // carol is listed (with a fixed address), and the pool line changes: the pool needs a restart.
    lab.gatewayYaml(
      'gateway-reload.yaml',
      body(`  ${users.carol}: { address: 198.18.16.115 }\n`, 'pool: 198.18.16.100-198.18.16.118'),
    );
    gw.child.kill('SIGHUP');
    await gw.waitFor(
      /gateway: reloaded .*gateway-reload\.yaml: 2 users, 0 groups, unknown users refused; for sessions that start from now on; not applied until a restart: pool\/pools/,
    );
    const c = up(users.carol, '', cli2);
    await c.waitFor(/tunnel up: \S+ 198\.18\.16\.115 /);
    expect(lan.exec('ping', ['-c', '1', '-W', '3', '198.18.16.115'])).toMatch(/1 received/);
    expect(lan.exec('ping', ['-c', '1', '-W', '3', ALICE_ADDR])).toMatch(/1 received/);

    // A broken file: the reason with its line, and the gateway serves on as it was.
    lab.gatewayYaml('gateway-reload.yaml', body(`  ${users.carol}: { pool: nope }\n`));
    gw.child.kill('SIGHUP');
    await gw.waitFor(
      /reload refused, still serving with the file as it was: .*gateway-reload\.yaml:\d+ users\.\S+\.pool: no pool named "nope"/,
    );

    // alice is no longer listed: her session keeps running, and the log says so.
    lab.gatewayYaml(
      'gateway-reload.yaml',
      body('').replace(`  ${users.alice}: { address: ${ALICE_ADDR} }\n`, `  ${users.carol}: {}\n`),
    );
    gw.child.kill('SIGHUP');
    await gw.waitFor(
      new RegExp(`1 session of users the file now refuses keep running \\(s\\d+ ${users.alice}\\)`),
    );
    expect(lan.exec('ping', ['-c', '1', '-W', '3', ALICE_ADDR])).toMatch(/1 received/);
    expect(await gw.stop()).toBe(0);
    await a.exited;
    await c.exited;
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
