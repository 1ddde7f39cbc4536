/**
 * The route guard's judgement (src/runtime/route-guard.ts) on a fixed route table, and
 * the rtnetlink dump it reads (src/tun/routes-snapshot.ts). The end-to-end case (a far
 * end over real SSH claiming the client's LAN gateway) is test/faults/lan-capture.
 */
import { describe, expect, it } from 'vitest';
import { PRIVATE_IPV4_RANGES } from '../../src/config/index.js';
import { guardEngineOptions, RouteGuard } from '../../src/runtime/route-guard.js';
import {
  type KernelRoute4,
  parseRouteDump,
  RTM_NEWROUTE,
  readRoutes4,
} from '../../src/tun/routes-snapshot.js';

const ROUTES: KernelRoute4[] = [
  { dst: '0.0.0.0', prefix: 0, type: 1, table: 254, oif: 2, gateway: '192.168.1.1' },
  { dst: '192.168.1.0', prefix: 24, type: 1, table: 254, oif: 2, gateway: null },
  { dst: '192.168.1.2', prefix: 32, type: 2, table: 255, oif: 2, gateway: null },
  { dst: '172.16.9.0', prefix: 24, type: 1, table: 254, oif: 2, gateway: '192.168.1.1' },
  // Another point-to-point link's peer route (a second tunnel to the same server).
  { dst: '10.77.0.1', prefix: 32, type: 1, table: 254, oif: 7, gateway: null },
  // This tunnel's own route (after a reconnect): not "another way".
  { dst: '10.1.0.0', prefix: 16, type: 1, table: 254, oif: 9, gateway: null },
];
const random32 = () => 1;
const names = (i: number) => (i === 2 ? 'eth0' : `if${i}`);

function guard(
  acceptLocal: readonly string[] = PRIVATE_IPV4_RANGES,
  acceptPeer: readonly string[] = PRIVATE_IPV4_RANGES,
) {
  const said: string[] = [];
  const g = new RouteGuard(ROUTES, {
    acceptLocal,
    acceptPeer,
    tunnelIfindex: 9,
    warn: (m) => said.push(m),
    nameOf: names,
  });
  return { g, said };
}

describe('RouteGuard', () => {
  it('refuses addresses in connected subnets, non-default routes and our own addresses, naming the route once', () => {
    const { g, said } = guard();
    expect(g.allows('peer address', '192.168.1.1')).toBe(false);
    expect(g.allows('peer address', '192.168.1.1')).toBe(false);
    expect(g.allows('local address', '192.168.1.2')).toBe(false);
    expect(g.allows('DNS server', '172.16.9.53')).toBe(false);
    expect(said).toEqual([
      'refusing peer address 192.168.1.1 from the far end: it lies in 192.168.1.0/24 dev eth0, which this host reaches without the tunnel (taking it would divert that traffic into the tunnel); to allow it, list it in ppp.accept-peer, e.g. 192.168.1.1/32',
      'refusing local address 192.168.1.2 from the far end: it lies in 192.168.1.2/32 (an address of this host on eth0), which this host reaches without the tunnel (taking it would divert that traffic into the tunnel); to allow it, list it in ppp.accept-local, e.g. 192.168.1.2/32',
      'refusing DNS server 172.16.9.53 from the far end: it lies in 172.16.9.0/24 via 192.168.1.1 dev eth0, which this host reaches without the tunnel (taking it would divert that traffic into the tunnel); to allow it, list it in ppp.accept-peer, e.g. 172.16.9.53/32',
    ]);
  });

  it('the default route and this tunnel’s own routes do not count', () => {
    const { g, said } = guard();
    expect(g.allows('peer address', '10.77.0.1')).toBe(true);
    expect(g.allows('peer address', '10.1.2.3')).toBe(true);
    expect(g.filterDns(['10.77.0.53', '172.16.9.53'])).toEqual(['10.77.0.53']);
    expect(said).toHaveLength(1);
  });

  it('the same peer address as another point-to-point link is allowed (its route keeps precedence); as local address or DNS it is not', () => {
    const { g, said } = guard();
    expect(g.allows('peer address', '10.77.0.1')).toBe(true);
    expect(g.allows('local address', '10.77.0.1')).toBe(false);
    expect(g.filterDns(['10.77.0.1'])).toEqual([]);
    expect(said).toHaveLength(2);
  });

  it('an explicit entry at least as specific as the route names it; the default ranges or a wider entry do not', () => {
    expect(
      guard(PRIVATE_IPV4_RANGES, ['192.168.1.0/24']).g.allows('peer address', '192.168.1.1'),
    ).toBe(true);
    expect(
      guard(PRIVATE_IPV4_RANGES, ['192.168.1.1/32']).g.allows('peer address', '192.168.1.1'),
    ).toBe(true);
    expect(
      guard(PRIVATE_IPV4_RANGES, ['192.168.0.0/16']).g.allows('peer address', '192.168.1.1'),
    ).toBe(false);
    expect(guard(['192.168.1.0/24']).g.allows('local address', '192.168.1.2')).toBe(false); // our own /32
    expect(guard(['192.168.1.2/32']).g.allows('local address', '192.168.1.2')).toBe(true);
    // accept-peer does not name a local address, nor accept-local a peer address.
    expect(
      guard(PRIVATE_IPV4_RANGES, ['192.168.1.0/24']).g.allows('local address', '192.168.1.9'),
    ).toBe(false);
  });

  it('guardEngineOptions: both predicates must agree; IPv4 off is left alone', () => {
    const { g } = guard();
    const o = guardEngineOptions(
      { random32, ipcp: { acceptLocal: () => true, acceptPeer: (a) => a !== '10.77.0.9' } },
      g,
    );
    const ipcp = o.ipcp as {
      acceptLocal: (a: string) => boolean;
      acceptPeer: (a: string) => boolean;
    };
    expect(ipcp.acceptPeer('10.77.0.1')).toBe(true);
    expect(ipcp.acceptPeer('10.77.0.9')).toBe(false);
    expect(ipcp.acceptPeer('192.168.1.1')).toBe(false);
    expect(ipcp.acceptLocal('192.168.1.20')).toBe(false);
    expect(guardEngineOptions({ random32, ipcp: false }, g)).toEqual({ random32, ipcp: false });
  });
});

/** One netlink message: header + body. */
function nlmsg(type: number, body: Uint8Array): Uint8Array {
  const len = 16 + body.length;
  const m = new Uint8Array((len + 3) & ~3);
  const v = new DataView(m.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  m.set(body, 16);
  return m;
}
function rtattr(type: number, value: number[]): number[] {
  const len = 4 + value.length;
  const out = [len & 255, len >> 8, type & 255, type >> 8, ...value];
  while (out.length % 4) out.push(0);
  return out;
}

describe('parseRouteDump', () => {
  it('reads dst, prefix, gateway, oif and table; skips other types and families; stops at DONE', () => {
    const route = Uint8Array.from([
      2,
      24,
      0,
      0,
      254,
      4,
      0,
      1,
      0,
      0,
      0,
      0,
      ...rtattr(1, [172, 16, 9, 0]),
      ...rtattr(5, [192, 168, 1, 1]),
      ...rtattr(4, [7, 0, 0, 0]),
    ]);
    const broadcast = Uint8Array.from([2, 32, 0, 0, 255, 2, 253, 3, 0, 0, 0, 0]);
    const v6 = Uint8Array.from([10, 64, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0]);
    const buf = new Uint8Array([
      ...nlmsg(RTM_NEWROUTE, route),
      ...nlmsg(RTM_NEWROUTE, broadcast),
      ...nlmsg(RTM_NEWROUTE, v6),
      ...nlmsg(3, new Uint8Array(4)),
      ...nlmsg(RTM_NEWROUTE, route),
    ]);
    const r = parseRouteDump(buf);
    expect(r.routes).toEqual([
      { dst: '172.16.9.0', prefix: 24, type: 1, table: 254, oif: 7, gateway: '192.168.1.1' },
    ]);
    expect(r.done).toBe(true);
    expect(r.malformed).toBe(1); // the IPv6 one (we asked for IPv4)
  });

  it('an error message ends the dump with its errno; a truncated message ends it without throwing', () => {
    const err = nlmsg(2, Uint8Array.from([0xff, 0xff, 0xff, 0xff]));
    expect(parseRouteDump(err).error).toBe(-1);
    const cut = nlmsg(RTM_NEWROUTE, new Uint8Array(40)).subarray(0, 30);
    expect(parseRouteDump(cut)).toEqual({ routes: [], done: false, error: 0, malformed: 1 });
  });

  it('reads this namespace’s table (read-only): the loopback address is there', async () => {
    const routes = await readRoutes4();
    expect(routes.some((r) => r.dst === '127.0.0.1' && r.type === 2)).toBe(true);
  });
});
