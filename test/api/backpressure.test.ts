import { describe, expect, it } from 'vitest';
import { PppLink } from '../../src/api/index.js';
import { ipv4Packet, socketPair } from './support.js';

describe('PppLink backpressure', () => {
  it('stops writing when the stream says so, resumes on drain, drops (counted) only beyond its bound', async () => {
    const [a, b] = await socketPair();
    const client = new PppLink(a, { ipv6: false });
    const server = new PppLink(b, {
      role: 'server',
      local: '10.8.0.1',
      peer: '10.8.0.2',
      ipv6: false,
    });
    await Promise.all([client.ready, server.ready]);
    let received = 0;
    server.on('packet', () => received++);
    // The far end stops reading: the socket buffers fill and write() returns false.
    b.pause();
    let drained = 0;
    client.on('drain', () => drained++);
    const pkt = ipv4Packet('10.8.0.2', '10.8.0.1', new Uint8Array(1400).fill(0x7e));
    let accepted = 0;
    let sawBlocked = false;
    for (let i = 0; i < 8000; i++) {
      if (client.send(pkt)) accepted++;
      if (!client.writable) sawBlocked = true;
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    const st = client.stats();
    expect(sawBlocked).toBe(true);
    expect(st.stream.backpressured).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(8000);
    expect(st.tx.drops).toBe(8000 - accepted);
    b.resume();
    const t0 = Date.now();
    while (received < accepted && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(received).toBe(accepted);
    expect(drained).toBeGreaterThan(0);
    expect(client.writable).toBe(true);
    await Promise.all([client.close(), server.close()]);
  }, 30_000);
});
