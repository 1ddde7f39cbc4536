/**
 * End to end: `masquerade: true` for a pool outside the LAN. The gateway NATs client
 * traffic leaving `lan-interface` with nft (its own table `ts_vpn_gateway`) when nft is on
 * its PATH, else with iptables (one POSTROUTING rule per pool). Both ways: a LAN host with
 * no route to the pool reaches a client's connection and sees the gateway's LAN address
 * as its source; after stop nothing the gateway added is left. The iptables way is
 * forced as on a machine without nftables: the daemon's PATH holds iptables and not nft.
 * The daemon runs as `run-as: nobody` (CAP_NET_ADMIN, raised as an ambient capability for
 * the nft and iptables it runs): adding and deleting the rules works with what it kept.
 * Namespaces, users and sshd: test/support/gateway-lab.ts.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayLab, type GatewayLab, GW_LAN, LAN_HOST } from '../support/gateway-lab.js';
import { NODE } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';

const enabled = requireNetns('gateway masquerade e2e tests');

const POOL_RANGE = /10\.77\.5\.\d+-10\.77\.5\.\d+/;

/** Full path of `cmd` on this process's PATH (the test's own, not the daemon's). */
function which(lab: GatewayLab, cmd: string): string | null {
  const r = lab.srv.try('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

describe.skipIf(!enabled)('ts-vpn gateway masquerade', () => {
  let lab: GatewayLab;
  let alice = '';
  let yaml = '';

  beforeAll(async () => {
    lab = await createGatewayLab({ tag: 'tvgm', roles: ['a'] });
    alice = lab.users.a!;
    yaml = lab.gatewayYaml(
      'gateway-masq.yaml',
      `local-address: 10.77.5.1
pool: 10.77.5.0/24
unknown-users: refuse
users:
  ${alice}: {}
lan-interface: ${lab.lanIf}
masquerade: true
forwarding: enable
run-as: { user: nobody }
`,
    );
  });

  afterEach(async () => {
    await lab?.stopRunning();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  /**
   * alice comes up with an address from the pool; a TCP connection from her namespace
   * to a listener on the LAN host, which has no route to the pool: returns the source
   * address the LAN host saw.
   */
  const lanSeesClientAs = async (): Promise<string> => {
    const a = lab.up(lab.cli, alice, { accept: '[10.77.5.0/24]' });
    await a.waitFor(/tunnel up: \S+ 10\.77\.5\./);
    expect(lab.lan.try('ip', ['route', 'get', '10.77.5.2']).stderr).toMatch(/unreachable/);
    const server = lab.track(
      lab.lan.spawn(
        NODE,
        [
          '-e',
          `require('net').createServer((s) => { process.stdout.write('from ' + s.remoteAddress + '\\n'); s.end('hi\\n'); }).listen(7777, '${LAN_HOST}', () => process.stdout.write('listening\\n'))`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
      'LAN listener',
    );
    await server.waitFor(/listening/);
    const got = lab.cli.exec(NODE, [
      '-e',
      `const s = require('net').connect(7777, '${LAN_HOST}'); s.on('data', (d) => { process.stdout.write(d); s.end(); }); s.on('error', (e) => { console.log(e.message); process.exit(1); });`,
    ]);
    expect(got).toBe('hi\n');
    await server.waitFor(/from /);
    await server.stop('SIGKILL');
    expect(await a.stop()).toBe(0);
    return /from (\S+)\n/.exec(server.log())![1]!;
  };

  it('masquerades in its own nft table when nft is there, and deletes the table at stop', async () => {
    expect(
      which(lab, 'nft'),
      'nft (Debian nftables) is needed: bash scripts/setup.sh installs it',
    ).not.toBeNull();
    const gw = lab.startGateway(yaml);
    await gw.waitFor(/gateway: listening on/);
    expect(gw.log()).toMatch(
      new RegExp(`masquerading ${POOL_RANGE.source} out of ${lab.lanIf} \\(nft\\)`),
    );
    expect(lab.srv.exec('nft', ['list', 'table', 'ip', 'ts_vpn_gateway'])).toMatch(
      new RegExp(`oifname "${lab.lanIf}" ip saddr ${POOL_RANGE.source} masquerade`),
    );
    expect(await lanSeesClientAs()).toBe(GW_LAN);
    expect(await gw.stop()).toBe(0);
    expect(lab.srv.try('nft', ['list', 'table', 'ip', 'ts_vpn_gateway']).code).not.toBe(0);
    expect(lab.srv.exec('nft', ['list', 'tables'])).not.toMatch(/ts_vpn_gateway/);
  });

  it('falls back to an iptables rule without nft on its PATH, and deletes the rule at stop', async () => {
    const iptables = which(lab, 'iptables');
    expect(
      iptables,
      'iptables (Debian iptables) is needed: bash scripts/setup.sh installs it',
    ).not.toBeNull();
    // The daemon's PATH: iptables only (no nft), as on a machine without nftables.
    const bin = join(lab.dir, 'bin-iptables-only');
    mkdirSync(bin);
    symlinkSync(iptables!, join(bin, 'iptables'));
    const rules = () => lab.srv.exec('iptables', ['-t', 'nat', '-S', 'POSTROUTING']);
    const before = rules();
    const gw = lab.startGateway(yaml, { path: bin });
    await gw.waitFor(/gateway: listening on/);
    expect(gw.log()).toMatch(
      new RegExp(`masquerading ${POOL_RANGE.source} out of ${lab.lanIf} \\(iptables\\)`),
    );
    expect(rules()).toMatch(
      new RegExp(
        `-A POSTROUTING -o ${lab.lanIf} -m iprange --src-range ${POOL_RANGE.source} -j MASQUERADE`,
      ),
    );
    // No nft table of its own: the rule above does the NAT.
    expect(lab.srv.exec('nft', ['list', 'tables'])).not.toMatch(/ts_vpn_gateway/);
    expect(await lanSeesClientAs()).toBe(GW_LAN);
    expect(await gw.stop()).toBe(0);
    expect(rules()).toBe(before);
    expect(rules()).not.toMatch(/MASQUERADE/);
  });
});
