import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNetns,
  ipJson,
  type Netns,
  nsSpawn,
  removeStale,
  uniqueId,
} from '../support/netns.js';
import { TunAgent } from './agent.js';
import { netnsAvailable, PREFIX, READERS, readerTag } from './env.js';
import { inetChecksum, toHex } from './packets.js';

const haveNetns = netnsAvailable();

interface Stats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txDrops: number;
  rxStalls: number;
  rxDrops: number;
  errors: number;
  wakeups: number;
  delivered: number;
  badLength: number;
  reader: string;
  maxBatchSeen: number;
}

/** Sends `count` UDP datagrams of `size` bytes to `dst` from a separate process in `ns`; resolves with the number sent. */
function udpFlood(ns: string, dst: string, count: number, size: number): Promise<number> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const buf = Buffer.alloc(${size}, 0xab);
    let queued = 0, done = 0;
    function go() {
      for (let i = 0; i < 2000 && queued < ${count}; i++, queued++)
        s.send(buf, 9, ${JSON.stringify(dst)}, () => { if (++done === ${count}) { console.log(done); s.close(); } });
      if (queued < ${count}) setImmediate(go);
    }
    go();`;
  const p = nsSpawn(ns, process.execPath, ['-e', script]);
  let out = '';
  p.stdout?.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error('flood did not finish in 20 s'));
    }, 20_000);
    p.once('exit', (code) => {
      clearTimeout(t);
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`flood exited ${code}`));
    });
  });
}

/** An IPv4/UDP packet from `src` to `dst` port 9 (discard), with a valid header checksum. */
function udpPacket(src: number[], dst: number[], payload: number): Uint8Array {
  const len = 28 + payload;
  const p = new Uint8Array(len);
  p.set([0x45, 0, len >> 8, len & 255, 0, 0, 0x40, 0, 64, 17, 0, 0, ...src, ...dst]);
  const c = inetChecksum(p.subarray(0, 20));
  p[10] = c >> 8;
  p[11] = c & 255;
  p.set([0x30, 0x39, 0, 9, (len - 20) >> 8, (len - 20) & 255, 0, 0], 20); // UDP checksum 0 = none
  return p;
}

describe.skipIf(!haveNetns).each(READERS)('TunDevice under a burst (%s reader)', (reader) => {
  const id = `${readerTag(reader)}${uniqueId()}`;
  let ns: Netns;
  let a: TunAgent;
  let dev: { name: string; ifindex: number };

  beforeAll(async () => {
    removeStale(`${PREFIX}burst-${readerTag(reader)}`);
    ns = createNetns(`${PREFIX}burst-${id}`);
    a = new TunAgent(ns.name, reader);
    // A small ring (256 KiB) so that the burst overflows it.
    dev = await a.call('open', { name: `tvb${id}`, ringBytes: 256 * 1024 });
    await a.nc('disableIpv6AutoAddress', dev.ifindex);
    await a.nc('setAddress4', dev.ifindex, '198.18.11.2', '198.18.11.1');
    await a.nc('setUp', dev.ifindex);
  });

  afterAll(() => {
    a?.kill();
    ns?.destroy();
  });

  it('keeps memory bounded while the consumer is stalled: the ring fills, the kernel drops and counts', async () => {
    const rss0 = (await a.call<{ rss: number }>('mem')).rss;
    const s0 = await a.call<Stats>('stats');
    const COUNT = 60_000;
    // Block the agent's main thread for 1.5 s while 60k × 1000-byte datagrams arrive.
    const blocked = a.call('block', { ms: 1500 });
    const sent = await udpFlood(ns.name, '198.18.11.1', COUNT, 1000);
    await blocked;
    await new Promise((r) => setTimeout(r, 300));
    const s1 = await a.call<Stats>('stats');
    const rss1 = (await a.call<{ rss: number }>('mem')).rss;
    const link = ipJson<Array<{ stats64: { tx: { packets: number; dropped: number } } }>>(ns.name, [
      '-s',
      'link',
      'show',
      'dev',
      dev.name,
    ])[0];
    const got = s1.rxPackets - s0.rxPackets;
    expect(sent).toBe(COUNT);
    expect(s1.reader).toBe(reader);
    // worker: the ring filled up. loop: nothing queues in-process, the kernel queue does.
    if (reader === 'worker') expect(s1.rxStalls).toBeGreaterThan(0);
    // What piled up while blocked came out in batches, not one packet per wakeup.
    expect(s1.maxBatchSeen).toBeGreaterThan(1);
    expect(link.stats64.tx.dropped).toBeGreaterThan(0); // … and the kernel's queue overflowed
    expect(got).toBeLessThan(COUNT);
    expect(got + link.stats64.tx.dropped).toBeLessThanOrEqual(COUNT + 10); // (+ a few IPv6/ICMP stray packets at most)
    expect(rss1 - rss0).toBeLessThan(64 * 1024 * 1024);
    expect(s1.errors).toBe(0);
    // Every packet came out of the ring whole, across many wraps of the 256 KiB ring.
    expect(s1.delivered - s0.delivered).toBe(got);
    expect(s1.badLength).toBe(0);
  });

  it('writes 100k packets quickly, counting every one, and counts drops when the link is down', async () => {
    const pkt = toHex(udpPacket([198, 18, 11, 1], [198, 18, 11, 2], 1000));
    const rss0 = (await a.call<{ rss: number }>('mem')).rss;
    const s0 = await a.call<Stats>('stats');
    const t0 = performance.now();
    const ok = await a.call<number>('writeMany', { hex: pkt, count: 100_000 });
    const secs = (performance.now() - t0) / 1000;
    const s1 = await a.call<Stats>('stats');
    expect(ok + (s1.txDrops - s0.txDrops)).toBe(100_000);
    expect(s1.txPackets - s0.txPackets).toBe(ok);
    expect(ok).toBeGreaterThan(90_000);
    expect((await a.call<{ rss: number }>('mem')).rss - rss0).toBeLessThan(64 * 1024 * 1024);
    console.log(
      `[tun burst] wrote ${ok} packets of 1028 bytes in ${secs.toFixed(2)} s (${Math.round(ok / secs / 1000)} kpps incl. RPC)`,
    );

    await a.nc('setDown', dev.ifindex);
    expect(await a.call('write', { hex: pkt })).toBe(false); // EIO: interface down
    const s2 = await a.call<Stats>('stats');
    expect(s2.txDrops).toBe(s1.txDrops + 1);
    expect(s2.errors).toBe(0);
    await a.nc('setUp', dev.ifindex);
  });

  it('pause() stops delivery (the kernel queue holds and drops), resume() carries on', async () => {
    await a.call('clearQueue');
    await a.call('pause');
    const s0 = await a.call<Stats>('stats');
    expect(await udpFlood(ns.name, '198.18.11.1', 3000, 200)).toBe(3000);
    await new Promise((r) => setTimeout(r, 200));
    const s1 = await a.call<Stats>('stats');
    expect(s1.delivered).toBe(s0.delivered);
    await a.call('resume');
    const hex = await a.call<string | null>('next', { proto: 17, timeoutMs: 3000 });
    expect(hex).not.toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    const s2 = await a.call<Stats>('stats');
    // At most txqueuelen (500) waited in the kernel (+ the worker's ring, which is bounded too).
    expect(s2.delivered - s1.delivered).toBeGreaterThan(0);
    expect(s2.delivered - s1.delivered).toBeLessThan(3000);
    expect(s2.badLength).toBe(0);
  });

  it('still carries traffic after the burst, and closes cleanly', async () => {
    await a.call('clearQueue');
    const sent = await udpFlood(ns.name, '198.18.11.1', 10, 100);
    expect(sent).toBe(10);
    const hex = await a.call<string | null>('next', { proto: 17, timeoutMs: 3000 });
    expect(hex).not.toBeNull();
    await a.call('close');
    const exit = await Promise.race([
      a.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    expect(exit?.code).toBe(0);
  });
});
