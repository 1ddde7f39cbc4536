/**
 * A malicious far end (test/faults/hostile-peer.mjs run by a real sshd instead
 * of `ts-vpn serve`): `ts-vpn up` never crashes or hangs, never configures an
 * address outside accept-local, and exits with a clear reason and exit code
 * (or keeps working when the peer is merely noisy).
 *
 * TCP offload (GSO frames, docs/SECURITY.md "TCP offload"): a far end that negotiated GSO
 * frames and then sends invalid ones, floods oversize ones, or sends them without the
 * agreement, never gets one into the client's kernel, never breaks the link (ping through
 * the tunnel, answered by the hostile peer itself, works before and after), and every
 * frame is accounted for in `ts-vpn status` or the debug log; valid ones are delivered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TunnelStatus } from '../../src/runtime/status-format.js';
import {
  LAN_NET,
  type Lab,
  links,
  NODE,
  REPO,
  routes,
  TCP_TOOL,
  type UpProcess,
  until,
} from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('fault tests');

const HOSTILE = join(REPO, 'test', 'faults', 'hostile-peer.mjs');

/** The hostile peer's own PPP address (it answers echo requests to it). */
const HOSTILE_ADDR = '10.77.0.1';

/** What a GSO scenario of hostile-peer.mjs did (its <report.json>). */
interface GsoReport {
  kinds: Array<{ kind: string; reason: string | null; frames: number }>;
  expectBad: number;
  engineDrops: number;
  oversize: number;
  probes: { 'before-lcp': number; 'after-lcp': number; 'after-ipcp': number };
  protRejGso: number;
  tcp: { bytes: number; sha256: string; superPackets: number; gsoSize: number } | null;
  triggered: boolean;
}

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

  /**
   * `ts-vpn up --debug` against hostile-peer.mjs in a GSO scenario, up (tunnel configured).
   * The scenario acts at the first echo request, before answering it.
   */
  async function upGso(scenario: string, port = 0) {
    const name = `${scenario.slice(0, 12)}-${lab.id}`;
    const reportPath = join(lab.dir, `${scenario}.report.json`);
    const peer = lab.writePeer(`${scenario}.yaml`, {
      name,
      remoteCommand: `${NODE} ${HOSTILE} ${scenario} ${reportPath} ${port}`,
      ppp: '  restart: 1\n  max-configure: 4',
    });
    // Not lab.startUp's wait: it also waits (5 s) for a `ts-vpn serve` line that never comes.
    const up = await lab.startUp({ peerYaml: peer, args: ['--debug'], wait: false });
    await up.waitFor(/tunnel up:/, 20_000);
    const report = (): GsoReport => JSON.parse(readFileSync(reportPath, 'utf8')) as GsoReport;
    const status = (): TunnelStatus => {
      const r = lab.runCli(['status', name, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as TunnelStatus;
    };
    return { up, report, status };
  }

  /** An echo request to the hostile peer through the tunnel is answered (retries for `s` s). */
  function ping(s = 10): boolean {
    return lab.cli.try('ping', ['-c', '1', '-i', '0.2', '-w', String(s), HOSTILE_ADDR]).code === 0;
  }

  /** Lines of the client's log that end with `text`. */
  function linesEnding(log: string, text: string): number {
    return log.split('\n').filter((l) => l.endsWith(text)).length;
  }

  /**
   * Waits until `n` lines of the log contain `text` (the log arrives through a pipe: the
   * synchronous ping and status calls hold it back), then returns the log.
   */
  async function logWith(up: UpProcess, text: string, n: number): Promise<string> {
    const count = () =>
      up
        .log()
        .split('\n')
        .filter((l) => l.includes(text)).length;
    await until(() => count() >= n, 5000, `${n} log lines with "${text}"`).catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    return up.log();
  }

  /** Only what the config allows: 10.77.0.2 (accept-local), the routes of peer.yaml, fe80:: on the tunnel. */
  function expectOnlyAllowed(): void {
    expect(addrs(lab).filter((a) => a !== '127.0.0.1' && a !== '198.18.0.1')).toEqual([
      '10.77.0.2',
    ]);
    for (const r of routes(lab.cli)) {
      if (r.dev?.startsWith('tsvpn')) expect([HOSTILE_ADDR, LAN_NET]).toContain(r.dst);
      else expect(r.dst).toBe('198.18.0.0/30');
    }
    const v6 = lab.cli.exec('ip', ['-j', '-6', 'addr']);
    const j = (v6.trim() ? JSON.parse(v6) : []) as Array<{
      ifname: string;
      addr_info: Array<{ local: string }>;
    }>;
    for (const l of j.filter((x) => x.ifname.startsWith('tsvpn')))
      for (const a of l.addr_info) expect(a.local).toMatch(/^fe80:/);
    for (const r of routes(lab.cli, '-6')) expect(r.dst).toMatch(/^(fe80:|ff00::\/8$)/);
  }

  async function stopClean(up: UpProcess): Promise<void> {
    expect(up.child.exitCode, up.log()).toBeNull(); // still running: nothing crashed
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expectClean(up.log());
    expectNothingLeft();
  }

  it('GSO frames with invalid virtio/IP headers: never reach the kernel, each counted as bad-gso-frame with its reason; the link stays up', async () => {
    const { up, report, status } = await upGso('gso-invalid');
    expect(up.log()).toMatch(/TCP offload on \(GSO frames\)/);
    // The first echo request triggers the batch; its reply comes after it on the stream.
    expect(ping(), up.log()).toBe(true);
    const r = report();
    expect(r.triggered).toBe(true);
    expect(r.kinds.length).toBeGreaterThan(20);
    const st = status();
    expect(st.offload?.gso).toBe(true);
    // Exactly the frames that got past the engine, and none of them written to the device.
    expect(st.errors.causes['bad-gso-frame']).toBe(r.expectBad);
    expect(st.offload?.superPacketsIn).toBe(0);
    const log = await logWith(up, 'dropped a GSO frame from the far end: ', r.expectBad);
    for (const k of r.kinds) {
      // Too short or not IPv4/IPv6: the engine drops these first (not shown in status).
      const n = k.reason === null ? 0 : k.frames;
      expect(
        linesEnding(log, `dropped a GSO frame from the far end: ${k.reason}`),
        `${k.kind} (${k.reason})`,
      ).toBe(n);
    }
    expect(r.engineDrops).toBeGreaterThan(0);
    expect(linesEnding(log, '(0x2a21) received')).toBe(0); // agreed: never Protocol-Rejected
    expect(ping()).toBe(true);
    expect(status().errors.causes['bad-gso-frame']).toBe(r.expectBad);
    expectOnlyAllowed();
    await stopClean(up);
  }, 40_000);

  it('a flood of oversize GSO frames (> 10+65535+4, up to 1 MiB): each counted as too-long, the two at the limits as bad-gso-frame; the link stays up', async () => {
    const { up, report, status } = await upGso('gso-flood');
    const before = status().errors.causes['too-long'] ?? 0;
    expect(ping(15), up.log()).toBe(true);
    const r = report();
    expect(r.oversize).toBe(305);
    const st = status();
    expect((st.errors.causes['too-long'] ?? 0) - before).toBe(r.oversize);
    expect(st.errors.causes['bad-gso-frame']).toBe(r.expectBad);
    expect(r.expectBad).toBe(2);
    const logged = r.kinds.filter((k) => k.reason !== null);
    const log = await logWith(up, 'dropped a GSO frame from the far end: ', logged.length);
    for (const k of logged)
      expect(linesEnding(log, `dropped a GSO frame from the far end: ${k.reason}`)).toBe(1);
    expect(st.offload?.superPacketsIn).toBe(0);
    expect(ping()).toBe(true);
    expectOnlyAllowed();
    await stopClean(up);
  }, 40_000);

  it('GSO frames without the agreement (peer rejects our option): dropped before LCP is open, Protocol-Rejected after; never reach the device', async () => {
    const { up, report, status } = await upGso('gso-asymmetric');
    let log = up.log();
    // We acked its option, it rejected ours: not on (it takes both).
    expect(log).toMatch(/sent \[LCP ConfAck [^\]]*<vendor 02:54:56 kind 1 gso 65535>/);
    expect(log).toMatch(/rcvd \[LCP ConfRej [^\]]*<vendor 02:54:56 kind 1 gso 65535>\]/);
    expect(log).not.toMatch(/TCP offload on/);
    expect(ping(), up.log()).toBe(true);
    const rejected = (x: GsoReport) => x.probes['after-lcp'] + x.probes['after-ipcp'];
    await until(() => report().protRejGso >= rejected(report()), 5000, 'the Protocol-Rejects');
    await new Promise((res) => setTimeout(res, 300));
    const r = report();
    expect(r.probes).toEqual({ 'before-lcp': 5, 'after-lcp': 5, 'after-ipcp': 5 });
    expect(r.oversize).toBe(6); // 2 per phase over the MRU
    // Every frame after LCP opened is rejected; the ones before are silently dropped.
    expect(r.protRejGso).toBe(10);
    log = await logWith(up, '(0x2a21) received', 10);
    expect(linesEnding(log, '(0x2a21) received')).toBe(10);
    const st = status();
    expect(st.offload).toBeUndefined(); // the device is not even in vnet mode
    // Without GSO the deframer keeps its MRU limit: the big ones are too-long, in any phase.
    expect(st.errors.causes['too-long']).toBe(r.oversize);
    expect(st.errors.causes['bad-gso-frame'] ?? 0).toBe(0);
    expect(ping()).toBe(true);
    expectOnlyAllowed();
    await stopClean(up);
  }, 40_000);

  it('valid TCPv4 GSO super-packets of a real connection are delivered to the client socket intact', async () => {
    const port = 5301;
    const recv = lab.cli.spawn(NODE, [TCP_TOOL, 'recv', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    recv.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    recv.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await until(() => out.includes('listening'), 10_000, 'the TCP receiver');
      const { up, report, status } = await upGso('gso-valid', port);
      expect(up.log()).toMatch(/TCP offload on \(GSO frames\)/);
      expect(ping(), up.log()).toBe(true); // starts the connection
      await until(() => out.includes('{'), 10_000, `the receiver's result (${out})`);
      const got = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as {
        bytes: number;
        sha256: string;
      };
      const r = report();
      expect(r.tcp).not.toBeNull();
      expect(got.bytes).toBe(r.tcp!.bytes);
      expect(got.sha256).toBe(r.tcp!.sha256);
      const st = status();
      expect(st.offload?.superPacketsIn).toBe(r.tcp!.superPackets);
      expect(st.errors.causes['bad-gso-frame'] ?? 0).toBe(0);
      expect(ping()).toBe(true);
      expectOnlyAllowed();
      await stopClean(up);
    } finally {
      if (recv.exitCode === null) recv.kill('SIGKILL');
    }
  }, 40_000);

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

  it('far-end text with CR and ESC sequences (stderr, Terminate reason): escaped in the log, no forged line', async () => {
    const { up, exited } = await run('forge-text', 25_000);
    expect(exited, up.log()).not.toBeNull();
    const log = up.log();
    // Nothing raw: no CR, no ESC, no C1 CSI reaches the terminal.
    expect([...log].filter((c) => c === '\r' || c === '\u001b' || c === '\u009b')).toEqual([]);
    // The far end's stderr, escaped where it enters the log.
    expect(log).toContain('remote: \\x0d\\x1b[2K tunnel up: forged');
    expect(log).toContain('remote: \\x9b2K tunnel up: forged too');
    // The Terminate reason, escaped by the PPP core (pppd's %v).
    expect(log).toMatch(/LCP terminated by peer \(\^M\^\[\[2K tunnel up: forged\)/);
    // No line that reads as ours: "tunnel up:" only ever after escaped text.
    expect(log).not.toMatch(/^(\S+ )?tunnel up:/m);
    expect(exited!.code).toBe(6);
    expectClean(log);
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
