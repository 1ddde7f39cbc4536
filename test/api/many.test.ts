import { describe, expect, it } from 'vitest';
import { PppLink } from '../../src/api/index.js';
import { ipv4Packet, socketPair } from './support.js';

describe('many links in one process', () => {
  it('100 link pairs come up at once, carry a packet each and close cleanly', async () => {
    const N = 100;
    const pairs = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const [a, b] = await socketPair();
        const peer = `10.${100 + (i >> 8)}.${i & 0xff}.2`;
        const local = `10.${100 + (i >> 8)}.${i & 0xff}.1`;
        const client = new PppLink(a);
        const server = new PppLink(b, { role: 'server', local, peer });
        return { client, server, a, b, peer, local };
      }),
    );
    const infos = await Promise.all(pairs.map((p) => p.client.ready));
    await Promise.all(pairs.map((p) => p.server.ready));
    for (const [i, info] of infos.entries()) expect(info.ipv4?.local).toBe(pairs[i].peer);
    // Each link carries its own packet, nothing crosses over.
    const got = pairs.map(
      (p) => new Promise<Uint8Array>((r) => p.server.once('packet', (_v, d) => r(d))),
    );
    for (const [i, p] of pairs.entries())
      expect(p.client.send(ipv4Packet(p.peer, p.local, Uint8Array.of(i)))).toBe(true);
    const recvd = await Promise.all(got);
    for (const [i, d] of recvd.entries()) expect(d[20]).toBe(i);
    await Promise.all(pairs.map((p) => p.client.close()));
    const reasons = await Promise.all(pairs.map((p) => p.server.closed));
    expect(reasons.every((r) => r.code === 'PPP_LINK_DOWN')).toBe(true);
    expect(pairs.every((p) => p.a.destroyed && p.b.destroyed)).toBe(true);
    expect(pairs.every((p) => p.client.state === 'closed' && p.server.state === 'closed')).toBe(
      true,
    );
  }, 60_000);
});
