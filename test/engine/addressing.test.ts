/** IPCP address and DNS assignment between two engines (RFC 1332 §3.3, RFC 1877). */

import { describe, expect, it } from 'vitest';
import { eventsOf, Link } from './support/link.js';

const SERVER = { ipcp: { local: '10.64.0.2', peer: '10.64.0.1', dns: ['10.64.0.53'] } };

describe('address assignment', () => {
  it('a client without an address gets one and DNS from the server (like ask-address)', () => {
    const l = new Link({ ipcp: { requestDns: true } }, SERVER);
    l.start(10_000);
    expect(eventsOf(l.a, 'ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.64.0.1', peer: '10.64.0.2', dns: ['10.64.0.53'] },
    ]);
    expect(eventsOf(l.b, 'ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.64.0.2', peer: '10.64.0.1', dns: [] },
    ]);
    expect(l.trace).toContain(
      'B: sent [IPCP ConfNak id=0x1 <addr 10.64.0.1> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.53>]',
    );
    expect(l.trace).toContain(
      'A: sent [IPCP ConfReq id=0x2 <addr 10.64.0.1> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.53>]',
    );
  });

  it('the server corrects a client that proposes the wrong address', () => {
    const l = new Link({ ipcp: { local: '10.64.0.7', acceptLocal: () => true } }, SERVER);
    l.start(10_000);
    expect(eventsOf(l.a, 'ipv4-up')[0]).toMatchObject({ local: '10.64.0.1', peer: '10.64.0.2' });
  });

  it('a client that may not take the offered address fails IPCP with a clear reason', () => {
    const l = new Link(
      { ipcp: { acceptLocal: (a) => a.startsWith('192.168.') }, ipv6cp: false },
      { ...SERVER, ipv6cp: false },
    );
    l.start(60_000);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(0);
    expect(
      l.a.log.some((x) =>
        /IPCP finished: IPCP: peer rejected the IP-Address option and we have no local address \(peer offers local address 10\.64\.0\.1, not accepted; we have no address\)/.test(
          x,
        ),
      ),
    ).toBe(true);
    expect(eventsOf(l.a, 'finished')).toEqual([
      {
        type: 'finished',
        reason:
          'No network protocols running (IPCP failed: peer offers us address 10.64.0.1, outside accept-local)',
        cause: 'no-network-protocol',
      },
    ]);
  });

  it('a server with no DNS rejects the DNS options and the client comes up without', () => {
    const l = new Link(
      { ipcp: { requestDns: true } },
      { ipcp: { local: '10.64.0.2', peer: '10.64.0.1' } },
    );
    l.start(10_000);
    expect(l.trace).toContain('B: sent [IPCP ConfRej id=0x1 <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]');
    expect(eventsOf(l.a, 'ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.64.0.1', peer: '10.64.0.2', dns: [] },
    ]);
  });

  it('IPv6CP: equal interface identifiers are resolved by a Nak with a new one', () => {
    const id = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const l = new Link({ ipv6cp: { interfaceId: id } }, { ipv6cp: { interfaceId: id } });
    l.start(10_000);
    const a = eventsOf(l.a, 'ipv6-up')[0];
    const b = eventsOf(l.b, 'ipv6-up')[0];
    expect(a.local).toBe(b.peer);
    expect(a.peer).toBe(b.local);
    expect(a.local).not.toBe(a.peer);
  });
});
