/**
 * Interop with a REAL, stock pppd 2.4.9 (Debian 12) running in a tiny qemu VM whose
 * /dev/ttyS0 is a byte stream in this process (test/interop/pppd-vm.ts, assets from
 * scripts/pppd-vm/build.sh). The VM has no network device: the only traffic is the
 * PPP line and, in the `ts-vpn serve` case, a TUN device inside a namespace this
 * test creates.
 *
 * Runs when the assets are built (or builds them: in CI, or when /dev/kvm exists).
 * Skips, saying why, on a machine without /dev/kvm and without prebuilt assets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PppLink, type PppLinkOptions } from '../../src/lib/index.js';
import { ensureBuilt } from '../e2e/ensure-built.js';
import { CLI, NODE } from '../support/lab.js';
import { canUseNetns, deleteNetns, nsTry, removeStale, sh, uniqueId } from '../support/netns.js';
import { echoReplyV4, icmpEchoV4, icmpEchoV6, parseIcmpV4, parseIcmpV6 } from './icmp.js';
import { type PppdVm, type PppdVmOptions, buildPppdVmAssets, pppdLines, pppdVmAssets, startPppdVm } from './pppd-vm.js';

const isRoot = process.getuid?.() === 0;
const haveKvm = existsSync('/dev/kvm');
const mustBuild = process.env.CI === 'true' || haveKvm;
const skipReason =
  pppdVmAssets() !== null || (mustBuild && isRoot)
    ? null
    : !isRoot
      ? 'needs root to build the pppd VM assets (apt-get); run scripts/pppd-vm/build.sh as root'
      : 'no /dev/kvm and no prebuilt pppd VM assets (scripts/pppd-vm/build.sh)';
if (skipReason !== null) console.warn(`test/interop/pppd.test.ts skipped: ${skipReason}`);

/** When set, every VM console is printed (PPPD_VM_VERBOSE=1). */
const verbose = process.env.PPPD_VM_VERBOSE === '1';

interface Run {
  vm: PppdVm;
  link: PppLink;
  ours: string[];
}

/** Boots pppd with `vmOpts`, runs a PppLink with `linkOpts` on the line, calls `body`, always cleans up. */
async function withPppd(
  title: string,
  vmOpts: PppdVmOptions,
  linkOpts: PppLinkOptions,
  body: (r: Run) => Promise<void>,
): Promise<void> {
  const vm = await startPppdVm(vmOpts);
  const ours: string[] = [];
  const link = new PppLink(vm.line, { ...linkOpts, log: (l) => ours.push(l) });
  try {
    await body({ vm, link, ours });
  } catch (err) {
    (err as Error).message += `\n--- pppd VM console (${title}) ---\n${vm.log()}\n--- ip-up scripts ---\n${vm.scriptLog()}\n--- ts-vpn ---\n${ours.join('\n')}`;
    throw err;
  } finally {
    if (verbose) console.log(`--- ${title}: pppd VM console ---\n${vm.log()}\n--- ${title}: ip-up scripts ---\n${vm.scriptLog()}\n--- ${title}: ts-vpn ---\n${ours.join('\n')}`);
    await link.close().catch(() => undefined);
    await vm.stop();
  }
}

/** Sends ICMP echo requests (one per 300 ms, at most `tries`) until a matching reply arrives. */
async function ping(link: PppLink, make: (seq: number) => Uint8Array, isReply: (p: Uint8Array, seq: number) => boolean, tries = 20): Promise<number> {
  let seq = 0;
  let got = -1;
  const onPacket = (_v: 4 | 6, d: Uint8Array) => {
    if (got < 0 && isReply(d, seq)) got = seq;
  };
  link.on('packet', onPacket);
  try {
    while (got < 0 && seq < tries) {
      seq++;
      link.send(make(seq));
      for (let i = 0; i < 6 && got < 0; i++) await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    link.off('packet', onPacket);
  }
  if (got < 0) throw new Error(`no echo reply after ${tries} requests`);
  return got;
}

/** Answers IPv4 echo requests addressed to `local` (the VM pings us). */
function answerPings(link: PppLink, local: string): { count: () => number } {
  let n = 0;
  link.on('packet', (v, d) => {
    if (v !== 4) return;
    const e = parseIcmpV4(d);
    if (e === null || e.type !== 8 || e.dst !== local) return;
    const rep = echoReplyV4(d);
    if (rep !== null && link.send(rep)) n++;
  });
  return { count: () => n };
}

const PAYLOAD = new TextEncoder().encode('ts-vpn <-> stock pppd');

describe.skipIf(skipReason !== null)('stock pppd 2.4.9 in a VM', () => {
  beforeAll(() => {
    if (pppdVmAssets() === null) buildPppdVmAssets();
  }, 600_000);

  test.concurrent('(a) ts-vpn client ↔ pppd server: LCP/IPCP/IPv6CP, ping v4+v6, echo, CCP rejected, terminate', async () => {
    await withPppd(
      'a',
      { args: ['noauth', 'debug', 'lcp-echo-interval', '1', '10.64.0.1:10.64.0.2'] },
      { role: 'client', echoIntervalMs: 1000 },
      async ({ vm, link, ours }) => {
        const info = await link.ready;
        expect(info.ipv4).toEqual({ local: '10.64.0.2', peer: '10.64.0.1', dns: [] });
        expect(info.ipv6).not.toBeNull();
        expect(info.mtu).toBe(1500);
        await vm.waitFor(/^TV-IP-UP ppp0 \/dev\/ttyS0 115200 10\.64\.0\.1 10\.64\.0\.2$/m);

        // IPv4 ping: the VM's kernel answers through pppd.
        const seq4 = await ping(
          link,
          (s) => icmpEchoV4('10.64.0.2', '10.64.0.1', 0x7476, s, PAYLOAD),
          (p, s) => {
            const e = parseIcmpV4(p);
            return e !== null && e.type === 0 && e.src === '10.64.0.1' && e.dst === '10.64.0.2' && e.id === 0x7476 && e.seq === s && e.checksumOk && Buffer.from(e.payload).equals(Buffer.from(PAYLOAD));
          },
        );
        expect(seq4).toBeGreaterThan(0);

        // IPv6 ping to pppd's link-local address (retried while its DAD finishes).
        const v6 = info.ipv6!;
        await vm.waitFor(/^TV-IPV6-UP /m);
        await ping(
          link,
          (s) => icmpEchoV6(v6.local, v6.peer, 0x7476, s, PAYLOAD),
          (p, s) => {
            const e = parseIcmpV6(p);
            return e !== null && e.type === 129 && e.id === 0x7476 && e.seq === s && e.checksumOk;
          },
        );

        // Keepalive both ways: pppd (lcp-echo-interval 1) asks, we answer; we ask, it
        // answers. (pppd logs only the first echo pair, so count on our side.)
        const count = (re: RegExp) => ours.filter((l) => re.test(l)).length;
        await expect.poll(() => count(/^sent \[LCP EchoRep id=0x\w+ magic=0x\w+\]$/), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
        await expect.poll(() => link.stats().echo.answered, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
        expect(link.state).toBe('up');

        await link.close();
        const exit = await vm.exited;
        const log = vm.log();
        const lines = pppdLines(log);
        // pppd decoded our requests exactly as we logged them.
        const ourLcpReq = ours.find((l) => l.startsWith('sent [LCP ConfReq'))!;
        expect(ourLcpReq).toMatch(/^sent \[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x[0-9a-f]+> <pcomp> <accomp>\]$/);
        expect(lines).toContain(ourLcpReq.replace(/^sent/, 'rcvd'));
        expect(lines).toContain('rcvd [IPCP ConfReq id=0x1 <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]');
        expect(lines).toContain('sent [IPCP ConfRej id=0x1 <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]');
        expect(lines).toContain('sent [IPCP ConfNak id=0x2 <addr 10.64.0.2>]');
        // We Configure-Reject VJ and Protocol-Reject CCP; pppd carries on.
        expect(lines).toContain('rcvd [IPCP ConfRej id=0x1 <compress VJ 0f 01>]');
        expect(lines).toContain("Protocol-Reject for 'Compression Control Protocol' (0x80fd) received");
        expect(ours).toContain("Unsupported protocol 'Compression Control Protocol' (0x80fd) received");
        expect(lines).toContain('local  IP address 10.64.0.1');
        expect(lines).toContain('remote IP address 10.64.0.2');
        expect(lines).toContain(`local  LL address ${v6.peer}`);
        expect(lines).toContain(`remote LL address ${v6.local}`);
        // Our echo requests reached pppd and were answered.
        expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[LCP EchoReq id=0x\w+ magic=0x\w+\]$/));
        expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[LCP TermReq id=0x\w+ "User request"\]$/));
        expect(lines).toContain('LCP terminated by peer (User request)');
        expect(lines).toContain('Connection terminated.');
        expect(exit.pppdStatus).toBe(16); // EXIT_HANGUP: the link went away after the peer's Terminate
      },
    );
  }, 60_000);

  test.concurrent('(b) pppd client ↔ ts-vpn server: we assign address and DNS, ping both ways', async () => {
    await withPppd(
      'b',
      {
        args: ['noauth', 'debug', 'noipdefault', 'usepeerdns', 'lcp-echo-interval', '1'],
        // The VM pings us as soon as IPv4 is up.
        ipUp: 'ping -c 3 -W 3 "$5"',
      },
      { role: 'server', local: '10.65.0.1', peer: '10.65.0.2', dns: ['10.65.0.53', '10.65.0.54'] },
      async ({ vm, link }) => {
        const answered = answerPings(link, '10.65.0.1');
        const info = await link.ready;
        expect(info.ipv4).toEqual({ local: '10.65.0.1', peer: '10.65.0.2', dns: [] });
        expect(info.ipv6).not.toBeNull();
        await vm.waitFor(/^TV-IP-UP ppp0 \/dev\/ttyS0 115200 10\.65\.0\.2 10\.65\.0\.1$/m);
        await ping(
          link,
          (s) => icmpEchoV4('10.65.0.1', '10.65.0.2', 0x6262, s, PAYLOAD),
          (p, s) => {
            const e = parseIcmpV4(p);
            return e !== null && e.type === 0 && e.src === '10.65.0.2' && e.id === 0x6262 && e.seq === s && e.checksumOk;
          },
        );
        // The VM's busybox ping got three replies from us.
        await vm.waitFor(/3 packets transmitted, 3 packets received, 0% packet loss/, 15_000);
        expect(answered.count()).toBe(3);
        const lines = pppdLines(vm.log());
        expect(lines).toContain('sent [IPCP ConfReq id=0x1 <compress VJ 0f 01> <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]');
        expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[IPCP ConfNak id=0x\w+ <addr 10\.65\.0\.2> <ms-dns1 10\.65\.0\.53> <ms-dns2 10\.65\.0\.54>\]$/));
        expect(lines).toContain('local  IP address 10.65.0.2');
        expect(lines).toContain('remote IP address 10.65.0.1');
        expect(lines).toContain('primary   DNS address 10.65.0.53');
        expect(lines).toContain('secondary DNS address 10.65.0.54');
        await link.close();
        await vm.exited;
        expect(pppdLines(vm.log())).toContain('Connection terminated.');
      },
    );
  }, 60_000);
});
