/**
 * End to end, issue 14 ("Bad input"): one `ts-vpn gateway` behind a real sshd
 * keeps one well-behaved session up and answering pings while other clients on
 * the same gateway flood it, never finish LCP, send garbage, or connect and
 * vanish (100 of them). After each case: the good session still pings, the
 * gateway is alive, the case is counted in `ts-vpn status --json`, and the
 * gateway's open fds, tsvg* interfaces and pool addresses are back where they were.
 * The clients are one ssh2 process (gateway-abuse-client.ts) in a client namespace.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NODE, REPO } from '../support/lab.js';
import { createNetns, linkNetns, type Netns, requireNetns, uniqueId } from '../support/netns.js';
import { type Sshd, startSshd } from '../support/sshd.js';

const enabled = requireNetns('gateway abuse e2e tests');

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';
const GW_LAN = '198.18.16.1';
const LAN_HOST = '198.18.16.2';
const POOL = '198.18.16.100-198.18.16.250';

interface GwStatus {
  pid: number;
  sessions: { id: string; state: string; badFrames: number }[];
  ended: Record<string, number>;
  endedBadFrames: number;
  addressesHeld: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);

describe.skipIf(!enabled)('ts-vpn gateway under bad clients', () => {
  const id = uniqueId();
  const user = `tvgx${id}`;
  const group = `tvgx${id}`;
  let dir = '';
  let cli: Netns;
  let srv: Netns;
  let lan: Netns;
  let sshd: Sshd;
  let gwState = '';
  let gw: ChildProcess | null = null;
  let gwLog = '';
  let driver: ChildProcess | null = null;
  let replies: AsyncIterator<string>;
  let rl: Interface | null = null;

  const status = (): GwStatus =>
    JSON.parse(srv.exec(NODE, [CLI, 'status', '--json', '--state-dir', gwState])) as GwStatus;
  const footprint = (pid: number) => ({
    fds: readdirSync(`/proc/${pid}/fd`).length,
    tsvg: (srv.exec('ip', ['-o', 'link']).match(/tsvg\d+/g) ?? []).length,
    addressesHeld: status().addressesHeld,
    sessions: status().sessions.length,
  });
  const send = async (cmd: string): Promise<Record<string, unknown>> => {
    driver!.stdin!.write(`${cmd}\n`);
    const r = await replies.next();
    if (r.done) throw new Error(`client driver exited; gateway log:\n${gwLog}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  /** Polls status until `ok` (at most `ms`); returns the last status. */
  const settle = async (ok: (s: GwStatus) => boolean, ms = 20_000): Promise<GwStatus> => {
    const until = Date.now() + ms;
    let s = status();
    while (!ok(s) && Date.now() < until) {
      await sleep(250);
      s = status();
    }
    return s;
  };
  const alive = (pid: number) => {
    expect(gw!.exitCode).toBeNull();
    expect(() => process.kill(pid, 0)).not.toThrow();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `tvgx-${id}-`));
    chmodSync(dir, 0o755);
    execFileSync('groupadd', [group]);
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
      user,
    ]);
    cli = createNetns(`tvgx-c-${id}`);
    srv = createNetns(`tvgx-s-${id}`);
    lan = createNetns(`tvgx-l-${id}`);
    linkNetns(cli, `${CLIENT}/30`, srv, `${SERVER}/30`, `tvxc${id}`);
    linkNetns(srv, `${GW_LAN}/24`, lan, `${LAN_HOST}/24`, `tvxl${id}`);
    const keys = join(dir, 'authorized_keys');
    sshd = await startSshd({
      ns: srv.name,
      listenAddress: SERVER,
      port: 2222,
      extraConfig: `Match Group ${group}\n  AuthorizedKeysFile ${keys}\n`,
    });
    writeFileSync(keys, execFileSync('ssh-keygen', ['-y', '-f', sshd.clientKeyPath]), {
      mode: 0o644,
    });
    const socketPath = join(dir, 'run', 'gateway.sock');
    gwState = join(dir, 'gw-state');
    const gwYaml = join(dir, 'gateway.yaml');
    writeFileSync(
      gwYaml,
      `socket: { path: ${socketPath}, group: ${group}, mode: "0660" }
local-address: ${GW_LAN}
pool: ${POOL}
unknown-users: refuse
users:
  ${user}: { max-sessions: 200 }
lan-interface: tvxl${id}a
proxy-arp: true
forwarding: enable
echo-interval: 2
state-dir: ${gwState}
`,
    );
    gw = srv.spawn(NODE, [CLI, 'gateway', gwYaml, '--state-dir', gwState], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gw.stdout!.on('data', (d: Buffer) => (gwLog += d.toString()));
    gw.stderr!.on('data', (d: Buffer) => (gwLog += d.toString()));
    for (let i = 0; i < 200 && !/gateway: listening on/.test(gwLog); i++) await sleep(100);
    expect(gwLog).toMatch(/gateway: listening on/);
    driver = cli.spawn(
      NODE,
      [
        '--import',
        'tsx',
        join(REPO, 'test', 'e2e', 'gateway-abuse-client.ts'),
        JSON.stringify({
          host: SERVER,
          port: sshd.port,
          user,
          key: sshd.clientKeyPath,
          socket: socketPath,
        }),
      ],
      { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    rl = createInterface({ input: driver.stdout! });
    replies = rl[Symbol.asyncIterator]();
  });

  afterAll(async () => {
    if (driver && driver.exitCode === null) driver.kill('SIGKILL');
    rl?.close();
    if (gw && gw.exitCode === null) {
      gw.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(r, 10_000);
        gw!.once('exit', () => r(clearTimeout(t)));
      });
    }
    await sshd?.stop().catch(() => undefined);
    for (const ns of [cli, srv, lan]) ns?.destroy();
    try {
      execFileSync('userdel', [user], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
    try {
      execFileSync('groupdel', [group], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the good session pinging through a flood, a silent client, garbage and 100 vanishing clients, counts each, and leaks nothing', async () => {
    const first = await replies.next();
    expect(first.done, `client driver did not come up; gateway log:\n${gwLog}`).toBe(false);
    expect(JSON.parse(first.value)).toMatchObject({ ready: true, peer: GW_LAN });
    const s0 = await settle((s) => s.sessions.length === 1 && s.sessions[0]!.state === 'up');
    expect(s0.sessions[0]?.state, gwLog).toBe('up');
    expect(await send('ping')).toEqual({ ok: true });
    const pid = s0.pid;
    const base = footprint(pid);
    expect(base).toMatchObject({ tsvg: 1, addressesHeld: 1, sessions: 1 });
    let ended = sum(s0.ended);
    let badFrames = s0.endedBadFrames;

    /** After a case: the good session pings, the gateway lives, `n` more ended, nothing held. */
    const after = async (n: number) => {
      const s = await settle((x) => sum(x.ended) >= ended + n && x.sessions.length === 1);
      expect(sum(s.ended) - ended).toBe(n);
      ended = sum(s.ended);
      expect(await send('ping')).toEqual({ ok: true });
      alive(pid);
      expect(footprint(pid)).toEqual(base);
      return s;
    };

    // (a) flood: flag-delimited random frames as fast as the channel takes (2 s / 50 MB).
    const f = await send('flood');
    expect(f.sent as number).toBeGreaterThan(0);
    let s = await after(1);
    expect(s.endedBadFrames).toBeGreaterThan(badFrames);
    badFrames = s.endedBadFrames;

    // (b) a client that opens the channel and never speaks: dropped by the negotiation bound (30 s).
    const timeouts = s.ended['negotiation-timeout'] ?? 0;
    expect(await send('no-lcp')).toEqual({ held: 1 });
    for (let i = 0; i < 20; i++) {
      await sleep(2000);
      expect(await send('ping')).toEqual({ ok: true });
      if ((status().ended['negotiation-timeout'] ?? 0) > timeouts) break;
    }
    s = await after(1);
    expect(s.ended['negotiation-timeout']).toBe(timeouts + 1);
    await send('release');

    // (c) garbage: random bytes (64 KiB, at most 0.5 s).
    const garbage = s.ended.garbage ?? 0;
    await send('garbage');
    s = await after(1);
    expect(s.endedBadFrames).toBeGreaterThan(badFrames);
    expect(s.ended.garbage).toBe(garbage + 1);

    // (d) 100 clients that open the channel and close at once, half of them right after
    // writing 8 random bytes: each writer's session ends as garbage, each silent one as
    // vanished. (sshd passes the bytes on before it closes the socket; a writer is often
    // gone before the gateway's first frame, whose write then fails with EPIPE, and the
    // gateway still reads what was queued: src/gateway/socket-stream.ts. Before that, a
    // loaded machine counted as few as 1 of the 50 writers as garbage: 1, 38, 45, 48.)
    const before = { garbage: s.ended.garbage ?? 0, vanished: s.ended.vanished ?? 0 };
    expect(await send('vanish')).toEqual({ vanished: 100, wroteGarbage: 50 });
    s = await after(100);
    expect((s.ended.garbage ?? 0) - before.garbage).toBe(50);
    expect((s.ended.vanished ?? 0) - before.vanished).toBe(50);
    const text = srv.exec(NODE, [CLI, 'status', '--state-dir', gwState]);
    expect(text).toMatch(/ended since start: .*garbage \d+/);
    expect(text).toMatch(/bad frames from ended sessions: \d+/);

    expect(await send('quit')).toEqual({ ok: true });
  }, 180_000);
});
