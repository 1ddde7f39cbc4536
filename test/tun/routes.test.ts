import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNetns,
  ipJson,
  linkNetns,
  type Netns,
  removeStale,
  uniqueId,
} from '../support/netns.js';
import { TunAgent } from './agent.js';
import { netnsAvailable, PREFIX } from './env.js';

interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  metric?: number;
  protocol?: string;
}

const haveNetns = netnsAvailable();

describe.skipIf(!haveNetns)('RouteTracker: default route through the tunnel', () => {
  const id = uniqueId();
  let cli: Netns;
  let srv: Netns;
  let a: TunAgent;
  let dev: { name: string; ifindex: number };
  let veth: string;
  const SERVER = '198.19.5.5'; // beyond the client's default gateway 198.18.0.2

  beforeAll(async () => {
    removeStale(`${PREFIX}rt-`);
    cli = createNetns(`${PREFIX}rt-c-${id}`);
    srv = createNetns(`${PREFIX}rt-s-${id}`);
    veth = linkNetns(cli, '198.18.0.1/30', srv, '198.18.0.2/30', `tvr${id}`).aIf;
    cli.exec('ip', ['route', 'add', 'default', 'via', '198.18.0.2', 'dev', veth]);
    cli.exec('ip', ['-6', 'addr', 'add', '2001:db8:1::1/64', 'dev', veth, 'nodad']);
    cli.exec('ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:1::2', 'dev', veth]);
    a = new TunAgent(cli.name);
    dev = await a.call('open', { name: `tvrt${id}` });
    await a.nc('disableIpv6AutoAddress', dev.ifindex);
    await a.nc('setAddress4', dev.ifindex, '198.18.9.2', '198.18.9.1');
    await a.nc('setUp', dev.ifindex);
  });

  afterAll(() => {
    a?.kill();
    cli?.destroy();
    srv?.destroy();
  });

  const r4 = (): IpRoute[] => ipJson<IpRoute[]>(cli.name, ['-4', 'route', 'show', 'table', 'main']);
  const r6 = (): IpRoute[] => ipJson<IpRoute[]>(cli.name, ['-6', 'route', 'show', 'table', 'main']);
  const routeGet = (addr: string): { dev: string; gateway?: string } =>
    ipJson<Array<{ dev: string; gateway?: string }>>(cli.name, ['route', 'get', addr])[0];
  const pick = (r: IpRoute) => ({
    dst: r.dst,
    dev: r.dev,
    gateway: r.gateway,
    metric: r.metric,
    protocol: r.protocol,
  });

  it('getRouteTo reports the gateway and device the kernel uses now', async () => {
    const r = await a.nc<{ dev: number; gateway: string; src: string }>('getRouteTo', SERVER);
    const vethIndex = ipJson<Array<{ ifindex: number }>>(cli.name, ['link', 'show', 'dev', veth])[0]
      .ifindex;
    expect(r).toMatchObject({ dev: vethIndex, gateway: '198.18.0.2', src: '198.18.0.1' });
  });

  it('split mode: host route to the server via the old path, 0.0.0.0/1 + 128.0.0.0/1 via the tunnel; removeAll restores the table exactly', async () => {
    const before = r4();
    await a.call('tracker', {
      method: 'addDefaultVia',
      args: [{ dev: dev.ifindex, server: SERVER }],
    });
    const after = r4().map(pick);
    expect(after).toEqual(
      expect.arrayContaining([
        {
          dst: 'default',
          dev: veth,
          gateway: '198.18.0.2',
          metric: undefined,
          protocol: undefined,
        },
        {
          dst: '0.0.0.0/1',
          dev: dev.name,
          gateway: undefined,
          metric: undefined,
          protocol: 'static',
        },
        {
          dst: '128.0.0.0/1',
          dev: dev.name,
          gateway: undefined,
          metric: undefined,
          protocol: 'static',
        },
        { dst: SERVER, dev: veth, gateway: '198.18.0.2', metric: undefined, protocol: 'static' },
      ]),
    );
    expect(after).toHaveLength(before.length + 3);
    expect(routeGet(SERVER)).toMatchObject({ dev: veth, gateway: '198.18.0.2' });
    expect(routeGet('203.0.113.7').dev).toBe(dev.name); // `ip route get` sends nothing
    await a.call('tracker', { method: 'removeAll' });
    expect(r4()).toEqual(before);
  });

  it('replace mode: replaces the default route and puts the original back on teardown', async () => {
    const before = r4();
    await a.call('tracker', {
      method: 'addDefaultVia',
      args: [{ dev: dev.ifindex, server: SERVER, mode: 'replace' }],
    });
    const defaults = r4()
      .filter((r) => r.dst === 'default')
      .map(pick);
    expect(defaults).toEqual([
      { dst: 'default', dev: dev.name, gateway: undefined, metric: undefined, protocol: 'static' },
    ]);
    expect(routeGet(SERVER)).toMatchObject({ dev: veth, gateway: '198.18.0.2' });
    await a.call('tracker', { method: 'removeAll' });
    expect(r4()).toEqual(before);
  });

  it('IPv6 split mode: ::/1 + 8000::/1 via the tunnel, host route to an IPv6 server, restored exactly', async () => {
    await a.nc('addAddress6', dev.ifindex, 'fe80::2', 64);
    const before = r6();
    await a.call('tracker', {
      method: 'addDefaultVia',
      args: [{ dev: dev.ifindex, server: '2001:db8:77::5', metric: 10 }],
    });
    const after = r6().map(pick);
    expect(after).toEqual(
      expect.arrayContaining([
        { dst: '::/1', dev: dev.name, gateway: undefined, metric: 10, protocol: 'static' },
        { dst: '8000::/1', dev: dev.name, gateway: undefined, metric: 10, protocol: 'static' },
        {
          dst: '2001:db8:77::5',
          dev: veth,
          gateway: '2001:db8:1::2',
          metric: 1024,
          protocol: 'static',
        },
      ]),
    );
    await a.call('tracker', { method: 'removeAll' });
    expect(r6()).toEqual(before);
  });

  it('refuses a server that is already routed through the tunnel, and leaves nothing behind', async () => {
    const before = r4();
    await expect(
      a.call('tracker', {
        method: 'addDefaultVia',
        args: [{ dev: dev.ifindex, server: '198.18.9.1' }],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('already routed through the tunnel'),
    });
    expect(r4()).toEqual(before);
    await a.call('close');
    expect((await a.exited).code).toBe(0);
  });
});
