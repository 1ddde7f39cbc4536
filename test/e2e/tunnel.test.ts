/**
 * End to end: `ts-vpn up` in a client namespace ↔ real sshd ↔ `ts-vpn serve` in a server
 * namespace, with a LAN namespace behind the server (test/support/lab.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_CACHE } from '../support/installed.js';
import {
  CLI,
  CLIENT_ADDR,
  createLab,
  LAN_ADDR,
  LAN_NET,
  type Lab,
  links,
  routes,
  SERVER_PPP_ADDR,
  tcpTransfer,
  type UpProcess,
  until,
} from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { ensureBuilt } from './ensure-built.js';

const enabled = requireNetns('e2e tests');

describe.skipIf(!enabled)('ts-vpn up ↔ ts-vpn serve over real sshd', () => {
  let lab: Lab;
  let up: UpProcess;
  let clientAddr = '';

  beforeAll(async () => {
    await ensureBuilt();
    lab = await createLab();
    up = await lab.startUp();
    const m = /tunnel up: (\S+) (\S+) → (\S+)/.exec(up.log());
    clientAddr = m?.[2] ?? '';
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('prints progress with timings: ssh connect, auth, LCP, IPCP, tunnel up', () => {
    const log = up.log();
    expect(log).toMatch(/connecting to root@198\.18\.0\.2:2222 …/);
    expect(log).toMatch(
      /ssh: connected in \d+ ms \(aes128-gcm@openssh\.com, host key SHA256:\S+ verified by known_hosts \S+:1\)/,
    );
    expect(log).toMatch(/ssh: authenticated as root \(publickey\) in \d+ ms/);
    expect(log).toMatch(/ppp: LCP up \(mru 1500, peer mru 1500\) in \d+ ms/);
    expect(log).toMatch(/ppp: IPCP up: local 10\.77\.0\.\d+ peer 10\.77\.0\.1 dns 198\.18\.16\.53/);
    expect(log).toMatch(
      /tunnel up: tsvpn0 10\.77\.0\.\d+ → 10\.77\.0\.1, mtu 1500, routes 198\.18\.16\.0\/24, in \d+ ms total/,
    );
    expect(clientAddr).toMatch(/^10\.77\.0\.\d+$/);
  });

  it('configures the client interface and route, and the server interface', () => {
    const tun = links(lab.cli).find((l) => l.ifname === 'tsvpn0');
    expect(tun?.mtu).toBe(1500);
    expect(routes(lab.cli).find((r) => r.dst === LAN_NET)?.dev).toBe('tsvpn0');
    const addr = lab.cli.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'tsvpn0']);
    expect(addr).toContain(`inet ${clientAddr} peer ${SERVER_PPP_ADDR}/32`);
    const srvTun = links(lab.srv).find((l) => l.ifname.startsWith('tsvs'));
    expect(srvTun).toBeDefined();
  });

  it('pings the server PPP address and the LAN host through the tunnel', () => {
    expect(lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', SERVER_PPP_ADDR]).code).toBe(0);
    const r = lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', LAN_ADDR]);
    expect(r.stdout).toMatch(/2 received/);
  });

  it('the LAN host reaches the client tunnel address (return route via the server)', () => {
    const r = lab.lan.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', clientAddr]);
    expect(r.stdout).toMatch(/2 received/);
    // …and the server reaches the client over the PPP link.
    expect(lab.srv.try('ping', ['-c', '1', '-W', '2', clientAddr]).code).toBe(0);
  });

  it('pings the far end over IPv6 link-local (IPv6CP interface identifiers)', async () => {
    await until(
      () => lab.cli.exec('ip', ['-6', '-o', 'addr', 'show', 'dev', 'tsvpn0']).includes('fe80::'),
      5000,
      'fe80 address',
    );
    const srvIf = links(lab.srv).find((l) => l.ifname.startsWith('tsvs'))!.ifname;
    const srvLl = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(
      lab.srv.exec('ip', ['-6', '-o', 'addr', 'show', 'dev', srvIf]),
    )?.[1];
    expect(srvLl).toBeDefined();
    const r = lab.cli.try('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', `${srvLl}%tsvpn0`]);
    expect(r.stdout).toMatch(/2 received/);
  });

  it('carries a 50 MB TCP transfer to the LAN host intact (sha256)', async () => {
    const r = await tcpTransfer(lab.cli, lab.lan, LAN_ADDR, 50 * 1024 * 1024);
    expect(r.received.bytes).toBe(50 * 1024 * 1024);
    expect(r.received.sha256).toBe(r.sent.sha256);
    console.log(`[e2e] 50 MiB client → LAN through the tunnel: ${r.mbps.toFixed(0)} Mbit/s`);
  }, 90_000);

  it('`ts-vpn status` shows the tunnel (list, table and --json)', () => {
    const list = lab.runCli(['status']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^NAME\s+PHASE\s+INTERFACE\s+LOCAL\s+PEER\s+IN\s+OUT\s+RECONNECTS$/m,
    );
    expect(list.stdout).toMatch(
      new RegExp(
        `^${lab.name}\\s+up for \\S+\\s+tsvpn0\\s+${clientAddr}\\s+10\\.77\\.0\\.1\\s`,
        'm',
      ),
    );
    const t = lab.runCli(['status', lab.name]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^tunnel ${lab.name} \\(pid \\d+\\): up for `));
    expect(t.stdout).toMatch(/interface\s+tsvpn0, mtu 1500/);
    expect(t.stdout).toMatch(/ipv4\s+10\.77\.0\.\d+ → 10\.77\.0\.1/);
    expect(t.stdout).toMatch(/echo\s+(rtt [\d.]+ ms|no reply yet) \(\d+\/\d+ answered\)/);
    const j = lab.runCli(['status', lab.name, '--json']);
    expect(j.code).toBe(0);
    const st = JSON.parse(j.stdout);
    expect(st).toMatchObject({
      name: lab.name,
      phase: 'up',
      interface: 'tsvpn0',
      local: clientAddr,
      peer: SERVER_PPP_ADDR,
      reconnect: { count: 0, lastReason: null, attempt: null },
      ssh: { remote: `root@198.18.0.2:${lab.sshd.port}`, cipher: 'aes128-gcm@openssh.com' },
    });
    expect(st.routes).toEqual([LAN_NET]);
    // The 50 MB transfer above went out: as TCP super-packets (GSO frames), so in
    // far fewer packets than 1500-byte segments would take.
    expect(st.tx.bytes).toBeGreaterThan(50 * 1024 * 1024);
    expect(st.tx.packets).toBeGreaterThan(100);
    // Both ends are ts-vpn with offload on (the default): GSO frames were negotiated.
    expect(st.offload).toMatchObject({ gso: true });
    expect(st.offload.superPacketsOut).toBeGreaterThan(100);
    expect(st.rx.bytes).toBeGreaterThan(0);
    expect(st.drops).toMatchObject({ total: expect.any(Number), causes: expect.any(Object) });
    expect(st.errors.total).toBe(0);
    expect(st.ipv6?.local).toMatch(/^fe80::/);
    const all = JSON.parse(lab.runCli(['status', '--json']).stdout);
    expect(all.map((s: { name: string }) => s.name)).toEqual([lab.name]);
  });

  it('both ends run the installed package (npm pack + npm install -g)', () => {
    expect(CLI.startsWith(`${INSTALL_CACHE}/`)).toBe(true);
    expect(CLI).toMatch(/\/bin\/ts-vpn$/);
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline(up.pid)).toContain(CLI);
    expect(lab.servePids().map((p) => cmdline(p).includes(CLI))).toEqual([true]);
  });

  it('status / down as a user without root say root is needed (exit 10) and leave the tunnel up', () => {
    for (const args of [['status'], ['status', '--json'], ['status', lab.name], ['down']]) {
      const r = lab.runCli(args, { asNobody: true });
      expect(r.code, args.join(' ')).toBe(10);
      expect(r.stderr).toMatch(new RegExp(`^ts-vpn: ${args[0]} needs root: `));
      expect(r.stderr).not.toContain('no tunnel');
    }
    expect(lab.runCli(['status', lab.name]).code).toBe(0);
  });

  it('SIGTERM tears down both ends: no interface, route or serve process left', async () => {
    expect(lab.servePids().length).toBe(1);
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expect(up.log()).toMatch(/removed tsvpn0 and routes 198\.18\.16\.0\/24/);
    expect(
      links(lab.cli)
        .map((l) => l.ifname)
        .filter((n) => n.startsWith('tsvpn')),
    ).toEqual([]);
    expect(routes(lab.cli).map((r) => r.dst)).not.toContain(LAN_NET);
    await until(() => lab.servePids().length === 0, 5000, 'serve to exit');
    await until(
      () => !links(lab.srv).some((l) => l.ifname.startsWith('tsvs')),
      5000,
      'server TUN to go',
    );
    // The client namespace is back to its veth route only.
    expect(routes(lab.cli).map((r) => r.dst)).toEqual(['198.18.0.0/30']);
    const none = lab.runCli(['status']);
    expect(none.code).toBe(9);
    expect(none.stdout).toBe('no tunnel is running\n');
    void CLIENT_ADDR;
  });
});
