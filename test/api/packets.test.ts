import { describe, expect, it } from 'vitest';
import { PppLink, type PppPacket } from '../../src/api/index.js';
import { ipv4Packet, socketPair } from './support.js';

async function upPair() {
  const [a, b] = await socketPair();
  const client = new PppLink(a, { ipv6: false });
  const server = new PppLink(b, {
    role: 'server',
    local: '10.9.0.1',
    peer: '10.9.0.2',
    ipv6: false,
  });
  await Promise.all([client.ready, server.ready]);
  return { client, server };
}

const pkt = (i: number) => ipv4Packet('10.9.0.2', '10.9.0.1', Uint8Array.of(i >>> 8, i & 0xff));

async function settle(link: PppLink, n: number): Promise<void> {
  const t0 = Date.now();
  while (link.stats().rx.packets < n) {
    if (Date.now() - t0 > 5000)
      throw new Error(`only ${link.stats().rx.packets} of ${n} packets arrived`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PppLink.packets()', () => {
  it('yields received packets in order and ends when the link closes', async () => {
    const { client, server } = await upPair();
    const it = server.packets();
    for (let i = 0; i < 10; i++) expect(client.send(pkt(i))).toBe(true);
    const got: PppPacket[] = [];
    for await (const p of it) {
      got.push(p);
      if (got.length === 10) void client.close();
    }
    expect(got.map((p) => p.version)).toEqual(Array(10).fill(4));
    expect(got.map((p) => (p.data[20] << 8) | p.data[21])).toEqual([...Array(10).keys()]);
    expect(it.dropped).toBe(0);
    await server.closed;
  });

  it('keeps at most bufferSize packets for a slow consumer and counts the drops', async () => {
    const { client, server } = await upPair();
    const it = server.packets({ bufferSize: 8 });
    for (let i = 0; i < 50; i++) client.send(pkt(i));
    await settle(server, 50);
    expect(it.buffered).toBe(8);
    expect(it.dropped).toBe(42);
    expect(server.stats().rx.queueDrops).toBe(42);
    // The oldest 8 were kept (newest dropped, like a device queue).
    const first: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await it.next();
      first.push((r.value!.data[20] << 8) | r.value!.data[21]);
    }
    expect(first).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Space again: new packets are delivered to a waiting consumer.
    const waiting = it.next();
    client.send(pkt(99));
    const r = await waiting;
    expect((r.value!.data[20] << 8) | r.value!.data[21]).toBe(99);
    await Promise.all([client.close(), server.close()]);
    expect((await it.next()).done).toBe(true);
  });

  it('gives every iterator and listener the packet; break detaches the iterator', async () => {
    const { client, server } = await upPair();
    const seen: number[] = [];
    server.on('packet', (_v, d) => seen.push(d[21]));
    const a = server.packets();
    const b = server.packets({ bufferSize: 2 });
    for (let i = 0; i < 3; i++) client.send(pkt(i));
    await settle(server, 3);
    expect(seen).toEqual([0, 1, 2]);
    expect(a.buffered).toBe(3);
    expect(b.buffered).toBe(2);
    for await (const p of a) {
      expect(p.data[21]).toBe(0);
      break;
    }
    expect((await a.next()).done).toBe(true);
    client.send(pkt(3));
    await settle(server, 4);
    expect(b.dropped).toBe(2);
    expect(server.stats().rx.queueDrops).toBe(2);
    await Promise.all([client.close(), server.close()]);
  });

  it('counts packets nobody consumes as unclaimed', async () => {
    const { client, server } = await upPair();
    client.send(pkt(1));
    await settle(server, 1);
    expect(server.stats().rx.unclaimed).toBe(1);
    await Promise.all([client.close(), server.close()]);
  });

  it('an iterator made after close is already done', async () => {
    const { client, server } = await upPair();
    await Promise.all([client.close(), server.closed]);
    expect((await client.packets().next()).done).toBe(true);
  });
});
