/**
 * The gateway daemon's own life, in a namespace of its own (no sshd, no clients).
 *
 * Privileges (docs/GATEWAY.md "What the daemon keeps") also where it cannot narrow the
 * bounding set: a systemd unit whose CapabilityBoundingSet has no CAP_SETPCAP (as
 * examples/ts-vpn-gateway.service had). The INSTALLED `ts-vpn gateway` runs under
 * `setpriv --bounding-set`: without CAP_SETPCAP its permitted and effective sets still
 * shrink to CAP_NET_ADMIN and the log says the bounding set stayed; with it (the unit's
 * set now) all three do. Either way it stops cleanly and puts net.ipv4.ip_forward back
 * with what it kept.
 *
 * A stop at any moment: SIGTERM sent the moment a line of its start-up appears (it
 * used to die on the spot, Node's default, before its handlers were set, leaving
 * ip_forward on) ends it with exit 0 and everything put back. A SIGHUP (reload) that
 * early does not end it either (Node's default for SIGHUP is to die too).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Proc, track } from '../support/gateway-lab.js';
import { CLI, NODE } from '../support/lab.js';
import { createNetns, type Netns, requireNetns, uniqueId } from '../support/netns.js';
import { procStatus } from '../support/proc-status.js';

const enabled = requireNetns('gateway daemon tests') && existsSync('/usr/bin/setpriv');

/** The unit's CapabilityBoundingSet, as setpriv writes it. */
const UNIT_SET = '-all,+net_admin,+net_raw,+chown,+dac_override,+setpcap,+setuid,+setgid';
const WITHOUT_SETPCAP = '-all,+net_admin,+net_raw,+chown,+dac_override';

describe.skipIf(!enabled)('the gateway daemon: privileges and stopping at any moment', () => {
  let ns: Netns;
  let dir: string;
  let yaml: string;
  const procs: Proc[] = [];

  beforeAll(() => {
    ns = createNetns(`tvgp-${uniqueId()}`);
    dir = mkdtempSync(join(tmpdir(), 'tvgp-'));
    yaml = join(dir, 'gateway.yaml');
    writeFileSync(
      yaml,
      `socket: { path: ${join(dir, 'run', 'gateway.sock')} }\nforwarding: enable\nstate-dir: ${join(dir, 'state')}\n`,
    );
  });

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    ns?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (set: string): Proc => {
    const p = track(
      ns.spawn('setpriv', ['--bounding-set', set, NODE, CLI, 'gateway', yaml], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'gateway',
    );
    procs.push(p);
    return p;
  };

  it('without CAP_SETPCAP: CAP_NET_ADMIN only in its own sets, the bounding set left, said in the log', async () => {
    const gw = start(WITHOUT_SETPCAP);
    await gw.waitFor(/privileges: /);
    expect(gw.log()).toContain(
      'privileges: kept CAP_NET_ADMIN only (the bounding set stays as it was: no CAP_SETPCAP to narrow it)',
    );
    const pid = gw.child.pid!;
    expect(procStatus(pid).CapEff).toBe('0000000000001000');
    expect(procStatus(pid).CapPrm).toBe('0000000000001000');
    expect(procStatus(pid).CapBnd).toBe('0000000000003003');
    expect(await gw.stop('SIGTERM'), gw.log()).toBe(0);
    expect(ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('0');
  });

  it("with the example unit's set: CAP_NET_ADMIN only, bounding set too", async () => {
    const gw = start(UNIT_SET);
    await gw.waitFor(/privileges: /);
    expect(gw.log()).toMatch(/privileges: kept CAP_NET_ADMIN only\n/);
    const pid = gw.child.pid!;
    expect(procStatus(pid).CapEff).toBe('0000000000001000');
    expect(procStatus(pid).CapBnd).toBe('0000000000001000');
    expect(await gw.stop('SIGTERM'), gw.log()).toBe(0);
    expect(ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('0');
  });

  it('a SIGTERM the moment each start-up line appears: exit 0, ip_forward put back', async () => {
    for (const line of [/set net\.ipv4\.ip_forward=1/, /listening on/, /privileges: /]) {
      const gw = track(
        ns.spawn(NODE, [CLI, 'gateway', yaml], { stdio: ['ignore', 'pipe', 'pipe'] }),
        'gateway',
      );
      procs.push(gw);
      await gw.waitFor(line);
      gw.child.kill('SIGTERM');
      expect(await gw.exited, `${line}: ${gw.log()}`).toBe(0);
      expect(gw.log()).toMatch(/gateway: stopped/);
      expect(ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim(), String(line)).toBe('0');
      expect(existsSync(join(dir, 'run', 'gateway.sock'))).toBe(false);
    }
  });

  it('a SIGHUP while it sets up does not end it: the file is read again once it serves', async () => {
    const gw = track(
      ns.spawn(NODE, [CLI, 'gateway', yaml], { stdio: ['ignore', 'pipe', 'pipe'] }),
      'gateway',
    );
    procs.push(gw);
    await gw.waitFor(/set net\.ipv4\.ip_forward=1/);
    gw.child.kill('SIGHUP');
    await gw.waitFor(/gateway: reloaded /);
    expect(gw.log()).toMatch(/listening on[\s\S]*SIGHUP: reading .*gateway\.yaml again/);
    expect(await gw.stop('SIGTERM'), gw.log()).toBe(0);
    expect(ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('0');
  });

  it('examples/ts-vpn-gateway.service grants that set', () => {
    const unit = readFileSync(
      join(import.meta.dirname, '../../examples/ts-vpn-gateway.service'),
      'utf8',
    );
    const line = /^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
    const want = UNIT_SET.split(',')
      .filter((c) => c.startsWith('+'))
      .map((c) => `CAP_${c.slice(1).toUpperCase()}`);
    expect(line.sort()).toEqual(want.sort());
  });
});
