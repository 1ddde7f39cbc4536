/** Engine behaviour in the situations the RFCs and pppd care about. */

import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/engine/index.js';
import { fromHex } from '../../src/ppp/bytes.js';
import { Code } from '../../src/ppp/codes.js';
import { Protocol } from '../../src/ppp/protocols.js';
import { eventsOf, Link, makeSide } from './support/link.js';
import { PeerLink } from './support/peer-link.js';
import { options, ScriptedPeer } from './support/scripted-peer.js';

const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } };
const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } };

describe('termination', () => {
  it('the other side can terminate too', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.b.engine.close(l.now, 'bye');
    l.runUntil(l.now + 10_000);
    expect(eventsOf(l.b, 'finished')).toEqual([
      { type: 'finished', reason: 'bye', cause: 'local-close' },
    ]);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'LCP terminated by peer (bye)', cause: 'peer-terminated' },
    ]);
    expect(eventsOf(l.a, 'down')).toEqual([
      { type: 'down', reason: 'LCP terminated by peer (bye)' },
    ]);
  });

  it('both sides closing at once both finish', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.a.engine.close(l.now);
    l.b.engine.close(l.now);
    l.runUntil(l.now + 10_000);
    expect(eventsOf(l.a, 'finished')).toHaveLength(1);
    expect(eventsOf(l.b, 'finished')).toHaveLength(1);
  });

  it('closing with the wire cut sends Max-Terminate requests, then finishes', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.connected = false;
    l.a.engine.close(l.now);
    l.runUntil(l.now + 20_000);
    expect(l.a.log.filter((x) => x.startsWith('sent [LCP TermReq'))).toHaveLength(2);
    expect(eventsOf(l.a, 'finished')).toHaveLength(1);
  });

  it('closing a silent engine that never heard from its peer finishes at once', () => {
    const s = makeSide({ ...A, lcp: { silent: true } }, 'S');
    s.engine.open(0);
    expect(s.engine.takeOutput()).toBeNull();
    s.engine.close(5);
    expect(s.engine.takeEvents().filter((e) => e.type === 'finished')).toEqual([
      { type: 'finished', reason: 'User request', cause: 'local-close' },
    ]);
    expect(s.engine.phase).toBe('dead');
  });

  it('passive: keeps waiting after the requests time out, and answers a late peer', () => {
    const l = new Link({ ...A, lcp: { passive: true } }, B);
    l.connected = false;
    l.a.engine.open(0);
    l.runUntil(60_000);
    expect(eventsOf(l.a, 'finished')).toEqual([]);
    expect(l.a.engine.stats().states.lcp).toBe('Stopped');
    l.connected = true;
    l.b.engine.open(l.now);
    l.runUntil(l.now + 10_000);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(1);
  });

  it('lowerDown reports finished at once', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.a.engine.lowerDown(l.now);
    l.collect();
    expect(eventsOf(l.a, 'down')).toEqual([{ type: 'down', reason: 'lower layer down' }]);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'lower layer down', cause: 'lower-layer-down' },
    ]);
    expect(l.a.engine.phase).toBe('dead');
  });

  it('an engine can be opened again after it finished', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.a.engine.close(l.now);
    l.runUntil(l.now + 10_000);
    l.a.events.length = 0;
    l.b.events.length = 0;
    l.start(10_000);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(1);
    expect(eventsOf(l.b, 'ipv4-up')).toHaveLength(1);
  });
});

describe('keepalive', () => {
  it('echo failure takes the link down with "peer not responding"', () => {
    const l = new Link({ ...A, lcp: { echoIntervalMs: 1000, echoFailures: 3 } }, B);
    l.start(5_000);
    expect(eventsOf(l.a, 'echo-rtt').length).toBeGreaterThan(0);
    expect(l.b.log.filter((x) => x.startsWith('sent [LCP EchoRep'))).not.toHaveLength(0);
    l.connected = false;
    l.runUntil(l.now + 20_000);
    expect(eventsOf(l.a, 'down')).toEqual([{ type: 'down', reason: 'peer not responding' }]);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'peer not responding', cause: 'echo-timeout' },
    ]);
  });

  it('echo ids count separately from the other LCP ids', () => {
    const l = new Link({ ...A, lcp: { echoIntervalMs: 1000 } }, B);
    l.start(3_500);
    const echo = l.a.log
      .filter((x) => x.startsWith('sent [LCP EchoReq'))
      .map((x) => /id=0x(\w+)/.exec(x)![1]);
    expect(echo.slice(0, 4)).toEqual(['0', '1', '2', '3']);
    l.a.engine.close(l.now);
    l.pump();
    expect(l.a.log.filter((x) => x.startsWith('sent [LCP TermReq'))[0]).toContain('id=0x2');
  });
});

describe('loopback and restarts', () => {
  it('detects a looped-back link and finishes with reason "loopback"', () => {
    const s = makeSide(A, 'A');
    s.engine.open(0);
    let now = 0;
    for (let i = 0; i < 500 && s.engine.phase !== 'dead'; i++) {
      const out = s.engine.takeOutput();
      if (out !== null) s.engine.receive(out, now);
      else {
        now = s.engine.nextDeadline() ?? now + 1000;
        s.engine.handleTimeout(now);
      }
    }
    const ev = s.engine.takeEvents();
    expect(ev.filter((e) => e.type === 'finished')).toEqual([
      { type: 'finished', reason: 'loopback', cause: 'loopback' },
    ]);
  });

  it('two engines with the same random source do not open (loopback suspected)', () => {
    const l = new Link({ ...A, seed: 5 }, { ...B, seed: 5 });
    l.start(60_000);
    expect(eventsOf(l.a, 'finished')[0]?.reason).toBe('loopback');
  });

  it('a peer restarting while Opened renegotiates: down, then up again', () => {
    const l = new Link(A, B);
    l.start(10_000);
    // The peer's process restarts: a fresh engine on the same wire.
    const fresh = makeSide({ ...B, seed: 77 }, 'B2', l.trace);
    (l as unknown as { b: typeof fresh }).b = fresh;
    fresh.engine.open(l.now);
    l.runUntil(l.now + 20_000);
    expect(eventsOf(l.a, 'down')).toEqual([{ type: 'down', reason: 'peer renegotiating' }]);
    expect(eventsOf(l.a, 'ipv4-down')).toHaveLength(1);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(2);
    expect(fresh.engine.stats().states).toEqual({
      lcp: 'Opened',
      ipcp: 'Opened',
      ipv6cp: 'Opened',
    });
  });
});

describe('hostile and odd peers', () => {
  it('a peer that rejects every option still gets a link with default framing', () => {
    const peer = new ScriptedPeer((p, protocol, pkt) => {
      if (pkt === null || protocol < 0x8000) return;
      if (pkt.code === Code.ConfReq) {
        if (pkt.data.length > 0) p.send(protocol, Code.ConfRej, pkt.id, pkt.data);
        else {
          p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
          if (!p.ids.has(protocol))
            p.send(protocol, Code.ConfReq, p.nextId(protocol), new Uint8Array(0));
        }
      }
      // Our Nak of its (empty) request: it asks again, still with nothing.
      if (pkt.code === Code.ConfNak || pkt.code === Code.ConfRej)
        p.send(protocol, Code.ConfReq, p.nextId(protocol), new Uint8Array(0));
    });
    const l = new PeerLink({ ...A, ipv6cp: false }, peer);
    l.engine.open(0);
    l.runUntil(20_000);
    expect(l.events('lcp-up')).toEqual([
      { type: 'lcp-up', mtu: 1500, mru: 1500, peerMagic: 0, gso: false },
    ]);
    expect(l.events('ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.0.0.1', peer: '10.0.0.2', dns: [] },
    ]);
    // Nothing negotiated: IP goes out with ff 03, a 2-byte protocol and every control character escaped.
    const v4 = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    expect(l.engine.sendIp(v4, l.now)).toBe(true);
    const out = l.engine.takeOutput()!;
    expect(Array.from(out.subarray(0, 6))).toEqual([0x7e, 0xff, 0x7d, 0x23, 0x7d, 0x20]);
  });

  it('after LCP is up with ACFC/PFC/ACCM 0, data frames start 7e 21 and LCP 1-7 keep ff 03', () => {
    const l = new Link(A, B);
    l.start(10_000);
    const v4 = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    l.a.engine.sendIp(v4, l.now);
    const out = l.a.engine.takeOutput()!;
    expect(Array.from(out.subarray(0, 4))).toEqual([0x7e, 0x21, 0x45, 0x00]);
    l.a.engine.close(l.now);
    const term = l.a.engine.takeOutput()!;
    expect(Array.from(term.subarray(0, 4))).toEqual([0x7e, 0xff, 0x7d, 0x23]);
  });

  it("a peer insisting on an MRU below 128 is Nak'd, then Rejected, then the link fails with a reason", () => {
    const peer = new ScriptedPeer((p, protocol, pkt) => {
      if (pkt === null || protocol !== Protocol.LCP) return;
      if (pkt.code === Code.ConfReq) p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
      if (pkt.code === Code.ConfNak || pkt.code === Code.ConfRej) {
        p.sendOptions(protocol, Code.ConfReq, p.nextId(protocol), [
          { type: 1, data: fromHex('00 40') },
        ]);
      }
      if (pkt.code === Code.TermReq) p.send(protocol, Code.TermAck, pkt.id, new Uint8Array(0));
    });
    peer.sendOptions(Protocol.LCP, Code.ConfReq, peer.nextId(Protocol.LCP), [
      { type: 1, data: fromHex('00 40') },
    ]);
    const l = new PeerLink(A, peer);
    l.engine.open(0);
    l.runUntil(30_000);
    const replies = l.us.log.filter((x) => /sent \[LCP Conf(Nak|Rej)/.test(x));
    expect(replies.slice(0, 6)).toEqual([
      ...Array.from(
        { length: 5 },
        (_, i) => `sent [LCP ConfNak id=0x${(i + 1).toString(16)} <mru 128>]`,
      ),
      'sent [LCP ConfRej id=0x6 <mru 64>]',
    ]);
    expect(l.events('finished')).toEqual([
      {
        type: 'finished',
        reason: 'LCP: peer keeps requesting options we refuse',
        cause: 'lcp-failed',
      },
    ]);
  });

  it('a peer Nak-ing our address forever: IPCP fails with a clear reason, then the link closes', () => {
    const peer = new ScriptedPeer((p, protocol, pkt) => {
      if (pkt === null || protocol < 0x8000) return;
      if (pkt.code === Code.ConfReq && protocol === Protocol.LCP) {
        if (!p.ids.has(protocol))
          p.send(protocol, Code.ConfReq, p.nextId(protocol), new Uint8Array(0));
        p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
      }
      if (pkt.code === Code.ConfReq && protocol === Protocol.IPCP) {
        if (!p.ids.has(protocol))
          p.sendOptions(protocol, Code.ConfReq, p.nextId(protocol), [
            { type: 3, data: fromHex('0a 00 00 02') },
          ]);
        const addr = options(pkt.data).find((o) => o.type === 3);
        p.sendOptions(protocol, Code.ConfNak, pkt.id, [{ type: 3, data: fromHex('c0 a8 00 09') }]);
        void addr;
      }
      if (pkt.code === Code.TermReq) p.send(protocol, Code.TermAck, pkt.id, new Uint8Array(0));
    });
    const l = new PeerLink({ ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, ipv6cp: false }, peer);
    l.engine.open(0);
    l.runUntil(60_000);
    expect(
      l.us.log.some((x) =>
        x.includes(
          'IPCP finished: IPCP: peer keeps refusing our options (peer offers local address 192.168.0.9, not accepted; we have 10.0.0.1)',
        ),
      ),
    ).toBe(true);
    expect(l.events('finished')).toEqual([
      {
        type: 'finished',
        reason:
          'No network protocols running (IPCP failed: peer refused our address 10.0.0.1 and offers 192.168.0.9, outside accept-local)',
        cause: 'no-network-protocol',
      },
    ]);
  });

  it('Protocol-Rejects unknown protocols with the negotiated framing and a shared LCP id', () => {
    const l = new Link(A, B);
    l.start(10_000);
    // Hand-craft a frame of protocol 0x8281 (unknown NCP) from B's framer.
    const peer = new ScriptedPeer(() => {});
    peer.negotiated();
    peer.send(0x8281, 1, 1, new Uint8Array(0));
    l.a.engine.receive(peer.take()!, l.now);
    const out = l.a.engine.takeOutput()!;
    expect(Array.from(out.subarray(0, 9))).toEqual([
      0x7e, 0xc0, 0x21, 0x08, 0x02, 0x00, 0x0a, 0x82, 0x81,
    ]);
    expect(l.a.log.at(-1)).toBe('sent [LCP ProtRej id=0x2 82 81 01 01 00 04]');
  });

  it('drops IP data while the NCP is not open, and counts it', () => {
    const l = new Link(A, { ...B, ipv6cp: false });
    l.start(10_000);
    const before = l.b.engine.stats().protocolRejectsSent;
    const peer = new ScriptedPeer(() => {});
    peer.negotiated();
    peer.framer.writeFrame(0x57, new Uint8Array(40).fill(0x60, 0, 1));
    l.b.engine.receive(peer.take()!, l.now);
    // B does no IPv6 at all: Protocol-Reject.
    expect(l.b.engine.stats().protocolRejectsSent).toBe(before + 1);
    // A's IPv6CP was Protocol-Rejected by B: IPv6 data to A is dropped.
    peer.framer.writeFrame(0x57, new Uint8Array(40).fill(0x60, 0, 1));
    l.a.engine.receive(peer.take()!, l.now);
    expect(l.a.engine.stats().protocols.ipv6.drops).toBe(1);
    expect(l.a.engine.stats().states.ipv6cp).toBe('Stopped');
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(1);
  });
});

describe('local misuse', () => {
  it('throws typed errors for bad options and double open', () => {
    expect(() => new PppEngine({ random32: () => 1, ipcp: { local: 'nope' } })).toThrow(
      expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }),
    );
    expect(() => new PppEngine({ random32: () => 1, auth: { require: 'pap' } })).toThrow(
      expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }),
    );
    const e = new PppEngine({ random32: () => 1 });
    e.open(0);
    expect(() => e.open(0)).toThrow(expect.objectContaining({ code: 'ERR_PPP_BAD_STATE' }));
  });
});

describe('authentication between two engines', () => {
  it('PAP both ways, then the network phase', () => {
    const l = new Link(
      {
        ...A,
        auth: {
          require: 'pap',
          verify: (u, p) => u === 'bob' && p === 'pw2',
          user: 'alice',
          password: 'pw1',
        },
      },
      {
        ...B,
        auth: {
          require: 'pap',
          verify: (u, p) => u === 'alice' && p === 'pw1',
          user: 'bob',
          password: 'pw2',
        },
      },
    );
    l.start(10_000);
    expect(eventsOf(l.a, 'auth-ok')).toEqual([{ type: 'auth-ok', peerName: 'bob' }]);
    expect(eventsOf(l.b, 'auth-ok')).toEqual([{ type: 'auth-ok', peerName: 'alice' }]);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(1);
  });

  it('CHAP with a wrong secret fails and closes the link', () => {
    const l = new Link(
      { ...A, auth: { require: 'chap', secretFor: () => 'right' } },
      { ...B, auth: { user: 'bob', password: 'wrong' } },
    );
    l.start(20_000);
    expect(eventsOf(l.a, 'auth-failed')).toHaveLength(1);
    expect(eventsOf(l.b, 'auth-failed')).toHaveLength(1);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'Authentication failed', cause: 'auth-failed' },
    ]);
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(0);
  });

  it('a peer without credentials rejects our auth requirement: "peer refused to authenticate"', () => {
    const l = new Link({ ...A, auth: { require: 'chap', secretFor: () => 's' } }, B);
    l.start(20_000);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'peer refused to authenticate', cause: 'auth-failed' },
    ]);
  });
});
