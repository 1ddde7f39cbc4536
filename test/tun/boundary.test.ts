/**
 * Packet boundaries and lifetime, for each reader: a burst of mixed-size
 * datagrams (tiny to 60 KB) must come out of the device one packet per view,
 * byte for byte, in order; closing under load must be prompt and leave nothing
 * that keeps the process alive.
 */
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

const haveNetns = netnsAvailable();

/** Deterministic sizes: mostly small and MTU-sized, some large (up to 60000). */
function sizes(count: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const r = x % 100;
    out.push(
      r < 40
        ? 4 + (x % 60)
        : r < 80
          ? 1000 + (x % 472)
          : r < 95
            ? 64 + (x % 1400)
            : 8000 + (x % 52000),
    );
  }
  return out;
}

/** Payload of datagram `seq`: seq (4 bytes BE), then bytes (seq * 7 + i) & 255. */
const PAYLOAD_JS = `(seq, size) => { const b = Buffer.alloc(size); b.writeUInt32BE(seq, 0); for (let i = 4; i < size; i++) b[i] = (seq * 7 + i) & 255; return b; }`;
const payload = new Function(`return ${PAYLOAD_JS}`)() as (seq: number, size: number) => Buffer;

/** Sends the datagrams one by one (each send awaited, in bursts of 64) from a process in `ns`. */
function sendAll(ns: string, dst: string, list: number[]): Promise<void> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const mk = ${PAYLOAD_JS};
    const sizes = ${JSON.stringify(list)};
    let seq = 0;
    function go() {
      let inflight = 0;
      for (let k = 0; k < 64 && seq < sizes.length; k++, seq++) {
        inflight++;
        s.send(mk(seq, sizes[seq]), 9, ${JSON.stringify(dst)}, () => { if (--inflight === 0) next(); });
      }
      if (inflight === 0) s.close();
    }
    function next() { if (seq < sizes.length) setImmediate(go); else s.close(); }
    go();`;
  const p = nsSpawn(ns, process.execPath, ['-e', script]);
  let err = '';
  p.stderr?.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error('sender did not finish in 20 s'));
    }, 20_000);
    p.once('exit', (code) => {
      clearTimeout(t);
      code === 0 ? resolve() : reject(new Error(`sender exited ${code}: ${err}`));
    });
  });
}

describe.skipIf(!haveNetns).each(READERS)('TunDevice packet boundaries (%s reader)', (reader) => {
  const id = `${readerTag(reader)}${uniqueId()}`;
  let ns: Netns;
  let a: TunAgent;
  let dev: { name: string; ifindex: number };

  beforeAll(async () => {
    removeStale(`${PREFIX}bnd-${readerTag(reader)}`);
    ns = createNetns(`${PREFIX}bnd-${id}`);
    a = new TunAgent(ns.name, reader);
    dev = await a.call('open', { name: `tvbd${id}` });
    await a.nc('disableIpv6AutoAddress', dev.ifindex);
    await a.nc('setMtu', dev.ifindex, 65535);
    await a.nc('setAddress4', dev.ifindex, '198.18.12.2', '198.18.12.1');
    // Room in the kernel queue for the whole burst: this test is about boundaries, not drops.
    ns.exec('ip', ['link', 'set', 'dev', dev.name, 'txqueuelen', '20000']);
    await a.nc('setUp', dev.ifindex);
  });

  afterAll(() => {
    a?.kill();
    ns?.destroy();
  });

  it('delivers each packet of a mixed-size burst as its own view, byte for byte, in order', async () => {
    const list = sizes(4000, 0x5eed + reader.length);
    await a.call('collect', { max: 20_000 });
    const s0 = await a.call<{ delivered: number; batches: number }>('stats');
    await sendAll(ns.name, '198.18.12.1', list);
    await new Promise((r) => setTimeout(r, 300));
    const got = (await a.call<string[]>('collected')).map((h) => Buffer.from(h, 'hex'));
    const s1 = await a.call<{
      delivered: number;
      batches: number;
      maxBatchSeen: number;
      badLength: number;
      reader: string;
    }>('stats');
    expect(s1.reader).toBe(reader);
    const udp = got.filter((p) => p[0] >> 4 === 4 && p[9] === 17 && p.readUInt16BE(22) === 9);
    expect(udp).toHaveLength(list.length);
    for (let seq = 0; seq < list.length; seq++) {
      const p = udp[seq];
      expect(p.readUInt16BE(2), `IP total length of #${seq}`).toBe(p.length);
      expect(p.length, `length of #${seq}`).toBe(28 + list[seq]);
      const body = p.subarray(28);
      if (!body.equals(payload(seq, list[seq])))
        expect.fail(`packet #${seq} (${list[seq]} bytes) differs from what was sent`);
    }
    expect(s1.badLength).toBe(0);
    // Several packets per delivery happened (so views of one batch sat side by side).
    expect(s1.maxBatchSeen).toBeGreaterThan(1);
    expect(s1.batches - s0.batches).toBeLessThanOrEqual(s1.delivered - s0.delivered);
  });

  it('closes promptly under load; the interface goes and the process exits by itself', async () => {
    const flood = sendAll(ns.name, '198.18.12.1', new Array(20_000).fill(1200)).catch(
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 150));
    const before = await a.call<{ delivered: number }>('stats');
    expect(before.delivered).toBeGreaterThan(0);
    const t0 = Date.now();
    await a.call('close');
    const exit = await Promise.race([
      a.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    expect(exit, 'agent did not exit within 2 s of close()').not.toBeNull();
    expect(exit?.code).toBe(0);
    expect((exit?.at ?? Number.POSITIVE_INFINITY) - t0).toBeLessThan(2000);
    expect(ipJson<Array<{ ifname: string }>>(ns.name, ['link']).map((l) => l.ifname)).toEqual([
      'lo',
    ]);
    await flood;
  });
});
