/**
 * A hostile far end cannot take over a network the client already reaches (issue 15
 * item 1, src/runtime/route-guard.ts). The client namespace gets a "LAN": a dummy
 * interface with 192.168.1.2/24 (its gateway 192.168.1.1) and a non-default route
 * 172.16.9.0/24 via 192.168.1.1. The far end (test/faults/hostile-peer.mjs `claim`,
 * over the real sshd) claims the LAN gateway as its own address, assigns the client a
 * LAN address, or hands out a DNS server behind the LAN route. With the default
 * accept-local/accept-peer (the private ranges, which contain all of these), each is
 * refused with the address and the route named; an explicit accept-peer entry for the
 * LAN lets the gateway address through (the user asked for it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NODE, REPO, routes } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('LAN capture tests');
const HOSTILE = join(REPO, 'test', 'faults', 'hostile-peer.mjs');
const GATEWAY = '192.168.1.1';

describe.skipIf(!enabled)('far end claiming addresses of networks the client reaches', () => {
  const lab = useLab();
  let lanIf = '';

  beforeAll(() => {
    lanIf = `tvd${lab.id}`;
    // A veth pair inside the client namespace (no dummy module here); the far side idles.
    lab.cli.exec('ip', ['link', 'add', lanIf, 'type', 'veth', 'peer', 'name', `tve${lab.id}`]);
    lab.cli.exec('ip', ['addr', 'add', '192.168.1.2/24', 'dev', lanIf]);
    lab.cli.exec('ip', ['link', 'set', `tve${lab.id}`, 'up']);
    lab.cli.exec('ip', ['link', 'set', lanIf, 'up']);
    lab.cli.exec('ip', ['route', 'add', '172.16.9.0/24', 'via', GATEWAY]);
  });

  /** Runs `up` against the `claim` far end; `accept` replaces the lab's accept-* lines. */
  async function claim(name: string, addrs: [string, string, string], accept = '', ms = 20_000) {
    const path = lab.writePeer(`${name}.yaml`, {
      name: `${name}-${lab.id}`,
      remoteCommand: `${NODE} ${HOSTILE} claim ${addrs.join(' ')}`,
      ppp: '  restart: 1\n  max-configure: 4',
    });
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(
        / {2}accept-local: \[[^\]]*\]\n {2}accept-peer: \[[^\]]*\]\n/,
        accept,
      ),
    );
    const up = await lab.startUp({ peerYaml: path, wait: false });
    const tunnelRoutes = new Set<string>();
    let exited: { code: number | null } | null = null;
    void up.exited.then((r) => {
      exited = r;
    });
    const t0 = Date.now();
    while (exited === null && Date.now() - t0 < ms) {
      for (const r of routes(lab.cli)) if (r.dev?.startsWith('tsvpn')) tunnelRoutes.add(r.dst);
      if (/tunnel up:/.test(up.log())) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { up, tunnelRoutes, exited: () => exited };
  }

  function lanIntact(): void {
    const rs = routes(lab.cli);
    expect(rs.find((r) => r.dst === '192.168.1.0/24')?.dev).toBe(lanIf);
    expect(rs.find((r) => r.dst === '172.16.9.0/24')?.gateway).toBe(GATEWAY);
    expect(rs.filter((r) => r.dev?.startsWith('tsvpn'))).toEqual([]);
  }

  it("the far end claims the client's LAN gateway as its address: refused, the address and the LAN route named, never routed into the tunnel", async () => {
    const { up, tunnelRoutes, exited } = await claim('gw', [GATEWAY, '10.77.0.2', '10.77.0.53']);
    await up.exited;
    const log = up.log();
    expect(log).toContain(
      `refusing peer address ${GATEWAY} from the far end: it lies in 192.168.1.0/24 dev ${lanIf}, which this host reaches without the tunnel`,
    );
    expect(log).toContain(`list it in ppp.accept-peer, e.g. ${GATEWAY}/32`);
    expect(log).not.toMatch(/tunnel up:/);
    expect(exited()?.code).toBe(6);
    expect([...tunnelRoutes]).not.toContain(GATEWAY);
    lanIntact();
  }, 40_000);

  it('the far end assigns the client an address inside its LAN: refused, named', async () => {
    const { up, exited } = await claim('local', ['10.77.0.1', '192.168.1.7', '10.77.0.53']);
    await up.exited;
    const log = up.log();
    expect(log).toContain(
      `refusing local address 192.168.1.7 from the far end: it lies in 192.168.1.0/24 dev ${lanIf}`,
    );
    expect(log).toContain('list it in ppp.accept-local');
    expect(exited()?.code).toBe(6);
    expect(lab.cli.exec('ip', ['-4', 'addr'])).not.toContain('192.168.1.7');
    lanIntact();
  }, 40_000);

  it('a DNS server behind a LAN route: dropped and named; the tunnel comes up without it', async () => {
    const { up } = await claim('dns', ['10.77.0.1', '10.77.0.2', '172.16.9.53']);
    await up.waitFor(/tunnel up:/, 20_000);
    const log = up.log();
    expect(log).toContain(
      `refusing DNS server 172.16.9.53 from the far end: it lies in 172.16.9.0/24 via ${GATEWAY} dev ${lanIf}`,
    );
    expect(log).toMatch(/dns: the peer gave no DNS servers/);
    expect(() => readFileSync(join(lab.dir, 'dns-resolv.conf'), 'utf8')).toThrow();
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    lanIntact();
  }, 40_000);

  it('an explicit accept-peer entry for the LAN lets the gateway address through (the user named it)', async () => {
    const { up, tunnelRoutes } = await claim(
      'named',
      [GATEWAY, '10.77.0.2', '10.77.0.53'],
      `  accept-local: [10.77.0.0/24]\n  accept-peer: [${GATEWAY}/32]\n`,
    );
    await up.waitFor(/tunnel up:/, 20_000);
    expect(up.log()).not.toMatch(/refusing/);
    expect(up.log()).toContain(`tunnel up: tsvpn0 10.77.0.2 → ${GATEWAY}`);
    expect([...tunnelRoutes, ...routes(lab.cli).map((r) => r.dst)]).toContain(GATEWAY);
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
  }, 40_000);
});
