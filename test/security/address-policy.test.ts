/**
 * The peer cannot make us use an address our policy does not allow, and cannot
 * hand us routes: an IPCP Nak assigning an address outside accept-local is not
 * taken and the link fails with a reason that names the address.
 */
import { describe, expect, it } from 'vitest';
import { buildEngine, CLIENT_ACCEPT, SERVER_LOCAL, SERVER_PEER } from '../../bench/fuzz/engines.js';
import { IPCP, lastOf, opts, Peer } from './support.js';

const noV6 = (o: { ipv6cp?: unknown }) => {
  o.ipv6cp = false;
};

describe('address policy (client: accept-local / accept-peer 10.77.0.0/24)', () => {
  it('an IPCP Nak assigning 192.0.2.1 is not taken; IPCP fails naming the address, the link closes', () => {
    const p = new Peer('client', 'lcp', noV6);
    let req = p.waitFor(IPCP, 1);
    expect(req).toBeDefined();
    expect([...req!.data]).toEqual(opts([3, 0, 0, 0, 0], [129, 0, 0, 0, 0], [131, 0, 0, 0, 0]));
    for (let i = 0; i < 12 && req !== undefined; i++) {
      p.send(IPCP, 3, req.id, opts([3, 192, 0, 2, 1]));
      const out = p.take();
      const next = lastOf(out, IPCP, 1);
      // Every new request still asks for 0.0.0.0: the offered address was not taken.
      if (next !== undefined) expect([...next.data.subarray(0, 6)]).toEqual([3, 6, 0, 0, 0, 0]);
      req = next;
    }
    p.advance(20_000);
    expect(p.eventsOf('ipv4-up')).toEqual([]);
    expect(p.log).toContain(
      'IPCP finished: IPCP: peer keeps refusing our options (peer offers local address 192.0.2.1, not accepted; we have no address)',
    );
    const fin = p.eventsOf('finished');
    expect(fin).toHaveLength(1);
    expect(fin[0].reason).toBe(
      'No network protocols running (IPCP failed: peer offers us address 192.0.2.1, outside accept-local)',
    );
    expect(fin[0].cause).toBe('no-network-protocol');
    expect(p.engine.phase).toBe('dead');
  });

  it('an in-policy Nak (10.77.0.9) is taken, then acked: ipv4-up with that address', () => {
    const p = new Peer('client', 'lcp', noV6);
    const req = p.waitFor(IPCP, 1)!;
    p.send(IPCP, 3, req.id, opts([3, 10, 77, 0, 9]));
    const req2 = lastOf(p.take(), IPCP, 1)!;
    expect([...req2.data.subarray(0, 6)]).toEqual([3, 6, 10, 77, 0, 9]);
    p.send(IPCP, 2, req2.id, req2.data);
    p.send(IPCP, 1, 1, opts([3, 10, 77, 0, 1]));
    expect(lastOf(p.take(), IPCP, 2)).toBeDefined();
    const up = p.eventsOf('ipv4-up');
    expect(up).toEqual([{ type: 'ipv4-up', local: '10.77.0.9', peer: '10.77.0.1', dns: [] }]);
  });

  it('an Ack of 0.0.0.0 does not bring IPv4 up without an address', () => {
    const p = new Peer('client', 'lcp', noV6);
    const req = p.waitFor(IPCP, 1)!;
    p.send(IPCP, 1, 1, opts([3, 10, 77, 0, 1]));
    p.send(IPCP, 2, req.id, req.data);
    p.advance(1000);
    expect(p.eventsOf('ipv4-up')).toEqual([]);
    expect(p.log.some((l) => l.includes('Could not determine local IP address'))).toBe(true);
  });

  it('the peer claiming 192.0.2.9 for itself is Configure-Rejected (no address to Nak with), never acked', () => {
    const p = new Peer('client', 'lcp', noV6);
    p.take();
    p.send(IPCP, 1, 7, opts([3, 192, 0, 2, 9]));
    const out = p.take();
    expect(lastOf(out, IPCP, 2)).toBeUndefined();
    const rej = lastOf(out, IPCP, 4);
    expect(rej?.id).toBe(7);
    expect([...rej!.data]).toEqual(opts([3, 192, 0, 2, 9]));
  });

  it('the peer claiming OUR address for itself is refused even inside accept-peer', () => {
    const p = new Peer('client', 'lcp', (o) => {
      noV6(o);
      (o.ipcp as { local?: string }).local = '10.77.0.5';
    });
    p.take();
    p.send(IPCP, 1, 3, opts([3, 10, 77, 0, 5]));
    const out = p.take();
    expect(lastOf(out, IPCP, 2)).toBeUndefined();
  });

  it('server: a client proposing another pool address is Naked with the assigned one', () => {
    const p = new Peer('server', 'lcp', noV6);
    p.take();
    p.send(IPCP, 1, 4, opts([3, 10, 77, 0, 99]));
    const nak = lastOf(p.take(), IPCP, 3);
    expect(nak?.id).toBe(4);
    expect([...nak!.data]).toEqual(opts([3, 10, 77, 0, 2]));
    expect(p.eventsOf('ipv4-up')).toEqual([]);
  });

  it('server: a Nak pushing another server address is ignored (the server address is fixed)', () => {
    const p = new Peer('server', 'lcp', noV6);
    const req = p.waitFor(IPCP, 1)!;
    p.send(IPCP, 3, req.id, opts([3, 10, 77, 0, 50]));
    const req2 = lastOf(p.take(), IPCP, 1)!;
    expect([...req2.data.subarray(0, 6)]).toEqual([3, 6, 10, 77, 0, 1]);
  });

  it('a full bring-up reports only addresses, never routes: events carry no route fields', () => {
    const b = buildEngine('client', 'up', 5, undefined)!;
    const keys = new Set<string>();
    for (const e of b.events) for (const k of Object.keys(e)) keys.add(`${e.type}.${k}`);
    expect([...keys].filter((k) => /route|prefix|gateway|mask/i.test(k))).toEqual([]);
    const up = b.events.find((e) => e.type === 'ipv4-up');
    expect(up && Object.keys(up).sort()).toEqual(['dns', 'local', 'peer', 'type']);
    if (up?.type === 'ipv4-up') expect(CLIENT_ACCEPT(up.local)).toBe(true);
    const s = buildEngine('server', 'up', 5, undefined)!;
    expect(s.events.find((e) => e.type === 'ipv4-up')).toEqual({
      type: 'ipv4-up',
      local: SERVER_LOCAL,
      peer: SERVER_PEER,
      dns: [],
    });
  });
});
