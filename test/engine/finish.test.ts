/**
 * How a link ends: half-up links (LCP up, no network protocol can come up) end on
 * both sides as pppd's do (np_finished → "No network protocols running"), with a
 * machine-readable cause and a reason naming the option and the address; the
 * negotiation deadline is the engine's own; a far end known to be pppd is not
 * offered the private GSO option.
 */

import { describe, expect, it } from 'vitest';
import { PppEngine, Protocol } from '../../src/engine/index.js';
import { HdlcDeframer } from '../../src/hdlc/index.js';
import { hexSpaced, latin1Bytes } from '../../src/ppp/bytes.js';
import { Code } from '../../src/ppp/codes.js';
import { eventsOf, Link, type Side } from './support/link.js';
import { PeerLink } from './support/peer-link.js';
import { ScriptedPeer } from './support/scripted-peer.js';

/** Decodes every frame a side sends, in order (HDLC-unescaped information fields). */
function tap(l: Link, who: 'ab' | 'ba'): { protocol: number; info: Uint8Array }[] {
  const frames: { protocol: number; info: Uint8Array }[] = [];
  const d = new HdlcDeframer(
    (protocol, info) => frames.push({ protocol, info: Uint8Array.from(info) }),
    { accm: 0, maxInfo: 1600 },
  );
  l.fault = (dir, frame) => {
    if (dir === who) d.push(frame);
    return [frame];
  };
  return frames;
}

/** The LCP Terminate-Requests among decoded frames. */
function termReqs(frames: { protocol: number; info: Uint8Array }[]): Uint8Array[] {
  return frames
    .filter((f) => f.protocol === Protocol.LCP && f.info[0] === Code.TermReq)
    .map((f) => f.info);
}

/** Code, id, length and the reason text of a Terminate-Request, as bytes. */
function termReqBytes(id: number, reason: string): string {
  const text = latin1Bytes(reason);
  const len = 4 + text.length;
  return hexSpaced(Uint8Array.of(Code.TermReq, id, len >>> 8, len & 0xff, ...text));
}

function finished(s: Side) {
  return eventsOf(s, 'finished');
}

describe('half-up links end, on both sides, with a cause and a reason', () => {
  it('the far end proposes an address outside accept-peer: we end the link naming it; the far end ends too', () => {
    // A: a client that accepts a server address only in 10.0.0.0/24 and has none configured.
    // B: a server at 10.9.9.9 that gives A 10.0.0.5.
    const l = new Link(
      {
        ipcp: { acceptPeer: (a) => a.startsWith('10.0.0.'), acceptLocal: () => true },
        ipv6cp: false,
      },
      { ipcp: { local: '10.9.9.9', peer: '10.0.0.5' }, ipv6cp: false },
    );
    const fromA = tap(l, 'ab');
    l.start(20_000);
    const reason =
      'No network protocols running (IPCP failed: peer address 10.9.9.9 is outside accept-peer)';
    expect(finished(l.a)).toEqual([{ type: 'finished', reason, cause: 'no-network-protocol' }]);
    expect(finished(l.b)).toEqual([
      { type: 'finished', reason: `LCP terminated by peer (${reason})`, cause: 'peer-terminated' },
    ]);
    // One Terminate-Request on the wire, its data the reason byte for byte.
    const reqs = termReqs(fromA);
    expect(reqs).toHaveLength(1);
    expect(hexSpaced(reqs[0])).toBe(termReqBytes(reqs[0][1], reason));
    expect(l.a.log).toContain(
      'IPCP finished: Could not determine remote IP address (peer address 10.9.9.9 is outside accept-peer)',
    );
    expect(l.a.engine.phase).toBe('dead');
    expect(l.b.engine.phase).toBe('dead');
    expect(eventsOf(l.a, 'ipv4-up')).toEqual([]);
    expect(eventsOf(l.a, 'ipv4-down')).toEqual([]);
  });

  it('the server refuses the address the client insists on: the server ends naming it', () => {
    // A: a client with a fixed address it will not give up. B: a server without an address
    // to assign that accepts only 10.0.0.0/24.
    const l = new Link(
      { ipcp: { local: '10.9.9.9', acceptLocal: () => false }, ipv6cp: false },
      {
        ipcp: { local: '10.0.0.1', acceptPeer: (a) => a.startsWith('10.0.0.') },
        ipv6cp: false,
      },
    );
    const fromB = tap(l, 'ba');
    l.start(20_000);
    const reason =
      'No network protocols running (IPCP failed: peer address 10.9.9.9 is outside accept-peer)';
    expect(finished(l.b)).toEqual([{ type: 'finished', reason, cause: 'no-network-protocol' }]);
    expect(finished(l.a)).toEqual([
      { type: 'finished', reason: `LCP terminated by peer (${reason})`, cause: 'peer-terminated' },
    ]);
    const reqs = termReqs(fromB);
    expect(reqs.map((r) => hexSpaced(r))).toEqual([termReqBytes(reqs[0][1], reason)]);
  });

  it('IPv6 disabled on one side and IPCP failing: both protocols are named, both sides end', () => {
    // A runs IPv6CP, B Protocol-Rejects it; B assigns an address A may not take.
    const l = new Link(
      { ipcp: { acceptLocal: (a) => a.startsWith('192.168.') } },
      { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, ipv6cp: false },
    );
    l.start(60_000);
    expect(finished(l.a)).toEqual([
      {
        type: 'finished',
        reason:
          'No network protocols running (IPCP failed: peer offers us address 10.0.0.2, outside accept-local; IPV6CP failed: protocol rejected by peer)',
        cause: 'no-network-protocol',
      },
    ]);
    expect(finished(l.b)).toHaveLength(1);
    expect(finished(l.b)[0].cause).toBe('peer-terminated');
    expect(finished(l.b)[0].reason).toMatch(/^LCP terminated by peer \(No network protocols/);
  });

  it('IPv6CP up, IPCP failed: the link stays like pppd by default, ends with requireNetwork ipv4', () => {
    const a = { ipcp: { acceptLocal: (x: string) => x.startsWith('192.168.') } };
    const b = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } };
    const stays = new Link(a, b);
    stays.start(120_000);
    expect(eventsOf(stays.a, 'ipv6-up')).toHaveLength(1);
    expect(finished(stays.a)).toEqual([]);
    expect(finished(stays.b)).toEqual([]);

    const ends = new Link({ ...a, requireNetwork: 'ipv4' }, b);
    ends.start(120_000);
    expect(finished(ends.a)).toEqual([
      {
        type: 'finished',
        reason:
          'IPCP failed: peer offers us address 10.0.0.2, outside accept-local; IPv4 is required',
        cause: 'no-network-protocol',
      },
    ]);
    expect(finished(ends.b).map((e) => e.cause)).toEqual(['peer-terminated']);
    expect(ends.a.engine.phase).toBe('dead');
    expect(ends.b.engine.phase).toBe('dead');
  });

  it('requireNetwork ipv4 needs IPv4 enabled (local misuse throws)', () => {
    expect(() => new PppEngine({ random32: () => 1, ipcp: false, requireNetwork: 'ipv4' })).toThrow(
      expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }),
    );
  });
});

describe('the negotiation deadline', () => {
  /** A peer that brings LCP up and never says a word of IPCP. */
  function silentIpcpPeer(): ScriptedPeer {
    return new ScriptedPeer((p, protocol, pkt) => {
      if (pkt === null || protocol !== Protocol.LCP) return;
      if (pkt.code === Code.ConfReq) {
        if (!p.ids.has(protocol))
          p.send(protocol, Code.ConfReq, p.nextId(protocol), new Uint8Array(0));
        p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
      }
      if (pkt.code === Code.TermReq) p.send(protocol, Code.TermAck, pkt.id, new Uint8Array(0));
    });
  }

  it('is one of the deadlines nextDeadline() reports, and ends the link with negotiation-timeout', () => {
    const l = new PeerLink(
      { ipcp: { local: '10.0.0.1' }, ipv6cp: false, negotiationTimeoutMs: 10_000 },
      silentIpcpPeer(),
    );
    l.engine.open(0);
    l.pump();
    // LCP is up; the restart timer (3 s) comes first, the deadline is at 10 s.
    expect(l.engine.nextDeadline()).toBe(3000);
    l.runUntil(9_999);
    expect(l.events('finished')).toEqual([]);
    l.runUntil(10_000);
    const reason = 'no network protocol was up within 10 s (IPCP Req-Sent)';
    expect(l.events('finished')).toEqual([
      { type: 'finished', reason, cause: 'negotiation-timeout' },
    ]);
    expect(l.us.log).toContain(`sent [LCP TermReq id=0x2 "${reason}"]`);
    const term = l.peer.received.find((f) => f.protocol === Protocol.LCP && f.info[0] === 5);
    expect(hexSpaced(term?.info ?? new Uint8Array(0))).toBe(termReqBytes(2, reason));
  });

  it('defaults to restartMs * (maxConfigure + 2) + 5000 (41 s): ends an NCP that stalls', () => {
    // The peer acks each of our IPCP requests but never sends its own: our IPCP goes
    // Req-Sent -> Ack-Rcvd -> (timeout) Req-Sent … with its restart counter reset by every
    // Ack (RFC 1661 §4.1 RCA: irc), so only the deadline ends it.
    const peer = new ScriptedPeer((p, protocol, pkt) => {
      if (pkt === null || protocol < 0x8000) return;
      if (pkt.code === Code.ConfReq) {
        if (protocol === Protocol.LCP && !p.ids.has(protocol))
          p.send(protocol, Code.ConfReq, p.nextId(protocol), new Uint8Array(0));
        p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
      }
      if (pkt.code === Code.TermReq) p.send(protocol, Code.TermAck, pkt.id, new Uint8Array(0));
    });
    const l = new PeerLink({ ipcp: { local: '10.0.0.1' }, ipv6cp: false }, peer);
    l.engine.open(0);
    l.runUntil(40_999);
    expect(l.us.log.filter((x) => x.startsWith('sent [IPCP ConfReq')).length).toBeGreaterThan(10);
    expect(l.events('finished')).toEqual([]);
    l.runUntil(41_000);
    expect(l.events('finished')).toEqual([
      {
        type: 'finished',
        reason: 'no network protocol was up within 41 s (IPCP Ack-Rcvd)',
        cause: 'negotiation-timeout',
      },
    ]);
  });

  it('stops once a network protocol is up, and 0 turns it off', () => {
    const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, ipv6cp: false as const };
    const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' }, ipv6cp: false as const };
    const l = new Link(A, B);
    l.start(10_000);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(1);
    expect(l.a.engine.nextDeadline()).toBeNull();
    l.runUntil(300_000);
    expect(finished(l.a)).toEqual([]);

    const off = new PeerLink(
      { ipcp: { local: '10.0.0.1' }, ipv6cp: false, negotiationTimeoutMs: 0 },
      silentIpcpPeer(),
    );
    off.engine.open(0);
    off.runUntil(29_000);
    expect(off.events('finished')).toEqual([]);
  });

  it('a passive engine waits for its peer: no default deadline', () => {
    const e = new PppEngine({ random32: () => 7, lcp: { passive: true } });
    e.open(0);
    // LCP sends its Configure-Requests, gives up sending and waits in Stopped.
    for (let d = e.nextDeadline(); d !== null; d = e.nextDeadline()) e.handleTimeout(d);
    expect(e.stats().states.lcp).toBe('Stopped');
    expect(e.takeEvents().filter((x) => x.type === 'finished')).toEqual([]);
  });
});

describe('finish causes', () => {
  it('a wrong PAP password: both sides finish with auth-failed', () => {
    const l = new Link(
      { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, auth: { user: 'u', password: 'bad' } },
      {
        ipcp: { local: '10.0.0.2', peer: '10.0.0.1' },
        auth: { require: 'pap', verify: (u, p) => u === 'u' && p === 'good' },
      },
    );
    l.start(20_000);
    expect(finished(l.a).map((e) => e.cause)).toEqual(['auth-failed']);
    expect(finished(l.b).map((e) => e.cause)).toEqual(['auth-failed']);
  });

  it('lowerDown while our Terminate-Request is out keeps the cause that ended the link', () => {
    const l = new Link(
      { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } },
      { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } },
    );
    l.start(10_000);
    l.connected = false;
    l.a.engine.close(l.now, 'bye');
    l.a.engine.lowerDown(l.now);
    l.collect();
    expect(finished(l.a)).toEqual([{ type: 'finished', reason: 'bye', cause: 'local-close' }]);
  });
});

describe('a far end known to be pppd', () => {
  function firstConfReq(e: PppEngine): string {
    e.open(0);
    const frames: Uint8Array[] = [];
    new HdlcDeframer((_p, info) => frames.push(Uint8Array.from(info)), { accm: 0 }).push(
      e.takeOutput() ?? new Uint8Array(0),
    );
    return hexSpaced(frames[0]);
  }

  it('is not offered the private GSO option: the first Configure-Request is pppd’s own', () => {
    const gso = { random32: () => 0x4bdad897, gso: true };
    const toPppd = firstConfReq(new PppEngine({ ...gso, peerKind: 'pppd' }, undefined, () => {}));
    expect(toPppd).toBe('01 01 00 14 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02');
    const toTsVpn = firstConfReq(
      new PppEngine({ ...gso, peerKind: 'ts-vpn' }, undefined, () => {}),
    );
    expect(toTsVpn).toBe(
      '01 01 00 1c 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02 00 08 02 54 56 01 ff ff',
    );
  });

  it('peerKind is checked (local misuse throws)', () => {
    expect(
      () => new PppEngine({ random32: () => 1, peerKind: 'ppp' as unknown as 'pppd' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }));
  });
});
