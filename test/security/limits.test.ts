/**
 * Hostile input into one engine: floods stay bounded (the framer's 1 MiB
 * output bound, counted drops), Nak/request loops end, oversize frames and
 * bad lengths are dropped and counted, a Protocol-Reject of LCP is fatal, IP
 * before IPCP is dropped and counted.
 */
import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/engine/index.js';
import { HdlcFramer } from '../../src/hdlc/index.js';
import { emitControlPacket } from '../../src/ppp/packet.js';
import { IPCP, LCP, lastOf, opts, Peer } from './support.js';

const MIB = 1 << 20;
const noV6 = (o: { ipv6cp?: unknown }) => {
  o.ipv6cp = false;
};

/** `count` copies of one framed packet, as one chunk. */
function repeated(protocol: number, info: Uint8Array, count: number): Uint8Array {
  const f = new HdlcFramer({ maxPending: 64 * MIB });
  for (let i = 0; i < count; i++) f.writeFrame(protocol, info, false);
  return f.take()!;
}

function ipv4(len: number): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x45;
  p[2] = len >> 8;
  p[3] = len & 0xff;
  return p;
}

describe('floods stay bounded', () => {
  it('100,000 Echo-Requests (1000 bytes each) with nobody draining: output capped at 1 MiB, drops counted', () => {
    const p = new Peer('client', 'up');
    p.take();
    const heap0 = process.memoryUsage().heapUsed;
    const echo = emitControlPacket(9, 1, new Uint8Array(1000));
    const chunk = repeated(LCP, echo, 1000);
    for (let i = 0; i < 100; i++) {
      p.sendRaw(chunk);
      p.log.length = 0; // the test's own log copy is not the engine's memory
    }
    const s = p.engine.stats();
    expect(s.protocols.lcp.rxPackets).toBeGreaterThanOrEqual(100_000);
    expect(s.framing.tx.drops).toBeGreaterThan(90_000);
    expect(s.protocols.lcp.drops).toBe(s.framing.tx.drops);
    const out = p.engine.takeOutput()!;
    expect(out.length).toBeLessThanOrEqual(MIB);
    expect(out.length).toBeGreaterThan(MIB - 2100);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * MIB);
    // Still up and answering once drained.
    p.send(LCP, 9, 77, [0, 0, 0, 0]);
    expect(lastOf(p.take(), LCP, 10)?.id).toBe(77);
    expect(p.engine.stats().states.lcp).toBe('Opened');
  });

  it('a Configure-Request flood of options we refuse closes LCP with a reason, output stays bounded', () => {
    const p = new Peer('client', 'fresh', noV6);
    p.take();
    const bad = opts([0x99, 1, 2, 3]); // unknown option: Configure-Reject every time
    for (let i = 0; i < 50; i++) p.send(LCP, 1, i, bad);
    const out = p.take();
    const rejects = out.filter((x) => x.protocol === LCP && x.code === 4).length;
    expect(rejects).toBeLessThanOrEqual(16); // maxConfigure 10 + maxFailure 5 + 1, then closed
    const fin = p.eventsOf('finished');
    expect(p.log).toContain(
      'sent [LCP TermReq id=0x2 "LCP: peer keeps requesting options we refuse"]',
    );
    p.advance(30_000);
    expect(p.eventsOf('finished').length + fin.length).toBeGreaterThanOrEqual(1);
    expect(p.engine.phase).toBe('dead');
  });

  it('100,000 IP packets offered before IPCP is open are dropped and counted, nothing is framed', () => {
    const p = new Peer('client', 'lcp', noV6);
    p.take();
    const pkt = ipv4(1400);
    for (let i = 0; i < 100_000; i++) expect(p.engine.sendIp(pkt, p.now)).toBe(false);
    expect(p.engine.stats().protocols.ipv4.drops).toBe(100_000);
    expect(p.engine.stats().protocols.ipv4.txPackets).toBe(0);
    expect(p.engine.takeOutput()).toBeNull();
  });

  it('a TUN-side flood when the transport does not drain: the framer bound holds, drops counted', () => {
    const p = new Peer('client', 'up');
    p.take();
    const pkt = ipv4(1400);
    let ok = 0;
    for (let i = 0; i < 10_000; i++) if (p.engine.sendIp(pkt, p.now)) ok++;
    const s = p.engine.stats();
    expect(ok).toBeLessThan(800); // 1 MiB / ~1400
    expect(s.protocols.ipv4.drops).toBe(10_000 - ok);
    expect(s.framing.tx.drops).toBe(10_000 - ok);
    expect(p.engine.takeOutput()!.length).toBeLessThanOrEqual(MIB);
    expect(p.engine.sendIp(pkt, p.now)).toBe(true);
  });
});

describe('negotiation loops end', () => {
  it('a peer that keeps asking for MRU 20: we Nak 5 times (max-failure), then Configure-Reject', () => {
    const p = new Peer('client', 'fresh', noV6);
    p.take();
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      p.send(LCP, 1, 10 + i, opts([1, 0, 20]));
      const r = p
        .take()
        .filter((x) => x.protocol === LCP && x.id === 10 + i && x.code >= 2 && x.code <= 4);
      codes.push(r[0]?.code ?? 0);
    }
    expect(codes).toEqual([3, 3, 3, 3, 3, 4, 4]);
  });

  it('a peer that Naks our every Configure-Request: LCP gives up with a reason', () => {
    const p = new Peer('client', 'fresh', noV6);
    let req = lastOf(p.take(), LCP, 1) ?? p.waitFor(LCP, 1);
    for (let i = 0; i < 20 && req !== undefined; i++) {
      p.send(LCP, 3, req.id, opts([1, 0x01, 0x00])); // "use MRU 256"
      req = lastOf(p.take(), LCP, 1);
    }
    p.advance(30_000);
    expect(p.log.filter((l) => l.includes('TermReq'))[0]).toMatch(
      /^sent \[LCP TermReq id=0x[0-9a-f]+ "LCP: peer keeps refusing our options"\]$/,
    );
    // The first request, then one per Nak until more than max-configure (10) refusals in a row.
    expect(p.engine.stats().fsm.lcp.confReqsSent).toBeLessThanOrEqual(13);
    const fin = p.eventsOf('finished');
    expect(fin).toHaveLength(1);
    expect(fin[0].reason).toBe('LCP: peer keeps refusing our options');
  });

  it('IPCP: a server that never stops Naking (also with accepted addresses) cannot keep us busy forever', () => {
    const p = new Peer('client', 'lcp', noV6);
    let req = p.waitFor(IPCP, 1);
    let sent = 0;
    for (let i = 0; i < 200 && req !== undefined; i++) {
      p.send(IPCP, 3, req.id, opts([3, 10, 77, 0, 10 + (i % 200)]));
      sent++;
      req = lastOf(p.take(), IPCP, 1);
    }
    expect(sent).toBeLessThanOrEqual(12);
    p.advance(30_000);
    expect(p.eventsOf('ipv4-up')).toEqual([]);
    expect(
      p.log.some((l) => l.startsWith('IPCP finished: IPCP: peer keeps refusing our options')),
    ).toBe(true);
  });
});

describe('malformed frames are dropped and counted', () => {
  it('an oversize frame (4000-byte LCP) is dropped by the deframer and counted as tooLong', () => {
    const p = new Peer('client', 'up');
    p.take();
    const before = p.engine.stats().framing.rx.tooLong;
    p.send(LCP, 9, 1, new Array(4000).fill(0));
    expect(p.engine.stats().framing.rx.tooLong).toBe(before + 1);
    expect(lastOf(p.take(), LCP, 10)).toBeUndefined();
    const ip = new HdlcFramer();
    ip.writeFrame(0x21, ipv4(9000), false);
    p.sendRaw(ip.take()!);
    expect(p.engine.stats().framing.rx.tooLong).toBe(before + 2);
    expect(p.ip).toEqual([]);
  });

  it('control packets with a length field beyond the frame, or below 4, are counted as bad', () => {
    const p = new Peer('client', 'up');
    p.take();
    const bad0 = p.engine.stats().protocols.lcp.bad;
    p.send(LCP, 0, 0, [], Uint8Array.from([9, 1, 0, 200, 0, 0, 0, 0])); // length 200 > 8
    p.send(LCP, 0, 0, [], Uint8Array.from([9, 1, 0, 2, 0, 0, 0, 0])); // length 2 < 4
    p.send(LCP, 0, 0, [], Uint8Array.from([9, 1])); // no header
    p.send(IPCP, 0, 0, [], Uint8Array.from([1, 1, 0xff, 0xff]));
    const s = p.engine.stats();
    expect(s.protocols.lcp.bad).toBe(bad0 + 3);
    expect(s.protocols.ipcp.bad).toBeGreaterThanOrEqual(1);
    expect(p.take().filter((x) => x.code === 10)).toEqual([]);
    expect(s.states.lcp).toBe('Opened');
  });

  it('a Configure-Request whose options run past the packet is dropped and counted (fsm.badPackets)', () => {
    const p = new Peer('client', 'fresh', noV6);
    p.take();
    p.send(LCP, 1, 5, [1, 40, 5, 0xdc]);
    expect(p.engine.stats().fsm.lcp.badPackets).toBe(1);
    expect(p.take().filter((x) => x.id === 5)).toEqual([]);
  });

  it('bad FCS and header garbage are counted by the deframer, not thrown on', () => {
    const e = new PppEngine({ random32: () => 7 });
    e.open(0);
    e.receive(Uint8Array.from([0x7e, 0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4, 0x12, 0x34, 0x7e]), 0);
    e.receive(Uint8Array.from([0x7e, 0xff, 0x05, 0xc0, 0x21, 1, 1, 0, 4, 0x12, 0x34, 0x7e]), 0);
    e.receive(Uint8Array.from([0x7e, 0x01, 0x7e, 0x7d, 0x7e]), 0);
    const rx = e.stats().framing.rx;
    expect(rx.badFcs + rx.badHeader + rx.tooShort + rx.aborted).toBeGreaterThanOrEqual(3);
  });
});

describe('Protocol-Reject and early IP', () => {
  it('a Protocol-Reject of LCP itself is fatal: LCP terminates (RFC 1661 §5.7: LCP cannot be rejected)', () => {
    const p = new Peer('client', 'up');
    p.take();
    p.send(LCP, 8, 9, [0xc0, 0x21, 1, 1, 0, 4]);
    p.advance(10_000);
    const down = p.eventsOf('down');
    expect(down.at(-1)?.reason).toBe('LCP: protocol rejected by peer');
    expect(p.eventsOf('finished').at(-1)?.reason).toBe('LCP: protocol rejected by peer');
    expect(p.engine.stats().protocolRejectsReceived).toBe(0); // LCP's own rejection is not an NCP reject
    expect(p.engine.phase).toBe('dead');
  });

  it('a Protocol-Reject of IPCP stops IPCP only (IPv6 stays up)', () => {
    const p = new Peer('client', 'up');
    p.take();
    p.send(LCP, 8, 9, [0x80, 0x21, 1, 1, 0, 4]);
    p.advance(10_000);
    const s = p.engine.stats();
    expect(s.protocolRejectsReceived).toBe(1);
    expect(s.states.ipcp).not.toBe('Opened');
    expect(s.states.ipv6cp).toBe('Opened');
    expect(p.engine.phase).toBe('network');
  });

  it('IP packets from the peer before IPCP/IPv6CP are open are dropped and counted, not delivered', () => {
    for (const state of ['fresh', 'auth', 'lcp'] as const) {
      const p = new Peer('client', state);
      p.take();
      const f = new HdlcFramer();
      for (let i = 0; i < 10; i++) f.writeFrame(0x21, ipv4(100), false);
      const v6 = new Uint8Array(48);
      v6[0] = 0x60;
      f.writeFrame(0x57, v6, false);
      p.sendRaw(f.take()!);
      const s = p.engine.stats();
      expect(p.ip, state).toEqual([]);
      expect(s.protocols.ipv4.drops, state).toBe(10);
      expect(s.protocols.ipv6.drops, state).toBe(1);
      expect(s.protocols.ipv4.rxPackets, state).toBe(0);
    }
  });
});
