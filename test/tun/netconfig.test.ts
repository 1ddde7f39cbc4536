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
import { netnsAvailable, PREFIX } from './env.js';
import { echoReply, fromHex, parseEcho, toHex } from './packets.js';

interface IpAddrInfo {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
  scope: string;
}
interface IpAddr {
  ifname: string;
  ifindex: number;
  mtu: number;
  flags: string[];
  operstate: string;
  addr_info: IpAddrInfo[];
}
interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  metric?: number;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

const haveNetns = netnsAvailable();

/** Runs `ping` in the namespace in the background and resolves with its exit code and output. */
function pingAsync(ns: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const p = nsSpawn(ns, 'ping', args);
  let out = '';
  p.stdout?.on('data', (d) => (out += d));
  p.stderr?.on('data', (d) => (out += d));
  return new Promise((resolve) => p.once('exit', (code) => resolve({ code, out })));
}

describe.skipIf(!haveNetns)('NetConfig + TunDevice in a namespace', () => {
  const id = uniqueId();
  let ns: Netns;
  let a: TunAgent;
  let dev: { name: string; ifindex: number };

  beforeAll(async () => {
    removeStale(`${PREFIX}cfg-`);
    ns = createNetns(`${PREFIX}cfg-${id}`);
    a = new TunAgent(ns.name);
    dev = await a.call('open', { name: `tvcfg${id}` });
  });

  afterAll(() => {
    a?.kill();
    ns?.destroy();
  });

  const addr = (): IpAddr => ipJson<IpAddr[]>(ns.name, ['addr', 'show', 'dev', dev.name])[0];
  const routes4 = (): IpRoute[] =>
    ipJson<IpRoute[]>(ns.name, ['-4', 'route', 'show', 'table', 'main']);
  const routes6 = (): IpRoute[] =>
    ipJson<IpRoute[]>(ns.name, ['-6', 'route', 'show', 'table', 'main']);

  it('configures MTU, a point-to-point IPv4 address, an IPv6 link-local and brings the link up', async () => {
    await a.nc('disableIpv6AutoAddress', dev.ifindex);
    await a.nc('setMtu', dev.ifindex, 1400);
    await a.nc('setAddress4', dev.ifindex, '198.18.7.2', '198.18.7.1');
    await a.nc('addAddress6', dev.ifindex, 'fe80::2', 64);
    await a.nc('setUp', dev.ifindex);
    // idempotent: setting the same address again is fine
    await a.nc('setAddress4', dev.ifindex, '198.18.7.2', '198.18.7.1');

    const st = addr();
    expect(st.mtu).toBe(1400);
    expect(st.flags).toEqual(expect.arrayContaining(['UP', 'POINTOPOINT', 'NOARP']));
    const info = st.addr_info.map((x) => ({
      family: x.family,
      local: x.local,
      address: x.address,
      prefixlen: x.prefixlen,
      scope: x.scope,
    }));
    // Exactly ours: no address invented by the kernel (addr_gen_mode none).
    expect(info).toEqual([
      {
        family: 'inet',
        local: '198.18.7.2',
        address: '198.18.7.1',
        prefixlen: 32,
        scope: 'global',
      },
      { family: 'inet6', local: 'fe80::2', address: undefined, prefixlen: 64, scope: 'link' },
    ]);
    expect(routes4()).toEqual([
      expect.objectContaining({ dst: '198.18.7.1', dev: dev.name, scope: 'link' }),
    ]);
    expect(
      routes6()
        .filter((r) => r.dev === dev.name)
        .map((r) => r.dst),
    ).toEqual(['fe80::/64']);
  });

  it('adds IPv4 and IPv6 routes with metrics, exactly as asked, and removes exactly them', async () => {
    const before4 = routes4();
    const before6 = routes6();
    const r1 = await a.nc<{ handle: number }>('addRoute', {
      dst: '198.18.64.0/18',
      dev: dev.ifindex,
      metric: 50,
    });
    const r2 = await a.nc<{ handle: number }>('addRoute', {
      dst: '198.18.128.0/24',
      gateway: '198.18.7.1',
      metric: 7,
    });
    const r3 = await a.nc<{ handle: number }>('addRoute', {
      dst: '2001:db8:7::/48',
      dev: dev.ifindex,
      metric: 300,
    });
    const r4 = await a.nc<{ handle: number }>('addRoute', {
      dst: '2001:db8:8::/64',
      dev: dev.ifindex,
    });
    const pick = (r: IpRoute) => ({
      dst: r.dst,
      dev: r.dev,
      gateway: r.gateway,
      metric: r.metric,
      protocol: r.protocol,
      scope: r.scope,
    });
    expect(routes4().map(pick)).toEqual(
      expect.arrayContaining([
        {
          dst: '198.18.64.0/18',
          dev: dev.name,
          gateway: undefined,
          metric: 50,
          protocol: 'static',
          scope: 'link',
        },
        {
          dst: '198.18.128.0/24',
          dev: dev.name,
          gateway: '198.18.7.1',
          metric: 7,
          protocol: 'static',
          scope: undefined,
        },
      ]),
    );
    expect(routes4()).toHaveLength(before4.length + 2);
    expect(routes6().map(pick)).toEqual(
      expect.arrayContaining([
        {
          dst: '2001:db8:7::/48',
          dev: dev.name,
          gateway: undefined,
          metric: 300,
          protocol: 'static',
          scope: undefined,
        },
        {
          dst: '2001:db8:8::/64',
          dev: dev.name,
          gateway: undefined,
          metric: 1024,
          protocol: 'static',
          scope: undefined,
        },
      ]),
    );
    for (const h of [r4, r3, r2, r1])
      expect(await a.call('removeRoute', { handle: h.handle })).toBe(true);
    expect(routes4()).toEqual(before4);
    expect(routes6()).toEqual(before6);
    // Removing again: already gone → false, not an error.
    expect(await a.call('removeRoute', { handle: r1.handle })).toBe(false);
  });

  it('fails on an existing route with a clear error, and replace restores the old route on removal', async () => {
    const first = await a.nc<{ handle: number }>('addRoute', {
      dst: '198.18.32.0/24',
      gateway: '198.18.7.1',
      metric: 5,
    });
    await expect(
      a.nc('addRoute', { dst: '198.18.32.0/24', dev: dev.ifindex, metric: 5 }),
    ).rejects.toMatchObject({
      code: 'NETLINK_EXISTS',
      errno: 'EEXIST',
      message: expect.stringContaining('route 198.18.32.0/24: already exists (use replace)'),
    });
    const rep = await a.nc<{ handle: number; replaced: { gateway: string } | null }>('addRoute', {
      dst: '198.18.32.0/24',
      dev: dev.ifindex,
      metric: 5,
      replace: true,
    });
    expect(rep.replaced).toMatchObject({ dst: '198.18.32.0/24', gateway: '198.18.7.1', metric: 5 });
    expect(
      routes4()
        .filter((r) => r.dst === '198.18.32.0/24')
        .map((r) => [r.dev, r.gateway, r.metric]),
    ).toEqual([[dev.name, undefined, 5]]);
    await a.call('removeRoute', { handle: rep.handle });
    expect(routes4().filter((r) => r.dst === '198.18.32.0/24')).toEqual([
      expect.objectContaining({ gateway: '198.18.7.1', metric: 5 }),
    ]);
    await a.call('removeRoute', { handle: first.handle });
    expect(routes4().filter((r) => r.dst === '198.18.32.0/24')).toEqual([]);
  });

  it('maps kernel errors: no such device, bad arguments', async () => {
    await expect(a.nc('setMtu', 999999, 1400)).rejects.toMatchObject({
      code: 'NETLINK_NO_DEVICE',
      message: expect.stringContaining('no such device'),
    });
    await expect(a.nc('addRoute', { dst: '198.18.40.0/24', dev: 999999 })).rejects.toMatchObject({
      code: 'NETLINK_NO_DEVICE',
    });
    await expect(
      a.nc('addRoute', { dst: '198.18.40.1/24', dev: dev.ifindex }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('host bits set'),
    });
    await expect(a.nc('setAddress4', dev.ifindex, 'fe80::1', '198.18.7.1')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(a.nc('setMtu', dev.ifindex, 20)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('looks up the route to an address (RTM_GETROUTE)', async () => {
    const r = await a.nc<{ dev: number; gateway?: string; src?: string }>(
      'getRouteTo',
      '198.18.7.1',
    );
    expect(r).toMatchObject({ dev: dev.ifindex, src: '198.18.7.2' });
    expect(r.gateway).toBeUndefined();
    await expect(a.nc('getRouteTo', '203.0.113.9')).rejects.toMatchObject({
      code: 'NETLINK_UNREACHABLE',
    });
  });

  it('carries IPv4 ping both ways: echo request read from the fd, reply written to it', async () => {
    await a.call('clearQueue');
    const ping = pingAsync(ns.name, ['-n', '-c', '1', '-W', '5', '-s', '56', '198.18.7.1']);
    const hex = await a.call<string | null>('next', { proto: 1, timeoutMs: 5000 });
    expect(hex).not.toBeNull();
    const req = parseEcho(fromHex(hex as string));
    expect(req).toMatchObject({ version: 4, type: 'request' });
    expect(Array.from(req?.src ?? [])).toEqual([198, 18, 7, 2]);
    expect(Array.from(req?.dst ?? [])).toEqual([198, 18, 7, 1]);
    expect(await a.call('write', { hex: toHex(echoReply(req!)) })).toBe(true);
    const res = await ping;
    expect(res.out).toContain('1 received');
    expect(res.code).toBe(0);
  });

  it('carries IPv6 link-local ping: ping -6 fe80::1%dev', async () => {
    await a.call('clearQueue');
    const ping = pingAsync(ns.name, ['-6', '-n', '-c', '1', '-W', '5', `fe80::1%${dev.name}`]);
    const hex = await a.call<string | null>('next', { proto: 58, timeoutMs: 5000 });
    expect(hex).not.toBeNull();
    const req = parseEcho(fromHex(hex as string));
    expect(req).toMatchObject({ version: 6, type: 'request' });
    expect(toHex(req!.src)).toBe('fe800000000000000000000000000002');
    expect(await a.call('write', { hex: toHex(echoReply(req!)) })).toBe(true);
    const res = await ping;
    expect(res.out).toContain('1 received');
    expect(res.code).toBe(0);
  });

  it('close() leaves no interface, address or route, and the agent exits by itself', async () => {
    await a.nc('addRoute', { dst: '198.18.96.0/24', dev: dev.ifindex });
    await a.nc('addRoute', { dst: '2001:db8:9::/64', dev: dev.ifindex });
    const stats = await a.call<{ rxPackets: number; txPackets: number }>('close');
    expect(stats.rxPackets).toBeGreaterThanOrEqual(2);
    expect(stats.txPackets).toBe(2);
    const exit = await Promise.race([
      a.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    expect(exit?.code).toBe(0);
    expect(ipJson<IpAddr[]>(ns.name, ['addr']).map((l) => l.ifname)).toEqual(['lo']);
    expect(routes4()).toEqual([]);
    expect(routes6().filter((r) => r.dev !== 'lo')).toEqual([]);
  });
});
