/** LinkDriver: real engines over fake in-memory streams (coalescing, backpressure, one timer). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type EngineEvent, PppEngine } from '../../src/engine/index.js';
import { type ByteStream, LinkDriver } from '../../src/link/index.js';

class FakeStream implements ByteStream {
  readonly writes: Uint8Array[] = [];
  /** What write() returns (false = backpressure). */
  accept = true;
  peer: FakeStream | null = null;
  private dataCb: ((c: Uint8Array) => void) | null = null;
  private drainCb: (() => void) | null = null;
  write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    const peer = this.peer;
    if (peer) queueMicrotask(() => peer.dataCb?.(chunk));
    return this.accept;
  }
  onData(cb: (c: Uint8Array) => void): void {
    this.dataCb = cb;
  }
  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }
  drain(): void {
    this.accept = true;
    this.drainCb?.();
  }
}

function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function ipv4Packet(i: number, len = 100): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x45;
  p[2] = len >> 8;
  p[3] = len & 0xff;
  p[9] = 17;
  p[12] = 10;
  p[15] = 1;
  p[16] = 10;
  p[19] = 2;
  p[20] = i & 0xff;
  p[21] = i >> 8;
  return p;
}

function side(
  local: string,
  peer: string,
  seed: number,
  stream: FakeStream,
  received: Uint8Array[],
  clock?: () => number,
) {
  const engine = new PppEngine(
    { random32: seeded(seed), ipcp: { local, peer }, ipv6cp: false },
    (_v, pkt) => received.push(Uint8Array.from(pkt)),
  );
  const driver = new LinkDriver(engine, stream, clock);
  const events: EngineEvent[] = [];
  driver.on('event', (e) => events.push(e));
  return { engine, driver, events };
}

async function settle(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

async function pair() {
  const sa = new FakeStream();
  const sb = new FakeStream();
  sa.peer = sb;
  sb.peer = sa;
  const rxA: Uint8Array[] = [];
  const rxB: Uint8Array[] = [];
  const a = side('10.0.0.1', '10.0.0.2', 1, sa, rxA);
  const b = side('10.0.0.2', '10.0.0.1', 2, sb, rxB);
  a.driver.start();
  b.driver.start();
  await settle(
    () => a.events.some((e) => e.type === 'ipv4-up') && b.events.some((e) => e.type === 'ipv4-up'),
  );
  return { sa, sb, a, b, rxA, rxB };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LinkDriver', () => {
  it('brings two engines up over a byte stream and reports events', async () => {
    const { a, b } = await pair();
    expect(a.events.find((e) => e.type === 'ipv4-up')).toMatchObject({
      local: '10.0.0.1',
      peer: '10.0.0.2',
    });
    expect(b.events.find((e) => e.type === 'lcp-up')).toMatchObject({ mtu: 1500, mru: 1500 });
    a.driver.stop();
    b.driver.stop();
  });

  it('coalesces a batch of 100 packets into one stream write', async () => {
    const { sa, a, b, rxB } = await pair();
    const before = sa.writes.length;
    const batch = Array.from({ length: 100 }, (_, i) => ipv4Packet(i));
    expect(a.driver.sendPackets(batch)).toBe(100);
    expect(sa.writes.length).toBe(before + 1);
    await settle(() => rxB.length === 100);
    expect(rxB[42]).toEqual(batch[42]);
    a.driver.stop();
    b.driver.stop();
  });

  it('hands a stream with writeView the framing buffer itself (no copy per write); write gets copies', async () => {
    const { sa, a, b, rxB } = await pair();
    // Without writeView: every write is a buffer of its own.
    a.driver.sendPackets([ipv4Packet(1)]);
    a.driver.sendPackets([ipv4Packet(2)]);
    const copies = sa.writes.slice(-2);
    expect(copies[0]!.buffer).not.toBe(copies[1]!.buffer);
    await settle(() => rxB.length === 2);
    // With writeView: views of one framing buffer, valid during the call (the stream copies).
    const views: Uint8Array[] = [];
    const stream = sa as FakeStream & { writeView?: (c: Uint8Array) => boolean };
    stream.writeView = (chunk) => {
      views.push(chunk);
      return sa.write(Uint8Array.from(chunk));
    };
    const batch1 = Array.from({ length: 10 }, (_, i) => ipv4Packet(10 + i));
    const batch2 = Array.from({ length: 10 }, (_, i) => ipv4Packet(20 + i, 300));
    a.driver.sendPackets(batch1);
    a.driver.sendPackets(batch2);
    expect(views.length).toBe(2);
    expect(views[0]!.buffer).toBe(views[1]!.buffer);
    await settle(() => rxB.length === 22);
    expect(rxB.slice(2)).toEqual([...batch1, ...batch2]);
    a.driver.stop();
    b.driver.stop();
  });

  it('holds output while the stream is backpressured and writes it in one go on drain', async () => {
    const { sa, a, b, rxB } = await pair();
    const pushedBack: boolean[] = [];
    a.driver.onBackpressure = (blocked) => pushedBack.push(blocked);
    sa.accept = false;
    const before = sa.writes.length;
    a.driver.sendPackets(Array.from({ length: 10 }, (_, i) => ipv4Packet(i)));
    expect(sa.writes.length).toBe(before + 1); // this write was queued by the stream, which said "wait"
    expect(a.driver.isBlocked).toBe(true);
    a.driver.sendPackets(Array.from({ length: 10 }, (_, i) => ipv4Packet(100 + i)));
    a.driver.sendPackets(Array.from({ length: 10 }, (_, i) => ipv4Packet(200 + i)));
    expect(sa.writes.length).toBe(before + 1); // nothing more while blocked: the framer keeps it
    expect(pushedBack).toEqual([true]); // told once, so the TUN reader can pause
    sa.drain();
    expect(a.driver.isBlocked).toBe(false);
    expect(pushedBack).toEqual([true, false]);
    expect(sa.writes.length).toBe(before + 2); // 20 packets, one write
    await settle(() => rxB.length === 30);
    expect(rxB.map((p) => p[20] | (p[21] << 8))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => 100 + i),
      ...Array.from({ length: 10 }, (_, i) => 200 + i),
    ]);
    a.driver.stop();
    b.driver.stop();
  });

  it('drives retransmissions from one timer re-armed from the engine deadline', () => {
    vi.useFakeTimers();
    const s = new FakeStream(); // nobody answers
    const one = side('10.0.0.1', '10.0.0.2', 3, s, [], () => Date.now());
    one.driver.start();
    expect(s.writes.length).toBe(1); // LCP Configure-Request
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2999);
    expect(s.writes.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(s.writes.length).toBe(2); // restart timer (3 s) fired: retransmission
    expect(vi.getTimerCount()).toBe(1);
    one.driver.lowerDown();
    expect(one.events.some((e) => e.type === 'finished')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops IP packets offered before IPCP is up (counted by the engine, nothing written)', () => {
    const s = new FakeStream();
    const one = side('10.0.0.1', '10.0.0.2', 4, s, []);
    one.driver.start();
    const n = s.writes.length;
    expect(one.driver.sendPackets([ipv4Packet(1), ipv4Packet(2)])).toBe(0);
    expect(s.writes.length).toBe(n);
    expect(one.engine.stats().protocols.ipv4.drops).toBe(2);
    one.driver.stop();
  });
});
