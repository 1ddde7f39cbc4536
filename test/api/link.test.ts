import { describe, expect, it } from 'vitest';
import {
  isPppLinkError,
  PppLink,
  type PppLinkDownReason,
  PppLinkError,
} from '../../src/api/index.js';
import { ipv4Packet, ipv6Packet, seededRandom, socketPair } from './support.js';

async function linkPair(serverExtra = {}, clientExtra = {}, onClient?: (l: PppLink) => void) {
  const [a, b] = await socketPair();
  const client = new PppLink(a, { role: 'client', random32: seededRandom(1), ...clientExtra });
  onClient?.(client);
  const server = new PppLink(b, {
    role: 'server',
    local: '10.64.0.1',
    peer: '10.64.0.2',
    dns: ['10.64.0.53'],
    random32: seededRandom(2),
    ...serverExtra,
  });
  return { client, server, a, b };
}

describe('PppLink over a socket pair', () => {
  it('negotiates IPv4 and IPv6 and reports the values', async () => {
    const { client, server } = await linkPair();
    const [ci, si] = await Promise.all([client.ready, server.ready]);
    expect(ci.ipv4).toEqual({ local: '10.64.0.2', peer: '10.64.0.1', dns: ['10.64.0.53'] });
    expect(si.ipv4).toEqual({ local: '10.64.0.1', peer: '10.64.0.2', dns: [] });
    expect(ci.ipv6?.local).toMatch(/^fe80::/);
    expect(ci.ipv6?.local).toBe(si.ipv6?.peer);
    expect(ci.ipv6?.peer).toBe(si.ipv6?.local);
    expect(ci.mtu).toBe(1500);
    expect(client.state).toBe('up');
    expect(client.info).toEqual(ci);
    await Promise.all([client.close(), server.close()]);
  });

  it('carries IPv4 and IPv6 packets both ways byte for byte', async () => {
    const { client, server } = await linkPair();
    await Promise.all([client.ready, server.ready]);
    const got: Array<[number, Uint8Array]> = [];
    server.on('packet', (v, d) => got.push([v, d]));
    const back: Uint8Array[] = [];
    client.on('packet', (_v, d) => back.push(d));
    // Payloads full of bytes that HDLC must escape (7e, 7d, control characters).
    const payload = Uint8Array.from(
      { length: 1400 },
      (_, i) => [0x7e, 0x7d, 0x00, 0x11, 0x13, i & 0xff][i % 6],
    );
    const p4 = ipv4Packet('10.64.0.2', '10.64.0.1', payload);
    const p6 = ipv6Packet(payload.subarray(0, 300));
    expect(client.send(p4)).toBe(true);
    expect(client.send(p6)).toBe(true);
    const reply = ipv4Packet('10.64.0.1', '10.64.0.2', Uint8Array.of(1, 2, 3));
    expect(server.sendBatch([reply, reply])).toBe(2);
    await until(() => got.length === 2 && back.length === 2);
    expect(got[0][0]).toBe(4);
    expect(Buffer.from(got[0][1]).equals(Buffer.from(p4))).toBe(true);
    expect(got[1][0]).toBe(6);
    expect(Buffer.from(got[1][1]).equals(Buffer.from(p6))).toBe(true);
    expect(Buffer.from(back[0]).toString('hex')).toBe(Buffer.from(reply).toString('hex'));
    const cs = client.stats();
    expect(cs.tx.packets).toBe(2);
    expect(cs.tx.bytes).toBe(p4.length + p6.length);
    expect(cs.rx.packets).toBe(2);
    expect(server.stats().rx.bytes).toBe(p4.length + p6.length);
    await Promise.all([client.close(), server.close()]);
  });

  it('refuses packets before the link is up and counts them', async () => {
    const { client, server } = await linkPair();
    expect(client.send(ipv4Packet('10.64.0.2', '10.64.0.1', new Uint8Array(4)))).toBe(false);
    expect(client.stats().tx.drops).toBe(1);
    await client.ready;
    expect(client.send(new Uint8Array(2000).fill(0x45))).toBe(false); // bigger than the peer's MRU
    expect(client.stats().tx.drops).toBe(2);
    await Promise.all([client.close(), server.close()]);
  });

  it('close() terminates LCP, ends both streams and tells the peer', async () => {
    const { client, server, a, b } = await linkPair();
    await Promise.all([client.ready, server.ready]);
    const downs: PppLinkDownReason[] = [];
    server.on('down', (r) => downs.push(r));
    const serverClosed = server.closed;
    await client.close();
    expect(client.state).toBe('closed');
    expect(client.closeReason).toEqual({ code: 'CLOSED', message: 'User request' });
    const r = await serverClosed;
    expect(r.code).toBe('PPP_LINK_DOWN');
    expect(downs).toHaveLength(1);
    expect(a.destroyed && b.destroyed).toBe(true);
    expect(client.send(new Uint8Array([0x45]))).toBe(false);
    // Idempotent.
    await client.close();
    await server.close();
  });

  it('close() before the link is up rejects ready with CLOSED', async () => {
    const { client, server } = await linkPair();
    const p = client.close();
    await expect(client.ready).rejects.toMatchObject({ code: 'CLOSED' });
    await p;
    await expect(server.ready).rejects.toBeInstanceOf(PppLinkError);
    await server.close();
  });

  it('an AbortSignal cancels ready with ABORTED and closes the link', async () => {
    const [a, b] = await socketPair();
    // Nobody answers on the far end: negotiation would take ~30 s.
    b.on('data', () => undefined);
    const ac = new AbortController();
    const link = new PppLink(a, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    const t0 = Date.now();
    const err = await link.ready.catch((e: unknown) => e);
    expect(isPppLinkError(err, 'ABORTED')).toBe(true);
    expect((err as Error).message).toContain('user gave up');
    expect(Date.now() - t0).toBeLessThan(1000);
    await link.closed;
    expect(link.state).toBe('closed');
    b.destroy();
  });

  it('an already aborted signal rejects at once', async () => {
    const [a, b] = await socketPair();
    const link = new PppLink(a, { signal: AbortSignal.abort() });
    await expect(link.ready).rejects.toMatchObject({ code: 'ABORTED' });
    await link.closed;
    b.destroy();
  });

  it('aborting after up closes the link', async () => {
    const ac = new AbortController();
    const { client, server } = await linkPair({}, { signal: ac.signal });
    await client.ready;
    ac.abort();
    expect((await client.closed).code).toBe('ABORTED');
    await server.closed;
  });

  it('fails negotiation with PPP_NEGOTIATION_FAILED when no address is acceptable', async () => {
    const { client, server } = await linkPair(
      {},
      { acceptLocal: ['192.0.2.0/24'], ipv6: false, lcp: { restartMs: 200 } },
    );
    const err = await client.ready.catch((e: unknown) => e);
    expect(isPppLinkError(err, 'PPP_NEGOTIATION_FAILED')).toBe(true);
    await Promise.all([client.closed, server.closed]);
  }, 60_000);

  it('comes up with IPv6 alone when IPv4 cannot agree (IPv4 reported as null)', async () => {
    const { client, server } = await linkPair({}, { acceptLocal: ['192.0.2.0/24'] });
    const info = await client.ready;
    expect(info.ipv4).toBeNull();
    expect(info.ipv6).not.toBeNull();
    await Promise.all([client.close(), server.close()]);
  });

  it('comes up on IPv6 alone when IPv4 is off on one side', async () => {
    const { client, server } = await linkPair({ ipv4: false }, {});
    const info = await client.ready;
    expect(info.ipv4).toBeNull();
    expect(info.ipv6?.local).toMatch(/^fe80::/);
    await Promise.all([client.close(), server.close()]);
  });

  it('authenticates with PAP and fails with PPP_AUTH_FAILED on a bad password', async () => {
    const verify = (u: string, p: string) => u === 'alice' && p === 'secret';
    const ok = await linkPair(
      { auth: { require: 'pap', verify } },
      { auth: { user: 'alice', password: 'secret' } },
    );
    await Promise.all([ok.client.ready, ok.server.ready]);
    await Promise.all([ok.client.close(), ok.server.close()]);
    const bad = await linkPair(
      { auth: { require: 'pap', verify } },
      { auth: { user: 'alice', password: 'wrong' } },
    );
    await expect(bad.server.ready).rejects.toMatchObject({ code: 'PPP_AUTH_FAILED' });
    await expect(bad.client.ready).rejects.toBeInstanceOf(PppLinkError);
    await Promise.all([bad.client.closed, bad.server.closed]);
  });

  it('authenticates with CHAP', async () => {
    const { client, server } = await linkPair(
      { auth: { require: 'chap', secretFor: (n: string) => (n === 'bob' ? 's3' : null) } },
      { auth: { user: 'bob', password: 's3' } },
    );
    await Promise.all([client.ready, server.ready]);
    await Promise.all([client.close(), server.close()]);
  });

  it('reports the far end vanishing as PPP_LINK_DOWN', async () => {
    const { client, server, b } = await linkPair();
    await Promise.all([client.ready, server.ready]);
    const downs: string[] = [];
    client.on('down', (r) => downs.push(r.code));
    b.destroy();
    const r = await client.closed;
    expect(r.code).toBe('PPP_LINK_DOWN');
    expect(downs).toEqual(['PPP_LINK_DOWN']);
    await server.closed;
  });

  it('passes pppd-style debug lines to the logger and emits phases', async () => {
    const lines: string[] = [];
    const phases: string[] = [];
    const { client, server } = await linkPair({}, { log: (l: string) => lines.push(l) }, (c) =>
      c.on('phase', (p) => phases.push(p)),
    );
    await client.ready;
    expect(lines.some((l) => /^sent \[LCP ConfReq id=0x1 /.test(l))).toBe(true);
    expect(lines.some((l) => /^rcvd \[IPCP ConfAck/.test(l))).toBe(true);
    expect(phases).toEqual(['establish', 'network']);
    await Promise.all([client.close(), server.close()]);
  });

  it('rejects bad options with INVALID_OPTIONS', async () => {
    const [a, b] = await socketPair();
    const bad = [
      { role: 'router' },
      { role: 'server' },
      { local: '300.1.1.1' },
      { acceptLocal: ['10.0.0.0/33'] },
      { mru: 10 },
      { ipv4: false, ipv6: false },
      { dns: ['1.1.1.1', '1.0.0.1', '8.8.8.8'] },
      { auth: { user: 'x' } },
      { auth: { require: 'pap' } },
      { colour: 'blue' },
    ];
    for (const o of bad) {
      expect(() => new PppLink(a, o as never), JSON.stringify(o)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
    expect(() => new PppLink({} as never)).toThrow(PppLinkError);
    a.destroy();
    b.destroy();
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
