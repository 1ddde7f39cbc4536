/**
 * End to end: two tunnels at once against one server get distinct pool addresses,
 * `ts-vpn down <name>` stops one gracefully, and a lost link reconnects keeping its address.
 */
import { describe, expect, it } from 'vitest';
import { LAN_ADDR, links, routes, until } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

function tunnelAddr(log: string): string {
  return /tunnel up: \S+ (\S+) →/.exec(log)?.[1] ?? '';
}

describe.skipIf(!enabled)('several sessions against one ts-vpn serve', () => {
  const lab = useLab();

  it('two tunnels get distinct addresses from the pool and both carry traffic; down stops one', async () => {
    const a = await lab.startUp();
    const peerB = lab.writePeer('b.yaml', { name: `b-${lab.id}`, interface: 'tvb%d', routes: [] });
    const b = await lab.startUp({ peerYaml: peerB });
    const addrA = tunnelAddr(a.log());
    const addrB = tunnelAddr(b.log());
    expect(addrA).toMatch(/^10\.77\.0\.\d+$/);
    expect(addrB).toMatch(/^10\.77\.0\.\d+$/);
    expect(addrA).not.toBe(addrB);
    expect(lab.servePids().length).toBe(2);
    // The LAN host reaches both client addresses through the server.
    expect(lab.lan.try('ping', ['-c', '1', '-W', '2', addrA]).code).toBe(0);
    expect(lab.lan.try('ping', ['-c', '1', '-W', '2', addrB]).code).toBe(0);
    const st = lab.runCli(['status', '--json']);
    expect(
      JSON.parse(st.stdout)
        .map((s: { local: string }) => s.local)
        .sort(),
    ).toEqual([addrA, addrB].sort());
    // `down` without a name is ambiguous now.
    expect(lab.runCli(['down']).code).toBe(2);
    const d = lab.runCli(['down', `b-${lab.id}`]);
    expect(d.stdout).toContain(`tunnel b-${lab.id} is down`);
    expect(d.code).toBe(0);
    expect((await b.exited).code).toBe(0);
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tvb'))).toBe(false);
    await until(() => lab.servePids().length === 1, 5000, 'one serve to exit');
    expect((await a.stop('SIGTERM')).code).toBe(0);
  }, 90_000);

  it('reconnects after the far end dies, keeping the interface, route and address', async () => {
    const peer = lab.writePeer('rc.yaml', {
      name: `rc-${lab.id}`,
      extra: 'reconnect:\n  enabled: true\n  holdoff: 0.2\n  max-backoff: 2',
    });
    const up = await lab.startUp({ peerYaml: peer });
    const addr = tunnelAddr(up.log());
    await until(() => lab.servePids().length === 1, 5000, 'serve to run');
    // Kill the far end (server-side crash): the channel closes, the link is lost.
    for (const pid of lab.servePids()) process.kill(pid, 'SIGKILL');
    await up.waitFor(/reconnected in [\d.]+ s \(1 reconnect so far\)/, 20_000);
    expect(up.log()).toMatch(/link lost: /);
    const again = up.log().split('link lost')[1];
    expect(tunnelAddr(again)).toBe(addr);
    expect(links(lab.cli).filter((l) => l.ifname.startsWith('tsvpn')).length).toBe(1);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    const st = JSON.parse(lab.runCli(['status', `rc-${lab.id}`, '--json']).stdout);
    expect(st.reconnect.count).toBe(1);
    expect(st.reconnect.lastReason).toMatch(/remote command|far end|channel/);
    // SIGHUP: drop the link and reconnect at once.
    process.kill(up.pid, 'SIGHUP');
    await up.waitFor(/reconnected in [\d.]+ s \(2 reconnects so far\)/, 20_000);
    expect(up.log()).toMatch(/SIGHUP: reconnect requested: closing the link/);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    expect((await up.stop('SIGTERM')).code, up.log()).toBe(0);
  }, 60_000);

  it('default-route: split default through the tunnel plus a host route to the SSH server; a crash leaves the host route, the next run removes it', async () => {
    const peer = lab.writePeer('def.yaml', {
      name: `def-${lab.id}`,
      routes: [],
      extra: 'default-route: true\nreconnect:\n  enabled: false',
    });
    const up = await lab.startUp({ peerYaml: peer });
    const dsts = () => routes(lab.cli).map((r) => r.dst);
    expect(dsts()).toEqual(expect.arrayContaining(['0.0.0.0/1', '128.0.0.0/1', '198.18.0.2']));
    expect(routes(lab.cli).find((r) => r.dst === '0.0.0.0/1')?.dev).toBe('tsvpn0');
    expect(routes(lab.cli).find((r) => r.dst === '198.18.0.2')?.dev).toMatch(/^tvc/);
    // Everything now goes through the tunnel, the SSH connection itself around it.
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    await up.stop('SIGKILL');
    expect(dsts()).toEqual(['198.18.0.0/30', '198.18.0.2']); // the tunnel routes went with the device
    const again = await lab.startUp({ peerYaml: peer });
    expect(again.log()).toMatch(
      /previous run \(pid \d+\) did not exit cleanly: removed its routes 198\.18\.0\.2\/32/,
    );
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    expect((await again.stop('SIGTERM')).code).toBe(0);
    expect(dsts()).toEqual(['198.18.0.0/30']);
  }, 60_000);
});
