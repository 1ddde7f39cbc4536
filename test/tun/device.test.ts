import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateIfName } from '../../src/tun/device.js';
import { TunError } from '../../src/tun/errors.js';
import { createNetns, ipJson, type Netns, removeStale, uniqueId } from '../support/netns.js';
import { type AgentError, TunAgent } from './agent.js';
import { netnsAvailable, PREFIX, READERS, readerTag } from './env.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  link_type: string;
}

describe('interface names', () => {
  it.each([
    ['', 'is empty'],
    ['abcdefghijklmnop', 'at most 15'],
    ['a/b', '"/"'],
    ['a b', 'whitespace'],
    ['..', '"." or ".."'],
    ['tun%s', '%d'],
    ['t%d%d', '%d'],
  ])('rejects %j before asking the kernel', (name, why) => {
    const err = (() => {
      try {
        validateIfName(name);
      } catch (e) {
        return e as TunError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(TunError);
    expect(err?.code).toBe('TUN_INVALID_NAME');
    expect(err?.message).toContain(why);
  });

  it.each(['tsvpn%d', 'tun0', 'abcdefghijklmno'])('accepts %j', (name) => {
    expect(() => validateIfName(name)).not.toThrow();
  });
});

const haveNetns = netnsAvailable();

describe.skipIf(!haveNetns).each(READERS)('TunDevice in a namespace (%s reader)', (reader) => {
  const id = `${readerTag(reader)}${uniqueId()}`;
  let ns: Netns;
  const agents: TunAgent[] = [];
  const agent = (): TunAgent => {
    const a = new TunAgent(ns.name, reader);
    agents.push(a);
    return a;
  };

  beforeAll(() => {
    removeStale(`${PREFIX}dev-${readerTag(reader)}`);
    ns = createNetns(`${PREFIX}dev-${id}`);
  });

  afterAll(() => {
    for (const a of agents) a.kill();
    ns?.destroy();
  });

  it('creates a device from the default pattern tsvpn%d and the kernel names it', async () => {
    const a = agent();
    const dev = await a.call<{ name: string; ifindex: number }>('open');
    expect(dev.name).toMatch(/^tsvpn\d+$/);
    const links = ipJson<IpLink[]>(ns.name, ['link', 'show', 'dev', dev.name]);
    expect(links).toHaveLength(1);
    expect(links[0].ifindex).toBe(dev.ifindex);
    expect(links[0].link_type).toBe('none');
    expect(links[0].flags).toEqual(expect.arrayContaining(['POINTOPOINT', 'NOARP']));
    expect(links[0].flags).not.toContain('UP');
    await a.call('close');
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(ipJson<IpLink[]>(ns.name, ['link']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('creates a device with a fixed name, and a second open of that name fails with TUN_NAME_TAKEN', async () => {
    const a = agent();
    const name = `tvfix${id}`;
    const dev = await a.call<{ name: string; ifindex: number }>('open', { name });
    expect(dev.name).toBe(name);
    const again = await a.call<{ ok: boolean; code: string; errno: string; message: string }>(
      'tryOpen',
      { name },
    );
    expect(again.ok).toBe(false);
    expect(again.code).toBe('TUN_NAME_TAKEN');
    expect(again.message).toContain(name);
    // A name held by a device of another kind (loopback) is taken too.
    const lo = await a.call<{ ok: boolean; code: string }>('tryOpen', { name: 'lo' });
    expect(lo).toMatchObject({ ok: false, code: 'TUN_NAME_TAKEN' });
    // The pattern still works next to it.
    const other = await a.call<{ ok: boolean; name: string }>('tryOpen', { name: 'tvx%d' });
    expect(other).toMatchObject({ ok: true, name: 'tvx0' });
    await a.call('close');
    expect((await a.exited).code).toBe(0);
  });

  it('reports an invalid name with a clear error from open()', async () => {
    const a = agent();
    await expect(a.call('open', { name: 'this-name-is-too-long' })).rejects.toMatchObject({
      code: 'TUN_INVALID_NAME',
    } satisfies Partial<AgentError>);
    await a.call('close');
    expect((await a.exited).code).toBe(0);
  });

  it('exits by itself within 2 s after close() while the reader was running', async () => {
    const a = agent();
    const dev = await a.call<{ name: string }>('open', { name: `tvex${id}` });
    expect(dev.name).toBe(`tvex${id}`);
    expect((await a.call<{ reader: string }>('stats')).reader).toBe(reader);
    const t0 = Date.now();
    await a.call('close');
    const exit = await Promise.race([
      a.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    expect(exit, 'agent did not exit within 2 s of close()').not.toBeNull();
    expect(exit?.code).toBe(0);
    expect((exit?.at ?? Number.POSITIVE_INFINITY) - t0).toBeLessThan(2000);
    expect(ipJson<IpLink[]>(ns.name, ['link']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('does not keep the process alive after unref(), even with the reader running', async () => {
    const a = agent();
    await a.call('open', { name: `tvun${id}` });
    await a.call('detachUnref');
    const exit = await Promise.race([
      a.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    expect(exit?.code).toBe(0);
    expect(ipJson<IpLink[]>(ns.name, ['link']).map((l) => l.ifname)).toEqual(['lo']);
  });
});

describe.skipIf(!haveNetns).each(READERS)(
  'TunDevice when the interface is deleted under it (%s reader)',
  (reader) => {
    const id = `${readerTag(reader)}${uniqueId()}`;
    let ns: Netns;
    let a: TunAgent;

    beforeAll(() => {
      removeStale(`${PREFIX}del-${readerTag(reader)}`);
      ns = createNetns(`${PREFIX}del-${id}`);
      a = new TunAgent(ns.name, reader);
    });

    afterAll(() => {
      a?.kill();
      ns?.destroy();
    });

    it('emits a TunError, closes itself, and the process can still exit cleanly', async () => {
      const dev = await a.call<{ name: string }>('open', { name: `tvdel${id}` });
      ns.exec('ip', ['link', 'del', dev.name]);
      let st: {
        lastError: { code: string; message: string } | null;
        closed: boolean;
        closeEvents: number;
      } | null = null;
      for (let i = 0; i < 40; i++) {
        st = await a.call('stats');
        if (st?.closeEvents) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(st?.lastError).toMatchObject({
        code: 'TUN_SYSTEM',
        message: expect.stringContaining('reader stopped'),
      });
      expect(st?.closed).toBe(true);
      expect(st?.closeEvents).toBe(1);
      await a.call('close');
      const exit = await Promise.race([
        a.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 2000)),
      ]);
      expect(exit?.code).toBe(0);
    });
  },
);
