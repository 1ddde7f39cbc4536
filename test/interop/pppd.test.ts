/**
 * Interop with a REAL, stock pppd 2.4.9 (Debian 12) running in a tiny qemu VM whose
 * /dev/ttyS0 is a byte stream in this process (test/interop/pppd-vm.ts, assets from
 * scripts/pppd-vm/build.sh). The VM has no network device: the only traffic is the
 * PPP line and, in the `ts-vpn serve` and `ts-vpn up` cases, a TUN device inside a
 * namespace this test creates. Case (e) runs the installed `ts-vpn up` with
 * `remote.transport: command`: its command is stdio-unix-relay.mjs, connected through a
 * socket this process bridges to the VM's line.
 *
 * Runs when the assets are built (or builds them: in CI, or when /dev/kvm exists).
 * Skips, saying why, on a machine without /dev/kvm and without prebuilt assets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { PppLink, type PppLinkOptions } from '../../src/api/index.js';
import { ensureBuilt } from '../e2e/ensure-built.js';
import { CLI, NODE } from '../support/lab.js';
import { canUseNetns, deleteNetns, nsTry, sh, uniqueId } from '../support/netns.js';
import {
  echoReplyV4,
  icmpEchoV4,
  icmpEchoV6,
  parseIcmpV4,
  parseIcmpV6,
  pppdLinkLocal,
} from './icmp.js';
import {
  buildPppdVmAssets,
  type PppdVm,
  type PppdVmOptions,
  pppdLines,
  pppdVmAssets,
  startPppdVm,
} from './pppd-vm.js';

const isRoot = process.getuid?.() === 0;
const haveKvm = existsSync('/dev/kvm');
const mustBuild = process.env.CI === 'true' || haveKvm;
const skipReason =
  pppdVmAssets() !== null || (mustBuild && isRoot)
    ? null
    : !isRoot
      ? 'needs root to build the pppd VM assets (apt-get); run scripts/pppd-vm/build.sh as root'
      : 'no /dev/kvm and no up-to-date pppd VM assets (run scripts/pppd-vm/build.sh as root)';
if (skipReason !== null) console.warn(`test/interop/pppd.test.ts skipped: ${skipReason}`);

/** When set, every VM console is printed (PPPD_VM_VERBOSE=1). */
const verbose = process.env.PPPD_VM_VERBOSE === '1';

/**
 * At most two VMs at once: each TCG guest keeps one core busy while it boots, and
 * on an overloaded host guest timers stretch (pings time out, the IO-APIC check fails).
 */
const MAX_VMS = 2;
/** Generous: a test may wait for a VM slot first. */
const VM_TEST_TIMEOUT = 180_000;
let vmsRunning = 0;
const vmQueue: (() => void)[] = [];
async function vmSlot(): Promise<() => void> {
  if (vmsRunning >= MAX_VMS) await new Promise<void>((r) => vmQueue.push(r));
  vmsRunning++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    vmsRunning--;
    vmQueue.shift()?.();
  };
}

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
  const release = await vmSlot();
  let vm: PppdVm;
  try {
    vm = await startPppdVm(vmOpts);
  } catch (err) {
    release();
    throw err;
  }
  const ours: string[] = [];
  const link = new PppLink(vm.line, { ...linkOpts, log: (l) => ours.push(l) });
  try {
    await body({ vm, link, ours });
    expect(loopedBack(ours), 'frames of ours came back (tty echo on the line)').toEqual([]);
  } catch (err) {
    (err as Error).message +=
      `\n--- pppd VM console (${title}) ---\n${vm.log()}\n--- ip-up scripts ---\n${vm.scriptLog()}\n--- ts-vpn ---\n${ours.join('\n')}`;
    throw err;
  } finally {
    if (verbose)
      console.log(
        `--- ${title}: pppd VM console ---\n${vm.log()}\n--- ${title}: ip-up scripts ---\n${vm.scriptLog()}\n--- ${title}: ts-vpn ---\n${ours.join('\n')}`,
      );
    await link.close().catch(() => undefined);
    await vm.stop();
    release();
  }
}

/** Our LCP Configure-Requests that came back to us (same magic): a line echoing what we send. */
function loopedBack(ours: readonly string[]): string[] {
  const magics = new Set(
    ours.flatMap((l) =>
      /^sent \[LCP ConfReq .*<magic (0x\w+)>/.exec(l)?.[1] ? [/<magic (0x\w+)>/.exec(l)![1]!] : [],
    ),
  );
  return ours.filter((l) => {
    const m = /^rcvd \[LCP ConfReq .*<magic (0x\w+)>/.exec(l);
    return m !== null && magics.has(m[1]!);
  });
}

/** Sends ICMP echo requests (one per 300 ms, at most `tries`) until a matching reply arrives. */
async function ping(
  link: PppLink,
  make: (seq: number) => Uint8Array,
  isReply: (p: Uint8Array, seq: number) => boolean,
  tries = 20,
): Promise<number> {
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

/** Runs a command without blocking the event loop (the relays live in this process); resolves with stdout+stderr. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    c.stderr.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    c.on('close', () => res(out));
  });
}

/** Like {@link run}, with the exit code. */
function runCode(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    let out = '';
    const add = (d: Buffer) => {
      out += d.toString('utf8');
    };
    c.stdout.on('data', add);
    c.stderr.on('data', add);
    c.on('close', (code) => res({ code, out }));
  });
}

/** Pipes stdin/stdout to a unix socket: the local command of test (e)'s `transport: command`. */
const STDIO_UNIX_RELAY = join(dirname(fileURLToPath(import.meta.url)), 'stdio-unix-relay.mjs');

/** Polls `cond` every 50 ms (test.concurrent has no global expect.poll). */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const PAYLOAD = new TextEncoder().encode('ts-vpn <-> stock pppd');

describe.skipIf(skipReason !== null)('stock pppd 2.4.9 in a VM', () => {
  beforeAll(() => {
    if (pppdVmAssets() === null) buildPppdVmAssets();
  }, 600_000);

  test.concurrent(
    '(a) ts-vpn client ↔ pppd server: LCP/IPCP/IPv6CP, ping v4+v6, echo, CCP rejected, terminate',
    async () => {
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
              return (
                e !== null &&
                e.type === 0 &&
                e.src === '10.64.0.1' &&
                e.dst === '10.64.0.2' &&
                e.id === 0x7476 &&
                e.seq === s &&
                e.checksumOk &&
                Buffer.from(e.payload).equals(Buffer.from(PAYLOAD))
              );
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
          await until(
            'we answered 3 LCP echoes',
            () => count(/^sent \[LCP EchoRep id=0x\w+ magic=0x\w+\]$/) >= 3,
          );
          await until('pppd answered 3 LCP echoes', () => link.stats().echo.answered >= 3);
          expect(link.state).toBe('up');

          await link.close();
          const exit = await vm.exited;
          const log = vm.log();
          const lines = pppdLines(log);
          // pppd decoded our requests exactly as we logged them.
          const ourLcpReq = ours.find((l) => l.startsWith('sent [LCP ConfReq'))!;
          expect(ourLcpReq).toMatch(
            /^sent \[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x[0-9a-f]+> <pcomp> <accomp>\]$/,
          );
          expect(lines).toContain(ourLcpReq.replace(/^sent/, 'rcvd'));
          expect(lines).toContain(
            'rcvd [IPCP ConfReq id=0x1 <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]',
          );
          expect(lines).toContain('sent [IPCP ConfRej id=0x1 <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]');
          expect(lines).toContain('sent [IPCP ConfNak id=0x2 <addr 10.64.0.2>]');
          // We Configure-Reject VJ and Protocol-Reject CCP; pppd carries on.
          expect(lines).toContain('rcvd [IPCP ConfRej id=0x1 <compress VJ 0f 01>]');
          expect(lines).toContain(
            "Protocol-Reject for 'Compression Control Protocol' (0x80fd) received",
          );
          expect(ours).toContain(
            "Unsupported protocol 'Compression Control Protocol' (0x80fd) received",
          );
          expect(lines).toContain('local  IP address 10.64.0.1');
          expect(lines).toContain('remote IP address 10.64.0.2');
          // (pppd prints every group with 4 digits; PppLinkInfo is RFC 5952 canonical.)
          expect(lines).toContain(`local  LL address ${pppdLinkLocal(v6.peer)}`);
          expect(lines).toContain(`remote LL address ${pppdLinkLocal(v6.local)}`);
          // Our echo requests reached pppd and were answered.
          expect(lines).toContainEqual(
            expect.stringMatching(/^rcvd \[LCP EchoReq id=0x\w+ magic=0x\w+\]$/),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(/^rcvd \[LCP TermReq id=0x\w+ "User request"\]$/),
          );
          expect(lines).toContain('LCP terminated by peer (User request)');
          expect(lines).toContain('Connection terminated.');
          expect(exit.pppdStatus).toBe(16); // EXIT_HANGUP: the link went away after the peer's Terminate
        },
      );
    },
    VM_TEST_TIMEOUT,
  );

  test.concurrent(
    '(b) pppd client ↔ ts-vpn server: we assign address and DNS, ping both ways',
    async () => {
      await withPppd(
        'b',
        {
          args: ['noauth', 'debug', 'noipdefault', 'usepeerdns', 'lcp-echo-interval', '1'],
          // The VM pings us as soon as IPv4 is up.
          ipUp: 'ping -c 3 -w 15 "$5"',
        },
        {
          role: 'server',
          local: '10.65.0.1',
          peer: '10.65.0.2',
          dns: ['10.65.0.53', '10.65.0.54'],
        },
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
              return (
                e !== null &&
                e.type === 0 &&
                e.src === '10.65.0.2' &&
                e.id === 0x6262 &&
                e.seq === s &&
                e.checksumOk
              );
            },
          );
          // The VM's busybox ping got three replies from us.
          await vm.waitFor(/3 packets transmitted, 3 packets received, 0% packet loss/, 15_000);
          expect(answered.count()).toBe(3);
          const lines = pppdLines(vm.log());
          expect(lines).toContain(
            'sent [IPCP ConfReq id=0x1 <compress VJ 0f 01> <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]',
          );
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^rcvd \[IPCP ConfNak id=0x\w+ <addr 10\.65\.0\.2> <ms-dns1 10\.65\.0\.53> <ms-dns2 10\.65\.0\.54>\]$/,
            ),
          );
          expect(lines).toContain('local  IP address 10.65.0.2');
          expect(lines).toContain('remote IP address 10.65.0.1');
          expect(lines).toContain('primary   DNS address 10.65.0.53');
          expect(lines).toContain('secondary DNS address 10.65.0.54');
          await link.close();
          await vm.exited;
          expect(pppdLines(vm.log())).toContain('Connection terminated.');
        },
      );
    },
    VM_TEST_TIMEOUT,
  );
  test.concurrent(
    '(c1) pppd requires CHAP-MD5, ts-vpn authenticates (and a wrong secret fails on both sides)',
    async () => {
      const vmOpts = (): PppdVmOptions => ({
        args: ['auth', 'require-chap', 'name', 'tvgw', 'debug', '10.66.0.1:10.66.0.2'],
        chapSecrets: '# client server secret addresses\nalice tvgw "open sesame" *\n',
      });
      await withPppd(
        'c1',
        vmOpts(),
        { role: 'client', auth: { user: 'alice', password: 'open sesame' } },
        async ({ vm, link, ours }) => {
          const info = await link.ready;
          expect(info.ipv4).toMatchObject({ local: '10.66.0.2', peer: '10.66.0.1' });
          await vm.waitFor(/remote IP address 10\.66\.0\.2/);
          const lines = pppdLines(vm.log());
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^sent \[LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x\w+> <pcomp> <accomp>\]$/,
            ),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(/^sent \[CHAP Challenge id=0x\w+ <[0-9a-f]+>, name = "tvgw"\]$/),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^rcvd \[CHAP Response id=0x\w+ <[0-9a-f]{32}>, name = "alice"\]$/,
            ),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(/^sent \[CHAP Success id=0x\w+ "Access granted"\]$/),
          );
          expect(ours).toContainEqual(
            expect.stringMatching(/^rcvd \[CHAP Success id=0x\w+ "Access granted"\]$/),
          );
        },
      );
      await withPppd(
        'c1-wrong',
        vmOpts(),
        { role: 'client', auth: { user: 'alice', password: 'wrong' } },
        async ({ vm, link }) => {
          const err = await link.ready.then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
          expect(err?.code).toBe('PPP_AUTH_FAILED');
          await vm.waitFor(/Peer alice failed CHAP authentication/);
          expect(pppdLines(vm.log())).toContainEqual(
            expect.stringMatching(/^sent \[CHAP Failure id=0x\w+ "Access denied"\]$/),
          );
        },
      );
    },
    VM_TEST_TIMEOUT,
  );

  test.concurrent(
    '(c2) ts-vpn requires PAP, pppd authenticates',
    async () => {
      const seen: string[] = [];
      await withPppd(
        'c2',
        {
          args: ['noauth', 'debug', 'noipdefault', 'user', 'bob'],
          papSecrets: 'bob * "hunter2" *\n',
        },
        {
          role: 'server',
          local: '10.66.1.1',
          peer: '10.66.1.2',
          auth: {
            require: 'pap',
            verify: (u, p) => {
              seen.push(`${u}/${p}`);
              return u === 'bob' && p === 'hunter2';
            },
          },
        },
        async ({ vm, link }) => {
          const info = await link.ready;
          expect(info.ipv4).toMatchObject({ local: '10.66.1.1', peer: '10.66.1.2' });
          await vm.waitFor(/remote IP address 10\.66\.1\.1/);
          expect(seen).toEqual(['bob/hunter2']);
          const lines = pppdLines(vm.log());
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^rcvd \[LCP ConfReq id=0x1 <asyncmap 0x0> <auth pap> <magic 0x\w+> <pcomp> <accomp>\]$/,
            ),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(/^sent \[PAP AuthReq id=0x\w+ user="bob" password=<hidden>\]$/),
          );
          expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[PAP AuthAck id=0x\w+/));
          expect(lines).toContain('PAP authentication succeeded');
        },
      );
    },
    VM_TEST_TIMEOUT,
  );

  test.concurrent(
    '(c3) ts-vpn requires CHAP-MD5, pppd authenticates',
    async () => {
      await withPppd(
        'c3',
        {
          args: ['noauth', 'debug', 'noipdefault', 'user', 'bob'],
          chapSecrets: 'bob * "correct horse" *\n',
        },
        {
          role: 'server',
          local: '10.66.2.1',
          peer: '10.66.2.2',
          auth: {
            require: 'chap',
            name: 'tsvpn-gw',
            secretFor: (peer) => (peer === 'bob' ? 'correct horse' : null),
          },
        },
        async ({ vm, link }) => {
          const info = await link.ready;
          expect(info.ipv4).toMatchObject({ local: '10.66.2.1', peer: '10.66.2.2' });
          await vm.waitFor(/remote IP address 10\.66\.2\.1/);
          const lines = pppdLines(vm.log());
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^rcvd \[LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x\w+> <pcomp> <accomp>\]$/,
            ),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(
              /^rcvd \[CHAP Challenge id=0x\w+ <[0-9a-f]+>, name = "tsvpn-gw"\]$/,
            ),
          );
          expect(lines).toContainEqual(
            expect.stringMatching(/^sent \[CHAP Response id=0x\w+ <[0-9a-f]{32}>, name = "bob"\]$/),
          );
          expect(lines).toContain('CHAP authentication succeeded');
        },
      );
    },
    VM_TEST_TIMEOUT,
  );

  (canUseNetns() ? test.concurrent : test.skip)(
    '(d) pppd client ↔ the `ts-vpn serve` binary (TUN in a namespace): ping both ways, pppd hangs up',
    async () => {
      await ensureBuilt();
      const id = uniqueId();
      const ns = `tv-pv-${id}`;
      const dir = mkdtempSync(join(tmpdir(), 'tv-pppd-serve-'));
      let vm: PppdVm | null = null;
      let serve: ChildProcess | null = null;
      let serveLog = '';
      const release = await vmSlot();
      try {
        sh('ip', ['netns', 'add', ns]);
        sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        const yaml = join(dir, 'server.yaml');
        writeFileSync(
          yaml,
          `local-address: 10.67.0.1\npeer-address: 10.67.0.2\ndns: [10.67.0.53]\necho-interval: 1\nstate-dir: ${join(dir, 'state')}\ndebug: true\n`,
        );
        vm = await startPppdVm({
          args: ['noauth', 'debug', 'noipdefault', 'usepeerdns', 'lcp-echo-interval', '1'],
          // Ping ts-vpn's TUN address, give the namespace time to ping back, then hang up.
          ipUp: 'ping -c 3 -w 15 "$5"; sleep 5; echo TV-HANGUP; kill -TERM $PPID',
        });
        const line = vm.line;
        serve = spawn('ip', ['netns', 'exec', ns, NODE, CLI, 'serve', '--config', yaml], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const child = serve;
        child.stderr?.on('data', (d: Buffer) => {
          serveLog += d.toString('utf8');
        });
        // The relay: what `pppd pty "ssh gw ts-vpn serve"` or an SSH exec channel does.
        line.pipe(child.stdin!);
        child.stdout!.pipe(line);
        child.stdin!.on('error', () => undefined);
        const served = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

        await vm.waitFor(/TV-IP-UP ppp0 \/dev\/ttyS0 115200 10\.67\.0\.2 10\.67\.0\.1/, 30_000);
        await until(
          'serve: session up',
          () => /serve: session up: (\S+) 10\.67\.0\.1 → 10\.67\.0\.2/.test(serveLog),
          10_000,
        );
        const ifName = /serve: session up: (\S+) /.exec(serveLog)![1]!;
        // The VM pings the namespace's kernel through pppd and ts-vpn's TUN device.
        await vm.waitFor(/3 packets transmitted, 3 packets received, 0% packet loss/, 20_000);
        // The namespace pings the VM through ts-vpn's TUN, pppd and the VM kernel
        // (asynchronously: this process relays the line).
        const p = await run('ip', [
          'netns',
          'exec',
          ns,
          'ping',
          '-c',
          '3',
          '-i',
          '0.3',
          '-w',
          '8',
          '10.67.0.2',
        ]);
        expect(p).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
        // pppd hangs up (SIGTERM): LCP Terminate; serve ends and removes its TUN device.
        await vm.waitFor(/TV-HANGUP/, 20_000);
        const code = await Promise.race([
          served,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000)),
        ]);
        expect(code).toBe(0);
        const exit = await vm.exited;
        const lines = pppdLines(vm.log());
        expect(lines).toContain('Terminating on signal 15');
        expect(lines).toContainEqual(
          expect.stringMatching(/^sent \[LCP TermReq id=0x\w+ "User request"\]$/),
        );
        expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[LCP TermAck id=0x\w+/));
        expect(lines).toContain('primary   DNS address 10.67.0.53');
        expect(exit.pppdStatus).toBe(5); // EXIT_USER_REQUEST
        expect(serveLog).toMatch(/serve: session ended: .*User request.*removed /);
        expect(nsTry(ns, 'ip', ['link', 'show', ifName]).code).not.toBe(0);
      } catch (err) {
        (err as Error).message +=
          `\n--- pppd VM console (d) ---\n${vm?.log() ?? ''}\n--- ip-up scripts ---\n${vm?.scriptLog() ?? ''}\n--- ts-vpn serve ---\n${serveLog}`;
        throw err;
      } finally {
        if (verbose)
          console.log(
            `--- d: pppd VM console ---\n${vm?.log() ?? ''}\n--- d: ip-up scripts ---\n${vm?.scriptLog() ?? ''}\n--- d: ts-vpn serve ---\n${serveLog}`,
          );
        if (serve?.pid !== undefined && serve.exitCode === null && serve.signalCode === null) {
          // `ip netns exec` execs node: this pid is ts-vpn serve itself.
          serve.kill('SIGTERM');
          await new Promise((r) => setTimeout(r, 500));
          if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
        }
        await vm?.stop();
        release();
        deleteNetns(ns);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    VM_TEST_TIMEOUT,
  );
  (canUseNetns() ? test.concurrent : test.skip)(
    '(e) `ts-vpn up` (installed CLI, TUN in a namespace) ↔ pppd server through `remote.transport: command`: address, ping, down, LCP Terminate',
    async () => {
      await ensureBuilt();
      const id = uniqueId();
      const ns = `tv-pu-${id}`;
      const name = `vm-${id}`;
      // mkdtemp makes it 0700 and root's: peer.yaml and the relay copy pass StrictModes.
      const dir = mkdtempSync(join(tmpdir(), 'tv-pppd-up-'));
      const stateDir = join(dir, 'state');
      const resolvConf = join(dir, 'resolv.conf');
      let vm: PppdVm | null = null;
      let up: ChildProcess | null = null;
      let upLog = '';
      let relayServer: Server | null = null;
      const release = await vmSlot();
      try {
        sh('ip', ['netns', 'add', ns]);
        sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        vm = await startPppdVm({
          args: [
            'noauth',
            'debug',
            'lcp-echo-interval',
            '1',
            'ms-dns',
            '10.68.0.53',
            '10.68.0.1:10.68.0.2',
          ],
        });
        const line = vm.line;
        // The VM's PPP line is a socket qemu connected to us; `ts-vpn up`'s command
        // (the relay) connects to a second socket, bridged here to that line. One
        // connection only: the line is a single serial port.
        const relaySock = join(dir, 'line.sock');
        const server = createServer();
        relayServer = server;
        server.once('connection', (c) => {
          server.close();
          c.pipe(line);
          line.pipe(c);
          c.on('error', () => undefined);
        });
        await new Promise<void>((res, rej) => {
          server.once('error', rej);
          server.listen(relaySock, () => res());
        });
        // A copy inside the private directory (root's, not group/other-writable), whatever
        // the checkout's owner and modes: StrictModes checks what the command runs.
        const relay = join(dir, 'stdio-unix-relay.mjs');
        copyFileSync(STDIO_UNIX_RELAY, relay);
        const yaml = join(dir, 'peer.yaml');
        writeFileSync(
          yaml,
          `name: ${name}
remote:
  transport: command
  command: ${JSON.stringify(`${NODE} ${relay} UNIX-CONNECT:${relaySock}`)}
  kind: pppd
ppp:
  accept-local: [10.68.0.0/24]
  accept-peer: [10.68.0.0/24]
  use-peer-dns: true
  echo-interval: 1
  debug: true
dns:
  write-to: ${resolvConf}
reconnect:
  enabled: false
`,
          { mode: 0o600 },
        );
        up = spawn('ip', ['netns', 'exec', ns, NODE, CLI, 'up', yaml, '--state-dir', stateDir], {
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: '/',
        });
        const child = up;
        const onLog = (d: Buffer) => {
          upLog += d.toString('utf8');
        };
        child.stdout!.on('data', onLog);
        child.stderr!.on('data', onLog);
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
          child.once('exit', (code, signal) => res({ code, signal })),
        );

        await until('ts-vpn up: tunnel up', () => /tunnel up:/.test(upLog), 60_000);
        expect(upLog).toMatch(/command: started ".*stdio-unix-relay\.mjs .*" \(pid \d+\)/);
        const m = /tunnel up: (\S+) 10\.68\.0\.2 → 10\.68\.0\.1/.exec(upLog);
        expect(m, 'tunnel up line with the address pppd assigned').not.toBeNull();
        const ifName = m![1]!;
        await vm.waitFor(/^TV-IP-UP ppp0 \/dev\/ttyS0 115200 10\.68\.0\.1 10\.68\.0\.2$/m, 30_000);
        // The TUN device in the namespace carries the address pppd assigned.
        const addr = await run('ip', ['-n', ns, '-4', 'addr', 'show', 'dev', ifName]);
        expect(addr).toMatch(/inet 10\.68\.0\.2 peer 10\.68\.0\.1\/32 /);
        expect(readFileSync(resolvConf, 'utf8')).toMatch(/^nameserver 10\.68\.0\.53$/m);
        // The namespace pings pppd's address: TUN → ts-vpn up → relay → pppd → VM kernel.
        const p = await run('ip', [
          'netns',
          'exec',
          ns,
          'ping',
          '-c',
          '3',
          '-i',
          '0.3',
          '-w',
          '10',
          '10.68.0.1',
        ]);
        expect(p).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);

        // `ts-vpn down` (asynchronous: this process relays the line).
        const down = await runCode('ip', [
          'netns',
          'exec',
          ns,
          NODE,
          CLI,
          'down',
          name,
          '--state-dir',
          stateDir,
        ]);
        expect(down.code, down.out).toBe(0);
        const r = await Promise.race([
          exited,
          new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 15_000)),
        ]);
        expect(r).toEqual({ code: 0, signal: null });
        expect(nsTry(ns, 'ip', ['link', 'show', ifName]).code).not.toBe(0);
        // pppd saw our LCP Terminate-Request, acknowledged it and ended.
        const exit = await vm.exited;
        const lines = pppdLines(vm.log());
        expect(lines).toContainEqual(expect.stringMatching(/^rcvd \[LCP TermReq id=0x\w+/));
        expect(lines).toContainEqual(expect.stringMatching(/^sent \[LCP TermAck id=0x\w+/));
        expect(lines).toContainEqual(expect.stringMatching(/^LCP terminated by peer/));
        expect(upLog).toMatch(/rcvd \[LCP TermAck id=0x\w+\]/);
        expect(upLog).toContain(`removed ${ifName}`);
        expect(lines).toContainEqual(
          expect.stringMatching(
            /^sent \[IPCP ConfNak id=0x\w+ <addr 10\.68\.0\.2>.*<ms-dns1 10\.68\.0\.53>/,
          ),
        );
        expect(exit.pppdStatus).not.toBeNull();
      } catch (err) {
        (err as Error).message +=
          `\n--- pppd VM console (e) ---\n${vm?.log() ?? ''}\n--- ts-vpn up ---\n${upLog}`;
        throw err;
      } finally {
        if (verbose)
          console.log(
            `--- e: pppd VM console ---\n${vm?.log() ?? ''}\n--- e: ts-vpn up ---\n${upLog}`,
          );
        if (up?.pid !== undefined && up.exitCode === null && up.signalCode === null) {
          // `ip netns exec` execs node: this pid is ts-vpn up itself.
          up.kill('SIGTERM');
          await new Promise((r) => setTimeout(r, 1500));
          if (up.exitCode === null && up.signalCode === null) up.kill('SIGKILL');
        }
        relayServer?.close();
        await vm?.stop();
        release();
        deleteNetns(ns);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    VM_TEST_TIMEOUT,
  );
});
