/**
 * vnet mode end to end: two namespaces A and B, each with a vnet-mode TUN
 * (offload on) owned by a child process; the children relay every frame read
 * from their TUN, header included and unchanged, to the other over a unix
 * socket, after validateVnetFrame() (as frames from a network peer must be).
 * A TCP transfer A → B then only works if B's kernel accepts the GSO frames
 * that A's kernel produced. Runs for both readers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, nsSpawn, removeStale, uniqueId } from '../support/netns.js';
import { netnsAvailable, PREFIX, READERS, readerTag } from './env.js';

const haveNetns = netnsAvailable();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TCP_TOOL = fileURLToPath(new URL('../support/tcp-tool.mjs', import.meta.url));
const MTU = 1500;
const BYTES = 32 * 1024 * 1024;

/**
 * The relay child (ESM, run with tsx). argv: role (a listens, b connects), unix
 * socket path, interface name, local, peer, reader. stdout: JSON lines; stdin:
 * "stats" | "ping" (b: writeIp an ICMP echo request to its own kernel) | "close".
 */
const RELAY = `
import net from 'node:net';
import { createInterface } from 'node:readline';
const root = process.env.VNET_ROOT;
const { TunDevice } = await import(root + '/src/tun/device.ts');
const { NetConfig } = await import(root + '/src/tun/netconfig.ts');
const v = await import(root + '/src/wire/vnet-hdr.ts');
const [role, sockPath, ifname, local, peer, reader] = process.argv.slice(-6);
const MTU = ${MTU};
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');

// A plain device refuses setOffload.
let plainError = null;
{
  const plain = TunDevice.open({ name: ifname + 'p', reader });
  try { plain.setOffload(true); } catch (e) { plainError = e.code; }
  await plain.close();
}

const tun = TunDevice.open({ name: ifname, vnetHdr: true, reader });
tun.setOffload(true);
const nc = new NetConfig();
await nc.disableIpv6AutoAddress(tun.ifindex);
await nc.setMtu(tun.ifindex, MTU);
await nc.setAddress4(tun.ifindex, local, peer);
await nc.setUp(tun.ifindex);
const gsoMaxSize = (await import(root + '/src/tun/link-gso.ts')).linkGso(tun.ifindex).gsoMaxSize;

const r = { frames: 0, bytes: 0, super4: 0, super6: 0, superOther: 0, maxFrame: 0, needsCsum: 0,
  fromPeer: 0, invalid: 0, firstInvalid: null, writeFails: 0, echoReplies: 0 };
let sock = null;
let pending = [];
tun.onPackets((frames) => {
  const parts = [];
  for (const f of frames) {
    r.frames++;
    r.bytes += f.length;
    if (f.length > r.maxFrame) r.maxFrame = f.length;
    if (f[0] & v.VIRTIO_NET_HDR_F_NEEDS_CSUM) r.needsCsum++;
    const g = f[1] & ~v.VIRTIO_NET_HDR_GSO_ECN;
    if (f.length > MTU + v.VNET_HDR_LEN) {
      if (g === v.VIRTIO_NET_HDR_GSO_TCPV4) r.super4++;
      else if (g === v.VIRTIO_NET_HDR_GSO_TCPV6) r.super6++;
      else r.superOther++;
    }
    const p = f.subarray(v.VNET_HDR_LEN);
    // ICMP echo reply to the request "ping" wrote with writeIp (id 0x7e57).
    if (p[0] === 0x45 && p[9] === 1 && p[20] === 0 && p[24] === 0x7e && p[25] === 0x57) r.echoReplies++;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(f.length);
    parts.push(len, Buffer.from(f));
  }
  const buf = Buffer.concat(parts);
  if (!sock) { pending.push(buf); return; }
  if (!sock.write(buf)) { tun.pause(); sock.once('drain', () => tun.resume()); }
});

function attach(s) {
  sock = s;
  for (const b of pending) s.write(b);
  pending = [];
  let acc = Buffer.alloc(0);
  s.on('data', (d) => {
    acc = acc.length ? Buffer.concat([acc, d]) : d;
    let at = 0;
    while (acc.length - at >= 4) {
      const n = acc.readUInt32LE(at);
      if (acc.length - at - 4 < n) break;
      const frame = acc.subarray(at + 4, at + 4 + n);
      at += 4 + n;
      r.fromPeer++;
      const why = v.validateVnetFrame(frame);
      if (why) { r.invalid++; r.firstInvalid ??= why; continue; }
      if (!tun.write(frame)) r.writeFails++;
    }
    acc = acc.subarray(at);
  });
  s.on('error', () => {});
  out({ ready: true, name: tun.name, ifindex: tun.ifindex, gsoMaxSize, offload: tun.offload, plainError });
}

let server = null;
if (role === 'a') {
  server = net.createServer((s) => { server.close(); attach(s); });
  server.listen(sockPath, () => out({ listening: true }));
} else {
  const s = net.createConnection(sockPath, () => attach(s));
}

function icmpEcho() {
  const p = new Uint8Array(28 + 32);
  p.set([0x45, 0, 0, p.length, 0, 0, 0x40, 0, 64, 1, 0, 0, ...peer.split('.').map(Number), ...local.split('.').map(Number)]);
  const sum = (a, from, to) => { let s = 0; for (let i = from; i < to; i += 2) s += (a[i] << 8) | a[i + 1]; while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return ~s & 0xffff; };
  let c = sum(p, 0, 20); p[10] = c >> 8; p[11] = c & 255;
  p.set([8, 0, 0, 0, 0x7e, 0x57, 0, 1], 20);
  c = sum(p, 20, p.length); p[22] = c >> 8; p[23] = c & 255;
  return p;
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  if (line === 'stats') out({ stats: tun.stats(), relay: r });
  else if (line === 'ping') out({ ping: tun.writeIp(icmpEcho()) });
  else if (line === 'close') {
    const t0 = performance.now();
    await tun.close();
    const closeMs = performance.now() - t0;
    sock?.destroy();
    server?.close();
    nc.close();
    rl.close();
    process.stdin.destroy();
    out({ closed: true, closeMs, stats: tun.stats(), relay: r });
  }
});
`;

interface Relay {
  frames: number;
  bytes: number;
  super4: number;
  super6: number;
  superOther: number;
  maxFrame: number;
  needsCsum: number;
  fromPeer: number;
  invalid: number;
  firstInvalid: string | null;
  writeFails: number;
  echoReplies: number;
}

interface Stats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txDrops: number;
  rxGsoPackets: number;
  txGsoPackets: number;
  rxTruncated: number;
  errors: number;
  wakeups: number;
}

type Msg = {
  listening?: boolean;
  ready?: boolean;
  gsoMaxSize?: number;
  offload?: boolean;
  plainError?: string | null;
  ping?: boolean;
  closed?: boolean;
  closeMs?: number;
  stats?: Stats;
  relay?: Relay;
};

class Child {
  readonly proc;
  private buf = '';
  private waiters: { test: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(ns: string, args: string[]) {
    this.proc = nsSpawn(
      ns,
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', RELAY, '--', ...args],
      { cwd: ROOT, env: { ...process.env, VNET_ROOT: ROOT }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stdout?.on('data', (d: string) => {
      this.buf += d;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const m = JSON.parse(this.buf.slice(0, nl)) as Msg;
        this.buf = this.buf.slice(nl + 1);
        const i = this.waiters.findIndex((w) => w.test(m));
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
      }
    });
    this.proc.stderr?.on('data', (d) => {
      this.stderr += d;
    });
  }

  wait(test: (m: Msg) => boolean, ms = 15_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child: no answer; stderr: ${this.stderr}`)), ms);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
      void this.exited.then(() => {
        clearTimeout(t);
        reject(new Error(`child exited; stderr: ${this.stderr}`));
      });
    });
  }

  send(cmd: string, test: (m: Msg) => boolean): Promise<Msg> {
    const p = this.wait(test);
    this.proc.stdin?.write(`${cmd}\n`);
    return p;
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

function run(
  ns: string,
  args: string[],
  ms: number,
  env: Record<string, string> = {},
): Promise<string> {
  const p = nsSpawn(ns, process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d) => (out += d));
  p.stderr?.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: no exit in ${ms} ms`));
    }, ms);
    p.once('exit', (code) => {
      clearTimeout(t);
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

describe.skipIf(!haveNetns).each(READERS)('TUN vnet mode, GSO relay (%s reader)', (reader) => {
  const id = `${readerTag(reader)}${uniqueId()}`;
  let nsA: Netns;
  let nsB: Netns;
  let dir: string;
  let a: Child;
  let b: Child;

  beforeAll(async () => {
    removeStale(`${PREFIX}vnet-${readerTag(reader)}`);
    nsA = createNetns(`${PREFIX}vnet-${id}a`);
    nsB = createNetns(`${PREFIX}vnet-${id}b`);
    dir = mkdtempSync(path.join(tmpdir(), `tvvnet-${id}-`));
    const sock = path.join(dir, 'relay.sock');
    a = new Child(nsA.name, ['a', sock, `tvv${id}a`, '10.99.0.1', '10.99.0.2', reader]);
    await a.wait((m) => m.listening === true);
    b = new Child(nsB.name, ['b', sock, `tvv${id}b`, '10.99.0.2', '10.99.0.1', reader]);
  }, 30_000);

  afterAll(() => {
    a?.kill();
    b?.kill();
    nsA?.destroy();
    nsB?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens in vnet mode with offload on and gso_max_size capped; a plain device refuses setOffload', async () => {
    const [ra, rb] = await Promise.all([
      a.wait((m) => m.ready === true),
      b.wait((m) => m.ready === true),
    ]);
    for (const r of [ra, rb]) {
      expect(r.offload).toBe(true);
      expect(r.gsoMaxSize).toBe(64 * 1024 - 1024);
      expect(r.plainError).toBe('INVALID_ARGUMENT');
    }
  }, 30_000);

  it('writeIp puts a plain packet behind a zero header: the kernel answers an echo request', async () => {
    const before = (await b.send('stats', (m) => m.relay !== undefined)).relay as Relay;
    expect((await b.send('ping', (m) => m.ping !== undefined)).ping).toBe(true);
    let after = before;
    for (let i = 0; i < 50 && after.echoReplies === before.echoReplies; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = (await b.send('stats', (m) => m.relay !== undefined)).relay as Relay;
    }
    expect(after.echoReplies).toBe(before.echoReplies + 1);
  });

  it(`moves ${BYTES >> 20} MiB over one TCP connection A → B through relayed GSO frames`, async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const recv = nsSpawn(nsB.name, process.execPath, [TCP_TOOL, 'recv', String(port)]);
    let recvOut = '';
    recv.stdout?.on('data', (d) => (recvOut += d));
    const recvDone = new Promise<void>((resolve) => recv.once('exit', () => resolve()));
    try {
      for (let i = 0; i < 100 && !recvOut.includes('listening'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(recvOut).toContain('listening');
      const t0 = performance.now();
      const sent = JSON.parse(
        await run(nsA.name, [TCP_TOOL, 'send', '10.99.0.2', String(port), String(BYTES)], 60_000),
      ) as { bytes: number; sha256: string };
      await Promise.race([recvDone, new Promise((r) => setTimeout(r, 10_000))]);
      const ms = performance.now() - t0;
      const got = JSON.parse(recvOut.split('\n')[1]) as { bytes: number; sha256: string };
      expect(sent.bytes).toBe(BYTES);
      expect(got.bytes).toBe(BYTES);
      expect(got.sha256).toBe(sent.sha256);

      const sa = (await a.send('stats', (m) => m.relay !== undefined)) as Required<Msg>;
      const sb = (await b.send('stats', (m) => m.relay !== undefined)) as Required<Msg>;
      // A's kernel handed us TCPv4 super-packets, beyond the MTU, below the cap.
      expect(sa.relay.super4).toBeGreaterThan(0);
      expect(sa.relay.superOther).toBe(0);
      expect(sa.relay.maxFrame).toBeGreaterThan(MTU + 10);
      expect(sa.relay.maxFrame).toBeLessThanOrEqual(64 * 1024 - 1024 + 10);
      expect(sa.stats.rxGsoPackets).toBeGreaterThanOrEqual(sa.relay.super4);
      expect(sa.stats.rxTruncated).toBe(0);
      // B validated every frame and its kernel accepted all of them, super-packets included.
      expect(sb.relay.invalid).toBe(0);
      expect(sb.relay.firstInvalid).toBeNull();
      expect(sb.relay.writeFails).toBe(0);
      expect(sb.stats.txGsoPackets).toBe(sa.stats.rxGsoPackets);
      expect(sb.stats.txDrops).toBe(0);
      expect(sa.relay.invalid + sa.relay.writeFails).toBe(0);
      const avg = sa.stats.rxBytes / sa.stats.rxPackets;
      console.log(
        `[vnet ${reader}] ${BYTES >> 20} MiB in ${ms.toFixed(0)} ms; A read ${sa.stats.rxPackets} frames ` +
          `(${sa.relay.super4} TCPv4 super-packets, avg ${avg.toFixed(0)} B, max ${sa.relay.maxFrame} B, ` +
          `${sa.stats.wakeups} wakeups) where ${MTU}-byte packets would be ≥ ${Math.ceil(BYTES / (MTU - 52))}; ` +
          `B wrote ${sb.stats.txPackets} frames (${sb.stats.txGsoPackets} GSO); B read ${sb.stats.rxPackets} frames (ACKs)`,
      );
    } finally {
      if (recv.exitCode === null) recv.kill('SIGKILL');
    }
  }, 90_000);

  it('close() is prompt in vnet mode and each child exits by itself', async () => {
    for (const c of [a, b]) {
      const m = await c.send('close', (x) => x.closed === true);
      expect(m.closeMs).toBeLessThan(2000);
      const code = await Promise.race([
        c.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000)),
      ]);
      expect(code).toBe(0);
    }
    // The interfaces are gone with their fds.
    expect(nsA.exec('ip', ['-o', 'link']).includes(`tvv${id}a`)).toBe(false);
    expect(nsB.exec('ip', ['-o', 'link']).includes(`tvv${id}b`)).toBe(false);
  }, 30_000);
});

/**
 * Truncation child: a vnet device with maxPacket 300 receives a burst of UDP
 * datagrams alternately too long (1000 B) and short (100 B); prints the
 * delivered frame lengths and the stats as one JSON line, then exits.
 */
const TRUNC = `
import dgram from 'node:dgram';
const root = process.env.VNET_ROOT;
const { TunDevice } = await import(root + '/src/tun/device.ts');
const { NetConfig } = await import(root + '/src/tun/netconfig.ts');
const [ifname, reader] = process.argv.slice(-2);
const tun = TunDevice.open({ name: ifname, vnetHdr: true, reader, maxPacket: 300 });
const nc = new NetConfig();
await nc.disableIpv6AutoAddress(tun.ifindex);
await nc.setAddress4(tun.ifindex, '10.99.1.1', '10.99.1.2');
await nc.setUp(tun.ifindex);
const lengths = [];
tun.onPackets((frames) => { for (const f of frames) lengths.push([f.length, (f[12] << 8) | f[13]]); });
const s = dgram.createSocket('udp4');
for (let i = 0; i < 20; i++) s.send(Buffer.alloc(i % 2 ? 72 : 972), 9, '10.99.1.2');
setTimeout(async () => {
  s.close();
  await tun.close();
  nc.close();
  process.stdout.write(JSON.stringify({ lengths, stats: tun.stats() }) + '\\n');
}, 500);
`;

describe.skipIf(!haveNetns).each(READERS)('TUN vnet mode, truncation (%s reader)', (reader) => {
  const id = `${readerTag(reader)}${uniqueId()}`;
  let ns: Netns;

  beforeAll(() => {
    removeStale(`${PREFIX}vntr-${readerTag(reader)}`);
    ns = createNetns(`${PREFIX}vntr-${id}`);
  });
  afterAll(() => ns?.destroy());

  it('drops and counts frames longer than maxPacket instead of delivering them cut', async () => {
    const out = await run(
      ns.name,
      ['--import', 'tsx', '--input-type=module', '-e', TRUNC, '--', `tvt${id}`, reader],
      20_000,
      { VNET_ROOT: ROOT },
    );
    const r = JSON.parse(out) as { lengths: [number, number][]; stats: Stats };
    // 10 datagrams of 72 B: 10 + 20 + 8 + 72 = 110-byte frames, IP total length 100.
    expect(r.lengths).toEqual(Array.from({ length: 10 }, () => [110, 100]));
    expect(r.stats.rxTruncated).toBe(10);
    expect(r.stats.rxPackets).toBe(10);
  }, 30_000);
});
