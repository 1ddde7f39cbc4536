/**
 * End to end, issue 14 ("Bad input"): one `ts-vpn gateway` behind a real sshd
 * keeps one well-behaved session up and answering pings while other clients on
 * the same gateway flood it, never finish LCP, send garbage, or connect and
 * vanish (100 of them). After each case: the good session still pings, the
 * gateway is alive, the case is counted in `ts-vpn status --json`, and the
 * gateway's open fds, tsvg* interfaces and pool addresses are back where they were.
 * The clients are one ssh2 process (gateway-abuse-client.ts) in a client namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayLab,
  type GatewayLab,
  GW_LAN,
  type Proc,
  SERVER,
} from '../support/gateway-lab.js';
import { CLI, NODE, REPO } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';

const enabled = requireNetns('gateway abuse e2e tests');

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
  let lab: GatewayLab;
  let gw: Proc;
  let driver: ChildProcess | null = null;
  let replies: AsyncIterator<string>;
  let rl: Interface | null = null;

  const status = (): GwStatus => lab.status<GwStatus>();
  const footprint = (pid: number) => ({
    fds: readdirSync(`/proc/${pid}/fd`).length,
    tsvg: (lab.srv.exec('ip', ['-o', 'link']).match(/tsvg\d+/g) ?? []).length,
    addressesHeld: status().addressesHeld,
    sessions: status().sessions.length,
  });
  const send = async (cmd: string): Promise<Record<string, unknown>> => {
    driver!.stdin!.write(`${cmd}\n`);
    const r = await replies.next();
    if (r.done) throw new Error(`client driver exited; gateway log:\n${gw.log()}`);
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
    expect(gw.child.exitCode).toBeNull();
    expect(() => process.kill(pid, 0)).not.toThrow();
  };

  beforeAll(async () => {
    lab = await createGatewayLab({ tag: 'tvgx', roles: ['u'] });
    const user = lab.users.u!;
    gw = lab.startGateway(
      lab.gatewayYaml(
        'gateway.yaml',
        `local-address: ${GW_LAN}
pool: ${POOL}
unknown-users: refuse
users:
  ${user}: { max-sessions: 200 }
lan-interface: ${lab.lanIf}
proxy-arp: true
forwarding: enable
echo-interval: 2
`,
      ),
    );
    await gw.waitFor(/gateway: listening on/, 20_000);
    driver = lab.cli.spawn(
      NODE,
      [
        '--import',
        'tsx',
        join(REPO, 'test', 'e2e', 'gateway-abuse-client.ts'),
        JSON.stringify({
          host: SERVER,
          port: lab.sshd.port,
          user,
          key: lab.sshd.clientKeyPath,
          socket: lab.socketPath,
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
    // SIGTERM first: the gateway removes what it added (the lab then kills what is left).
    if (gw) await Promise.race([gw.stop('SIGTERM'), sleep(10_000)]);
    await lab?.destroy();
  });

  it('keeps the good session pinging through a flood, a silent client, garbage and 100 vanishing clients, counts each, and leaks nothing', async () => {
    const first = await replies.next();
    expect(first.done, `client driver did not come up; gateway log:\n${gw.log()}`).toBe(false);
    expect(JSON.parse(first.value)).toMatchObject({ ready: true, peer: GW_LAN });
    const s0 = await settle((s) => s.sessions.length === 1 && s.sessions[0]!.state === 'up');
    expect(s0.sessions[0]?.state, gw.log()).toBe('up');
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
    const text = lab.srv.exec(NODE, [CLI, 'status', '--state-dir', lab.gwState]);
    expect(text).toMatch(/ended since start: .*garbage \d+/);
    expect(text).toMatch(/bad frames from ended sessions: \d+/);

    expect(await send('quit')).toEqual({ ok: true });
  }, 180_000);
});
