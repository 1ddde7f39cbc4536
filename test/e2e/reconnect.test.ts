/**
 * End to end, staying up (issue 6): every way a link dies leads to the same recovery,
 * with the TUN device and routes kept meanwhile.
 *
 *  - the SSH connection is killed (sshd's per-connection process) in the middle of a TCP
 *    transfer: reconnect by itself, same address, the transfer completes intact;
 *  - SIGUSR1 toggles the debug log, SIGHUP reconnects at once;
 *  - the client's veth goes down for longer than the echo timeout: the route watch
 *    notices, retries back off, and the link comes back when the veth does;
 *  - the far end hangs (SIGSTOP): LCP echo failure, the new session gets another
 *    address, the interface is reconfigured and the hooks run again;
 *  - `status --json` and `down`: nothing left behind.
 *
 * Recovery times are printed (console.log) so they can be quoted.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab,
  LAN_ADDR,
  LAN_NET,
  type Lab,
  links,
  routes,
  tcpTransferAsync,
  type UpProcess,
  until,
} from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { ensureBuilt } from './ensure-built.js';

const enabled = requireNetns('e2e tests');

function tunnelAddr(log: string): string {
  return /tunnel up: \S+ (\S+) →/.exec(log)?.[1] ?? '';
}

function count(text: string, re: RegExp): number {
  return text.match(new RegExp(re.source, 'g'))?.length ?? 0;
}

describe.skipIf(!enabled)('staying up: reconnect after every kind of link loss', () => {
  let lab: Lab;
  let up: UpProcess;
  let hookLog = '';
  const ping = () => lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code;
  const status = () => {
    const r = lab.runCli(['status', lab.name, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  /** Complete hook runs recorded so far: [{hook, env, args}] */
  const hookRuns = () =>
    (existsSync(hookLog) ? readFileSync(hookLog, 'utf8') : '')
      .split('--- ')
      .filter(Boolean)
      .map((block) => {
        const [hook, ...lines] = block.trim().split('\n');
        const env: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf('=');
          if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
        }
        return { hook, env, args: lines.find((l) => l.startsWith('ARGS ')) ?? '' };
      })
      // A run counts once its block is complete (the script writes ARGS last); the
      // hook is not awaited by the tunnel, so a read can land mid-write.
      .filter((run) => run.args !== '');

  beforeAll(async () => {
    await ensureBuilt();
    lab = await createLab({ serverEchoInterval: 1, serverEchoFailures: 2 });
    hookLog = join(lab.dir, 'hooks.log');
    const script = join(lab.dir, 'hook.sh');
    writeFileSync(
      script,
      `#!/bin/sh\nkind=$1; shift\n{ echo "--- $kind"; env | sort; echo "ARGS $*"; } >> ${hookLog}\n`,
      { mode: 0o700 },
    );
    const peer = lab.writePeer('rc.yaml', {
      echoInterval: 1,
      echoFailures: 2,
      keepaliveInterval: 1,
      keepaliveCountMax: 2,
      extra: `reconnect:
  enabled: true
  holdoff: 0.5
  max-backoff: 2
hooks:
  up: sh ${script} up "$@"
  down: sh ${script} down "$@"
  timeout: 2
`,
    });
    up = await lab.startUp({ peerYaml: peer });
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('the up hook ran once with the pppd-style environment', async () => {
    await until(() => hookRuns().length >= 1, 5000, 'the up hook');
    const [run] = hookRuns();
    const addr = tunnelAddr(up.log());
    expect(run.hook).toBe('up');
    expect(run.env).toMatchObject({
      IFNAME: 'tsvpn0',
      IPLOCAL: addr,
      IPREMOTE: '10.77.0.1',
      DNS1: '198.18.16.53',
      USEPEERDNS: '1',
      TSVPN_NAME: lab.name,
      LINKNAME: lab.name,
      TSVPN_HOOK: 'up',
      TSVPN_PHASE: 'up',
      DEVICE: `ssh:198.18.0.2:${lab.sshd.port}`,
    });
    expect(run.env.LLLOCAL).toMatch(/^fe80::/);
    expect(run.args).toBe(`ARGS tsvpn0 ssh:198.18.0.2:${lab.sshd.port} 0 ${addr} 10.77.0.1`);
    // Nothing of ours leaks into hooks.
    expect(Object.keys(run.env).filter((k) => /SSH_AUTH|NOTIFY_SOCKET|VITEST/.test(k))).toEqual([]);
  });

  it('(a) SSH connection killed mid-transfer: back by itself, same address, routes kept, transfer intact', async () => {
    const addr = tunnelAddr(up.log());
    const before = lab.runCli(['status', lab.name]);
    console.log(`[reconnect] ts-vpn status before the fault:\n${before.stdout}`);
    const bytes = 120 * 1024 * 1024;
    const xfer = tcpTransferAsync(lab.cli, lab.lan, LAN_ADDR, bytes, 5011);
    try {
      await xfer.started;
      await new Promise((r) => setTimeout(r, 300));
      const killed = lab.sshd.killSessions('SIGKILL');
      const t0 = Date.now();
      expect(killed.length).toBeGreaterThan(0);
      // Routes and interface stay while reconnecting.
      await up.waitFor(/link lost: .*; reconnecting in [\d.]+ s \(attempt 1\)/, 10_000);
      expect(routes(lab.cli).find((r) => r.dst === LAN_NET)?.dev).toBe('tsvpn0');
      await up.waitFor(/reconnected in [\d.]+ s \(1 reconnect so far\)/, 20_000);
      const tUp = Date.now() - t0;
      const r = await xfer.done;
      const tDone = Date.now() - t0;
      expect(r.received.bytes).toBe(bytes);
      expect(r.received.sha256).toBe(r.sent.sha256);
      const after = lab.runCli(['status', lab.name]);
      const st = status();
      expect(st.reconnect.count).toBeGreaterThanOrEqual(1);
      expect(st.reconnect.lastRecoverMs).toBeGreaterThan(0);
      expect(st.reconnect.lastReason).toBeTruthy();
      expect(st.local).toBe(addr);
      expect(st.routes).toEqual([LAN_NET]);
      console.log(
        `[reconnect] SSH session killed mid-transfer: tunnel up again ${tUp} ms after the kill (status: recovered in ${st.reconnect.lastRecoverMs} ms, reason "${st.reconnect.lastReason}"); the ${bytes >> 20} MiB TCP transfer resumed and completed intact ${tDone} ms after the kill`,
      );
      console.log(`[reconnect] ts-vpn status after the forced reconnect:\n${after.stdout}`);
      const line = up.log().match(/link lost: .*\n/)?.[0] ?? '';
      console.log(`[reconnect] log: ${line.trim()}`);
    } finally {
      xfer.kill();
    }
    expect(tunnelAddr(up.log().split('link lost')[1] ?? '')).toBe(addr);
    expect(
      links(lab.cli)
        .filter((l) => l.ifname.startsWith('tsvpn'))
        .map((l) => l.ifname),
    ).toEqual(['tsvpn0']);
    // The down hook ran (phase reconnecting), then the up hook again.
    await until(() => hookRuns().length >= 3, 5000, 'hooks after the reconnect');
    const runs = hookRuns();
    expect(runs.map((r) => r.hook)).toEqual(['up', 'down', 'up']);
    expect(runs[1].env).toMatchObject({ TSVPN_PHASE: 'reconnecting', IPLOCAL: addr });
    expect(Number(runs[1].env.CONNECT_TIME)).toBeGreaterThanOrEqual(0);
    expect(Number(runs[1].env.BYTES_SENT)).toBeGreaterThan(0);
    // Exactly one serve session is left on the server.
    await until(() => lab.servePids().length === 1, 5000, 'one serve');
  }, 60_000);

  it('(e) SIGUSR1 toggles the debug log; SIGHUP reconnects at once', async () => {
    const n0 = count(up.log(), /sent \[LCP EchoReq/);
    process.kill(up.pid, 'SIGUSR1');
    await up.waitFor(/debug on \(SIGUSR1\)/, 3000);
    await until(() => count(up.log(), /sent \[LCP EchoReq/) > n0, 5000, 'debug lines');
    process.kill(up.pid, 'SIGUSR1');
    await up.waitFor(/debug off \(SIGUSR1\)/, 3000);
    await new Promise((r) => setTimeout(r, 300));
    const n1 = count(up.log(), /sent \[LCP EchoReq/);
    await new Promise((r) => setTimeout(r, 2200));
    expect(count(up.log(), /sent \[LCP EchoReq/)).toBe(n1);

    const before = status().reconnect.count;
    const t0 = Date.now();
    process.kill(up.pid, 'SIGHUP');
    await up.waitFor(/SIGHUP: reconnect requested: closing the link/, 3000);
    await until(
      () => status().reconnect.count === before + 1 && status().phase === 'up',
      15_000,
      'the SIGHUP reconnect',
    );
    console.log(`[reconnect] SIGHUP: up again in ${Date.now() - t0} ms`);
    expect(ping()).toBe(0);
  }, 30_000);

  it('(b) client veth down longer than the echo timeout, then up: detected and recovered', async () => {
    const veth = links(lab.cli).find((l) => l.ifname.startsWith('tvc'))!.ifname;
    const before = status().reconnect.count;
    const mark = up.log().length;
    lab.cli.exec('ip', ['link', 'set', veth, 'down']);
    const t0 = Date.now();
    try {
      await up.waitFor(/link lost: (network change|LCP: no reply|SSH connection lost)/, 10_000);
      const detectMs = Date.now() - t0;
      // Longer than echo-interval × echo-failures (2 s): the retries back off meanwhile.
      await new Promise((r) => setTimeout(r, 3500));
      expect(links(lab.cli).find((l) => l.ifname === 'tsvpn0')).toBeDefined();
      expect(status().phase).toBe('reconnecting');
      lab.cli.exec('ip', ['link', 'set', veth, 'up']);
      const t1 = Date.now();
      await until(() => status().phase === 'up', 20_000, 'the tunnel back up');
      const backMs = Date.now() - t1;
      const log = up.log().slice(mark);
      const detect = /link lost: (.*?);/.exec(log)?.[1];
      console.log(
        `[reconnect] veth down: detected in ${detectMs} ms (${detect}); after veth up, tunnel up again in ${backMs} ms`,
      );
      expect(status().reconnect.count).toBe(before + 1);
      await until(() => ping() === 0, 5000, 'ping after the veth came back');
    } finally {
      lab.cli.try('ip', ['link', 'set', veth, 'up']);
    }
    // The server noticed by LCP echo, ended the old session and removed its interface.
    await until(() => lab.servePids().length === 1, 10_000, 'one serve');
    await until(
      () => links(lab.srv).filter((l) => l.ifname.startsWith('tsvs')).length === 1,
      5000,
      'one server TUN',
    );
  }, 40_000);

  it('far end hangs (SIGSTOP): LCP echo failure, another address, clean reconfiguration, hooks again', async () => {
    const oldAddr = tunnelAddr(up.log().slice(up.log().lastIndexOf('tunnel up:')));
    const [stuck] = lab.servePids();
    const hooksBefore = hookRuns().length;
    const mark = up.log().length;
    const since = () => up.log().slice(mark);
    const t0 = Date.now();
    process.kill(stuck, 'SIGSTOP');
    try {
      await until(
        () => /link lost: LCP: no reply to 2 echo-requests; reconnecting/.test(since()),
        10_000,
        'the echo failure',
      );
      const detectMs = Date.now() - t0;
      // The stopped session still holds its lease: the server assigns another address.
      await until(() => /far end changed the addresses: /.test(since()), 15_000, 'the new address');
      await until(() => status().phase === 'up', 10_000, 'up again');
      console.log(
        `[reconnect] far end stopped: LCP echo failure detected in ${detectMs} ms, up again with a new address in ${Date.now() - t0} ms`,
      );
    } finally {
      process.kill(stuck, 'SIGCONT');
    }
    const st = status();
    expect(st.local).not.toBe(oldAddr);
    const addrs = lab.cli.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'tsvpn0']);
    expect(addrs).toContain(`inet ${st.local} peer 10.77.0.1/32`);
    expect(addrs).not.toContain(`inet ${oldAddr} `);
    expect(routes(lab.cli).find((r) => r.dst === LAN_NET)?.dev).toBe('tsvpn0');
    expect(ping()).toBe(0);
    await until(() => hookRuns().length >= hooksBefore + 2, 5000, 'hooks');
    const runs = hookRuns().slice(hooksBefore);
    expect(runs[0]).toMatchObject({ hook: 'down', env: { IPLOCAL: oldAddr } });
    expect(runs[1]).toMatchObject({ hook: 'up', env: { IPLOCAL: st.local } });
    // The resumed far end sees its stdin closed and exits, removing its interface.
    await until(() => !lab.servePids().includes(stuck), 10_000, 'the stopped serve to exit');
  }, 40_000);

  it('(c) `status --json` then `down`: nothing left behind', async () => {
    const st = status();
    expect(st).toMatchObject({ phase: 'up', interface: 'tsvpn0', routes: [LAN_NET] });
    expect(st.reconnect.count).toBeGreaterThanOrEqual(4);
    expect(existsSync(join(lab.dir, 'peer-resolv.conf'))).toBe(true);
    const hooksBefore = hookRuns().length;
    const d = lab.runCli(['down', lab.name]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(`tunnel ${lab.name} is down`);
    expect((await up.exited).code).toBe(0);
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
    expect(routes(lab.cli).map((r) => r.dst)).toEqual(['198.18.0.0/30']);
    expect(existsSync(join(lab.stateDir, lab.name))).toBe(false);
    expect(existsSync(join(lab.dir, 'peer-resolv.conf'))).toBe(false);
    await until(() => lab.servePids().length === 0, 5000, 'serve to exit');
    await until(() => !links(lab.srv).some((l) => l.ifname.startsWith('tsvs')), 5000, 'server TUN');
    const last = hookRuns().slice(hooksBefore);
    expect(last.map((r) => r.hook)).toEqual(['down']);
    expect(last[0].env.TSVPN_PHASE).toBe('stopping');
    expect(lab.runCli(['status', lab.name]).code).toBe(9);
  }, 30_000);
});
