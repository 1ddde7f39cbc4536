/**
 * A malicious far end (test/faults/hostile-peer.mjs run by a real sshd instead
 * of `ts-vpn serve`): `ts-vpn up` never crashes or hangs, never configures an
 * address outside accept-local, and exits with a clear reason and exit code
 * (or keeps working when the peer is merely noisy).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Lab, links, NODE, REPO, routes } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('fault tests');

const HOSTILE = join(REPO, 'test', 'faults', 'hostile-peer.mjs');

function addrs(lab: Lab): string[] {
  const out = lab.cli.exec('ip', ['-j', '-4', 'addr']);
  const j = (out.trim() ? JSON.parse(out) : []) as Array<{ addr_info: Array<{ local: string }> }>;
  return j.flatMap((l) => l.addr_info.map((a) => a.local));
}

function tunnels(lab: Lab): string[] {
  return links(lab.cli)
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('tsvpn'));
}

describe.skipIf(!enabled)('hostile far end', () => {
  const lab = useLab();

  async function run(scenario: string, ms: number) {
    const peer = lab.writePeer(`${scenario}.yaml`, {
      name: `${scenario.slice(0, 12)}-${lab.id}`,
      remoteCommand: `${NODE} ${HOSTILE} ${scenario}`,
      ppp: '  restart: 1\n  max-configure: 4',
    });
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const seen = new Set<string>();
    const t0 = Date.now();
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    void up.exited.then((r) => {
      exited = r;
    });
    while (exited === null && Date.now() - t0 < ms) {
      for (const a of addrs(lab)) seen.add(a);
      await new Promise((r) => setTimeout(r, 100));
    }
    const tail = up.log().trim().split('\n').slice(-2).join(' | ');
    console.log(`[hostile ${scenario}] exit ${JSON.stringify(exited)}: ${tail}`);
    return {
      up,
      seen,
      exited: exited as { code: number | null; signal: NodeJS.Signals | null } | null,
    };
  }

  function expectClean(log: string): void {
    expect(log).not.toMatch(/\n\s+at \S+ \(/); // no stack trace
    expect(log).not.toMatch(/internal error/i);
  }

  function expectNothingLeft(): void {
    expect(tunnels(lab)).toEqual([]);
    expect(routes(lab.cli).map((r) => r.dst)).toEqual(['198.18.0.0/30']);
  }

  it('ConfReq flood: LCP gives up with a reason, exit 6, nothing configured', async () => {
    const { up, seen, exited } = await run('confreq-flood', 25_000);
    expect(exited, up.log()).not.toBeNull();
    expect([6, 7]).toContain(exited!.code);
    expect(up.log()).toMatch(/peer keeps requesting options we refuse|LCP/);
    expectClean(up.log());
    expect([...seen].filter((a) => a.startsWith('10.77.'))).toEqual([]);
    expectNothingLeft();
  }, 40_000);

  it('IPCP Nak assigning 192.0.2.1 (outside accept-local): never configured, exit 6 with the address in the reason', async () => {
    const { up, seen, exited } = await run('nak-bad-address', 25_000);
    expect(exited, up.log()).not.toBeNull();
    expect([6, 7]).toContain(exited!.code);
    expect(seen.has('192.0.2.1')).toBe(false);
    expect(up.log()).toMatch(/192\.0\.2\.1/);
    expectClean(up.log());
    expectNothingLeft();
  }, 40_000);

  it('IPCP Nak forever (new in-pool address each time): gives up, exit 6, no address configured', async () => {
    const { up, seen, exited } = await run('nak-forever', 25_000);
    expect(exited, up.log()).not.toBeNull();
    expect([6, 7]).toContain(exited!.code);
    expect([...seen].filter((a) => a.startsWith('10.77.'))).toEqual([]);
    expect(up.log()).toMatch(/refusing|IPCP/);
    expectClean(up.log());
    expectNothingLeft();
  }, 40_000);

  it('Protocol-Reject of LCP: the link is dropped with a reason, no crash', async () => {
    const { up, exited } = await run('protrej-lcp', 25_000);
    expect(exited, up.log()).not.toBeNull();
    expect(exited!.code).not.toBe(1);
    expect(exited!.code).not.toBe(0);
    expect(up.log()).toMatch(/protocol rejected/i);
    expectClean(up.log());
    expectNothingLeft();
  }, 40_000);

  it('oversize frames (20 KB) every 100 ms: dropped; the tunnel comes up and stays up', async () => {
    const peer = lab.writePeer('oversize.yaml', {
      name: `oversize-${lab.id}`,
      remoteCommand: `${NODE} ${HOSTILE} oversize`,
      ppp: '  restart: 1\n  max-configure: 4',
    });
    const up = await lab.startUp({ peerYaml: peer, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(addrs(lab)).toContain('10.77.0.2');
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expectClean(up.log());
    expectNothingLeft();
  }, 40_000);

  it('IP before IPCP: dropped, then the tunnel comes up with the assigned address only', async () => {
    const peer = lab.writePeer('ipearly.yaml', {
      name: `ipearly-${lab.id}`,
      remoteCommand: `${NODE} ${HOSTILE} ip-before-ipcp`,
      ppp: '  restart: 1\n  max-configure: 4',
    });
    const up = await lab.startUp({ peerYaml: peer, timeoutMs: 20_000 });
    const mine = addrs(lab).filter((a) => a.startsWith('10.77.'));
    expect(mine).toEqual(['10.77.0.2']);
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expectClean(up.log());
    expectNothingLeft();
  }, 40_000);
});
