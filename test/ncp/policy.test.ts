/** IPCP (RFC 1332/1877) and IPv6CP (RFC 5072) policy roles. */

import { describe, expect, it } from 'vitest';
import { type IpcpConfig, IpcpPolicy } from '../../src/ncp/ipcp-policy.js';
import { Ipv6cpPolicy } from '../../src/ncp/ipv6cp-policy.js';
import { fromHex } from '../../src/ppp/bytes.js';
import { parseIpv4 } from '../../src/ppp/ipv4.js';
import { applyNak, applyReject, judgePeerOption } from '../../src/ppp/policy.js';

const ip = (s: string) => parseIpv4(s)!;

function ipcp(c: Partial<IpcpConfig>): IpcpPolicy {
  const p = new IpcpPolicy({
    local: 0,
    peer: 0,
    acceptLocal: () => true,
    acceptPeer: () => true,
    requestDns: false,
    dns: [],
    ...c,
  });
  p.resetNegotiation();
  p.beginPeerRequest();
  return p;
}

describe('IpcpPolicy', () => {
  it('a side that knows the peer address Naks 0.0.0.0 and wrong proposals with it', () => {
    const p = ipcp({ local: ip('10.64.0.2'), peer: ip('10.64.0.1'), acceptPeer: () => false });
    expect(judgePeerOption(p, { type: 3, data: fromHex('00 00 00 00') })).toEqual({
      kind: 'nak',
      data: fromHex('0a 40 00 01'),
    });
    expect(judgePeerOption(p, { type: 3, data: fromHex('0a 40 00 09') })).toEqual({
      kind: 'nak',
      data: fromHex('0a 40 00 01'),
    });
    expect(judgePeerOption(p, { type: 3, data: fromHex('0a 40 00 01') }).kind).toBe('ack');
  });

  it('without a peer address: acks what acceptPeer allows, rejects 0.0.0.0', () => {
    const p = ipcp({ acceptPeer: (a) => a.startsWith('10.') });
    expect(judgePeerOption(p, { type: 3, data: fromHex('0a 00 00 05') }).kind).toBe('ack');
    expect(judgePeerOption(p, { type: 3, data: fromHex('c0 a8 00 05') }).kind).toBe('reject');
    expect(judgePeerOption(p, { type: 3, data: fromHex('00 00 00 00') }).kind).toBe('reject');
  });

  it('hands out one DNS server as both ms-dns1 and ms-dns2 (like pppd)', () => {
    const p = ipcp({ dns: [ip('10.64.0.53')] });
    expect(judgePeerOption(p, { type: 129, data: fromHex('00 00 00 00') })).toEqual({
      kind: 'nak',
      data: fromHex('0a 40 00 35'),
    });
    expect(judgePeerOption(p, { type: 131, data: fromHex('00 00 00 00') })).toEqual({
      kind: 'nak',
      data: fromHex('0a 40 00 35'),
    });
    expect(judgePeerOption(p, { type: 131, data: fromHex('0a 40 00 35') }).kind).toBe('ack');
  });

  it('rejects DNS when it has none, and VJ, NBNS, IP-Addresses', () => {
    const p = ipcp({});
    for (const [t, d] of [
      [129, '00 00 00 00'],
      [2, '00 2d 0f 01'],
      [130, '00 00 00 00'],
      [132, '00 00 00 00'],
      [1, '00 00 00 00 00 00 00 00'],
    ] as const) {
      expect(judgePeerOption(p, { type: t, data: fromHex(d) }).kind).toBe('reject');
    }
  });

  it('asks with 0.0.0.0 and DNS, and takes the Nak when acceptLocal allows', () => {
    const p = ipcp({ requestDns: true });
    expect(p.ownOptions().map((o) => [o.type, Array.from(o.data)])).toEqual([
      [3, [0, 0, 0, 0]],
      [129, [0, 0, 0, 0]],
      [131, [0, 0, 0, 0]],
    ]);
    applyNak(p, [
      { type: 3, data: fromHex('0a 40 00 01') },
      { type: 129, data: fromHex('0a 40 00 35') },
      { type: 131, data: fromHex('0a 40 00 35') },
    ]);
    expect(p.localAddress).toBe(ip('10.64.0.1'));
    expect(p.dnsServers).toEqual(['10.64.0.53']);
  });

  it('keeps its address when acceptLocal refuses, and explains why', () => {
    const p = ipcp({ local: ip('10.0.0.9'), acceptLocal: () => false });
    applyNak(p, [{ type: 3, data: fromHex('0a 40 00 01') }]);
    expect(p.localAddress).toBe(ip('10.0.0.9'));
    expect(p.failureHint()).toMatch(/10\.64\.0\.1, not accepted; we have 10\.0\.0\.9/);
  });

  it('Naks a missing address into the request when it has one for the peer', () => {
    const p = ipcp({ peer: ip('10.64.0.1') });
    expect(p.missingOptions(true).map((o) => Array.from(o.data))).toEqual([[10, 64, 0, 1]]);
    expect(p.missingOptions(false)).toEqual([]);
  });

  it('fails when the peer rejects the address and we have none', () => {
    const p = ipcp({});
    applyReject(p, [{ type: 3, data: fromHex('00 00 00 00') }]);
    expect(p.takeFatal()).toMatch(/no local address/);
  });
});

describe('Ipv6cpPolicy', () => {
  let s = 1;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0);

  it('uses a random non-zero identifier', () => {
    const p = new Ipv6cpPolicy({ interfaceId: null, peerInterfaceId: null, random32: rnd });
    expect(p.localId.some((b) => b !== 0)).toBe(true);
  });

  it('Naks a zero identifier and one equal to ours with a different suggestion', () => {
    const id = fromHex('01 02 03 04 05 06 07 08');
    const p = new Ipv6cpPolicy({ interfaceId: id, peerInterfaceId: null, random32: rnd });
    p.beginPeerRequest();
    const z = judgePeerOption(p, { type: 1, data: new Uint8Array(8) });
    expect(z.kind).toBe('nak');
    const c = judgePeerOption(p, { type: 1, data: id });
    expect(c.kind).toBe('nak');
    if (c.kind === 'nak') expect(Array.from(c.data)).not.toEqual(Array.from(id));
    expect(judgePeerOption(p, { type: 1, data: fromHex('11 12 13 14 15 16 17 18') }).kind).toBe(
      'ack',
    );
    expect(judgePeerOption(p, { type: 2, data: fromHex('00 4f') }).kind).toBe('reject');
  });

  it('survives a constant random source', () => {
    const p = new Ipv6cpPolicy({ interfaceId: null, peerInterfaceId: null, random32: () => 5 });
    p.beginPeerRequest();
    const v = judgePeerOption(p, { type: 1, data: Uint8Array.from(p.localId) });
    expect(v.kind === 'nak' && Array.from(v.data)).not.toEqual(Array.from(p.localId));
  });

  it('follows a Nak of its identifier', () => {
    const p = new Ipv6cpPolicy({ interfaceId: null, peerInterfaceId: null, random32: rnd });
    applyNak(p, [{ type: 1, data: fromHex('aa bb cc dd ee ff 00 11') }]);
    expect(Array.from(p.localId)).toEqual(Array.from(fromHex('aa bb cc dd ee ff 00 11')));
  });
});
