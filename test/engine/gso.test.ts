/**
 * GSO frames between two ts-vpn ends (src/engine/gso.ts): agreed through the LCP
 * Vendor-Specific option (RFC 2153, OUI 02:54:56 kind 1) both ways or not at all,
 * carried under protocol 0x2a21, and Protocol-Rejected like any unknown protocol
 * when not agreed.
 */

import { describe, expect, it } from 'vitest';
import { PppEngine, Protocol } from '../../src/engine/index.js';
import { framerWithoutWasm } from '../../src/hdlc/framer.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { bytesEqual, fromHex, hexSpaced, u16Bytes } from '../../src/ppp/bytes.js';
import { Code } from '../../src/ppp/codes.js';
import { isValidProtocol, protocolName } from '../../src/ppp/protocols.js';
import { eventsOf, Link, makeSide } from './support/link.js';
import { PeerLink } from './support/peer-link.js';
import { pppdPeer } from './support/pppd-peer.js';
import { ScriptedPeer } from './support/scripted-peer.js';

const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } };
const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } };
const GSO_A = { ...A, gso: true };
const GSO_B = { ...B, gso: true };

/** Largest GSO information field: the 10-octet virtio_net_hdr and a 65535-octet IP packet. */
const MAX_FRAME = 10 + 65535;

/** A GSO frame of `len` octets: every octet value in turn, IP version `version` at offset 10. */
function gsoFrame(len: number, version: 4 | 6 = 4, fill?: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = fill ?? (i * 7 + (i >>> 8)) & 0xff;
  f[10] = version === 4 ? 0x45 : 0x60;
  return f;
}

/** One frame of `protocol` as a peer with negotiated framing would send it. */
function peerFrame(protocol: number, info: Uint8Array): Uint8Array {
  const p = new ScriptedPeer(() => {});
  p.negotiated();
  expect(p.framer.writeFrame(protocol, info, false)).toBe(true);
  return p.take()!;
}

describe('GSO frames: negotiation', () => {
  it('use a protocol number RFC 1661 §2 allows, that PFC never compresses', () => {
    expect(Protocol.GsoFrame).toBe(0x2a21);
    expect(isValidProtocol(Protocol.GsoFrame)).toBe(true);
    expect(Protocol.GsoFrame).toBeGreaterThanOrEqual(0x100);
    expect(protocolName(Protocol.GsoFrame)).toBe('GSO');
  });

  it('both ends with gso: the option is requested and acked both ways, lcp-up reports gso', () => {
    const l = new Link(GSO_A, GSO_B);
    l.start(10_000);
    for (const s of [l.a, l.b]) {
      expect(eventsOf(s, 'lcp-up')).toHaveLength(1);
      expect(eventsOf(s, 'lcp-up')[0].gso).toBe(true);
      expect(s.engine.gsoEnabled).toBe(true);
      expect(s.engine.stats().gso).toMatchObject({ enabled: true, peerMaxPacket: 65535 });
      expect(s.log).toContain('GSO frames on (peer takes IP packets up to 65535)');
      expect(eventsOf(s, 'ipv4-up')).toHaveLength(1);
    }
    for (const who of ['A', 'B']) {
      expect(
        l.trace.some(
          (t) =>
            t.startsWith(`${who}: sent [LCP ConfReq `) &&
            t.endsWith('<accomp> <vendor 02:54:56 kind 1 gso 65535>]'),
        ),
      ).toBe(true);
      expect(
        l.trace.some(
          (t) =>
            t.startsWith(`${who}: sent [LCP ConfAck `) &&
            t.endsWith('<vendor 02:54:56 kind 1 gso 65535>]'),
        ),
      ).toBe(true);
    }
  });

  for (const [aOpts, bOpts, rejecter] of [
    [GSO_A, B, 'B'],
    [A, GSO_B, 'A'],
  ] as const) {
    it(`only ${rejecter === 'B' ? 'A' : 'B'} with gso: ${rejecter} Configure-Rejects it, gso off both sides, IP still flows`, () => {
      const l = new Link(aOpts, bOpts);
      l.start(10_000);
      expect(l.trace).toContain(
        `${rejecter}: sent [LCP ConfRej id=0x1 <vendor 02:54:56 kind 1 gso 65535>]`,
      );
      for (const s of [l.a, l.b]) {
        expect(eventsOf(s, 'lcp-up').map((e) => e.gso)).toEqual([false]);
        expect(s.engine.gsoEnabled).toBe(false);
        expect(s.engine.stats().gso.enabled).toBe(false);
        expect(eventsOf(s, 'ipv4-up')).toHaveLength(1);
      }
      // The asking side's second request leaves it out.
      const asker = rejecter === 'B' ? 'A' : 'B';
      const reqs = l.trace.filter((t) => t.startsWith(`${asker}: sent [LCP ConfReq`));
      expect(reqs).toHaveLength(2);
      expect(reqs[1]).not.toContain('vendor');
      expect(l.a.engine.sendGso(gsoFrame(2000), l.now)).toBe(false);
      expect(l.a.engine.stats().gso.txDrops).toBe(1);
      const v4 = gsoFrame(40).subarray(10);
      expect(l.a.engine.sendIp(v4, l.now)).toBe(true);
      l.pump();
      expect(l.b.ip.map((p) => p.packet)).toEqual([v4]);
      expect(l.b.gso).toEqual([]);
    });
  }

  it('against a pppd-like peer that Configure-Rejects unknown options: comes up without GSO', () => {
    const peer = pppdPeer({
      magic: 0x4bdad897,
      addr: '10.64.0.1',
      ipv6Id: '70 4e dd cc e2 96 10 78',
      ccp: false,
    });
    const l = new PeerLink({ ipcp: { local: '10.64.0.2', peer: '10.64.0.1' }, gso: true }, peer);
    l.engine.open(0);
    l.runUntil(12_000);
    expect(peer.log).toContain('sent [LCP ConfRej id=0x1 <vendor 02:54:56 kind 1 gso 65535>]');
    expect(l.events('lcp-up').map((e) => e.gso)).toEqual([false]);
    expect(l.events('ipv4-up')).toHaveLength(1);
    expect(l.engine.sendGso(gsoFrame(2000), l.now)).toBe(false);
  });

  it('golden: our Configure-Request with the option, byte for byte', () => {
    const e = new PppEngine({ random32: () => 0x4bdad897, gso: true }, undefined, () => {});
    e.open(0);
    const frames: { protocol: number; info: Uint8Array }[] = [];
    new HdlcDeframer((protocol, info) => frames.push({ protocol, info: Uint8Array.from(info) }), {
      accm: 0,
    }).push(e.takeOutput()!);
    expect(frames).toHaveLength(1);
    expect(frames[0].protocol).toBe(Protocol.LCP);
    // ConfReq id 1, length 28: asyncmap 0, magic, pcomp, accomp, then
    // Vendor-Specific (type 0, length 8): OUI 02 54 56, kind 1, max IP packet 0xffff.
    expect(hexSpaced(frames[0].info)).toBe(
      '01 01 00 1c 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02 00 08 02 54 56 01 ff ff',
    );
  });

  it('without gso the Configure-Request is exactly what it was (pppd sees nothing new)', () => {
    const e = new PppEngine({ random32: () => 0x4bdad897 });
    const log: string[] = [];
    const f = new PppEngine({ random32: () => 0x4bdad897, log: (x) => log.push(x) });
    e.open(0);
    f.open(0);
    expect(e.takeOutput()).toEqual(f.takeOutput());
    expect(log).toEqual([
      'sent [LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x4bdad897> <pcomp> <accomp>]',
    ]);
  });

  it('gso needs an onGsoFrame handler and a boolean (local misuse throws)', () => {
    expect(() => new PppEngine({ random32: () => 1, gso: true })).toThrow(
      expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }),
    );
    expect(
      () => new PppEngine({ random32: () => 1, gso: 'yes' as unknown as boolean }, undefined),
    ).toThrow(expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }));
  });
});

describe('GSO frames: data', () => {
  it('carry a 60 KB frame each way byte-exact (IPv4 one way, IPv6 the other) and count it', () => {
    const l = new Link(GSO_A, GSO_B);
    l.start(10_000);
    const ab = gsoFrame(60_000, 4);
    const ba = gsoFrame(60_010, 6);
    expect(l.a.engine.sendGso(ab, l.now)).toBe(true);
    expect(l.b.engine.sendGso(ba, l.now)).toBe(true);
    l.pump();
    expect(l.b.gso.map((g) => g.version)).toEqual([4]);
    expect(l.a.gso.map((g) => g.version)).toEqual([6]);
    expectSame(l.b.gso[0].frame, ab);
    expectSame(l.a.gso[0].frame, ba);
    expect(l.a.ip).toEqual([]);
    expect(l.b.ip).toEqual([]);
    const sa = l.a.engine.stats();
    const sb = l.b.engine.stats();
    expect(sa.gso).toMatchObject({ txFrames: 1, rxFrames: 1, txDrops: 0, rxDrops: 0 });
    expect(sb.gso).toMatchObject({ txFrames: 1, rxFrames: 1, txDrops: 0, rxDrops: 0 });
    expect(sa.protocols.ipv4).toMatchObject({ txPackets: 1, txBytes: 60_000, rxPackets: 0 });
    expect(sa.protocols.ipv6).toMatchObject({ rxPackets: 1, rxBytes: 60_010, txPackets: 0 });
    expect(sb.protocols.ipv4).toMatchObject({ rxPackets: 1, rxBytes: 60_000 });
    expect(sb.protocols.ipv6).toMatchObject({ txPackets: 1, txBytes: 60_010 });
    expect(sa.framing.rx.tooLong + sb.framing.rx.tooLong).toBe(0);
  });

  for (const accm of [0, 0xffffffff]) {
    it(`the largest frame (${MAX_FRAME} octets) passes both ways, every octet value and all flags (ACCM 0x${accm.toString(16)})`, () => {
      const lcp = { accm };
      const l = new Link({ ...GSO_A, lcp }, { ...GSO_B, lcp });
      l.start(10_000);
      expect(l.a.engine.gsoEnabled).toBe(true);
      const mixed = gsoFrame(MAX_FRAME, 4);
      const flags = gsoFrame(MAX_FRAME, 6, 0x7e); // every octet escaped: the frame doubles
      for (const [from, to] of [
        [l.a, l.b],
        [l.b, l.a],
      ]) {
        expect(from.engine.sendGso(mixed, l.now)).toBe(true);
        expect(from.engine.sendGso(flags, l.now)).toBe(true);
        l.pump();
        expect(to.gso.map((g) => g.version)).toEqual([4, 6]);
        expectSame(to.gso[0].frame, mixed);
        expectSame(to.gso[1].frame, flags);
        to.gso.length = 0;
        // One octet more than the peer accepts is refused, not sent.
        expect(from.engine.sendGso(gsoFrame(MAX_FRAME + 1), l.now)).toBe(false);
        expect(from.engine.stats().framing.tx.drops).toBe(0);
      }
    });
  }

  it('the JavaScript framer (no wasm) and the wasm kernel frame the largest GSO frame alike, and it deframes', () => {
    const info = gsoFrame(MAX_FRAME);
    for (const opts of [
      { accm: 0, acfc: true, pfc: true },
      { accm: 0xffffffff },
      { accm: 0, extraEscapes: [0x45] },
    ]) {
      const outs = [new HdlcFramer(opts), framerWithoutWasm(opts)].map((f) => {
        expect(f.writeFrame(Protocol.GsoFrame, info, false)).toBe(true);
        return f.take()!;
      });
      expectSame(outs[1], outs[0]);
      const got: Uint8Array[] = [];
      const d = new HdlcDeframer(
        (p, i) => p === Protocol.GsoFrame && got.push(Uint8Array.from(i)),
        {
          accm: 0,
          maxInfo: MAX_FRAME,
        },
      );
      d.push(outs[1]);
      expect(got).toHaveLength(1);
      expectSame(got[0], info);
    }
  });

  it('sendGso refuses and counts: not up yet, NCP of the inner version closed, too short, not IP', () => {
    const l = new Link({ ...GSO_A, ipv6cp: false }, { ...GSO_B, ipv6cp: false });
    expect(l.a.engine.sendGso(gsoFrame(100), 0)).toBe(false); // LCP not up
    l.start(10_000);
    expect(l.a.engine.gsoEnabled).toBe(true);
    const e = l.a.engine;
    expect(e.sendGso(gsoFrame(100, 6), l.now)).toBe(false); // IPv6CP disabled
    expect(e.sendGso(gsoFrame(29), l.now)).toBe(false); // shorter than virtio + IPv4 header
    const v5 = gsoFrame(100);
    v5[10] = 0x55;
    expect(e.sendGso(v5, l.now)).toBe(false);
    expect(e.sendGso(gsoFrame(30), l.now)).toBe(true);
    const s = e.stats();
    expect(s.gso).toMatchObject({ txDrops: 4, txFrames: 1 });
    expect(s.protocols.ipv4.drops).toBe(1); // before LCP was up
    expect(s.protocols.ipv6.drops).toBe(1);
    expect(s.protocols.other.drops).toBe(2); // too short, version 5
  });

  it('a received GSO frame whose NCP is not open, or that is malformed, is dropped and counted (no Protocol-Reject)', () => {
    const l = new Link({ ...GSO_A, ipv6cp: false }, { ...GSO_B, ipv6cp: false });
    l.start(10_000);
    l.a.engine.receive(peerFrame(Protocol.GsoFrame, gsoFrame(100, 6)), l.now);
    l.a.engine.receive(peerFrame(Protocol.GsoFrame, gsoFrame(25)), l.now);
    expect(l.a.engine.takeOutput()).toBeNull();
    expect(l.a.gso).toEqual([]);
    const s = l.a.engine.stats();
    expect(s.gso.rxDrops).toBe(2);
    expect(s.protocols.ipv6.drops).toBe(1);
    expect(s.protocols.other.bad).toBe(1);
    expect(s.protocolRejectsSent).toBe(0);
  });
});

describe('GSO frames: when not agreed', () => {
  for (const [aOpts, label] of [
    [A, 'neither end enabled it'],
    [GSO_A, 'we enabled it but the peer did not'],
  ] as const) {
    it(`a GSO frame is Protocol-Rejected like any unknown protocol (${label})`, () => {
      const l = new Link(aOpts, B);
      l.start(10_000);
      const frame = gsoFrame(200);
      l.a.engine.receive(peerFrame(Protocol.GsoFrame, frame), l.now);
      expect(l.a.log).toContain("Unsupported protocol 'ts-vpn GSO frame' (0x2a21) received");
      expect(l.a.log.at(-1)).toMatch(/^sent \[LCP ProtRej id=0x\w+ 2a 21 00 07 0e 15 /);
      expect(l.a.gso).toEqual([]);
      expect(l.a.engine.stats().protocolRejectsSent).toBe(1);
      l.pump();
      expect(l.b.engine.stats().protocolRejectsReceived).toBe(1);
      expect(l.b.log).toContain("Protocol-Reject for 'ts-vpn GSO frame' (0x2a21) received");
      // The link stays up.
      expect(l.a.engine.stats().states.lcp).toBe('Opened');
    });
  }

  it('a Protocol-Reject of GSO frames from the peer stops us sending them', () => {
    const l = new Link(GSO_A, GSO_B);
    l.start(10_000);
    const data = Uint8Array.from([0x2a, 0x21, ...gsoFrame(40)]);
    const p = new ScriptedPeer(() => {});
    p.negotiated();
    p.send(Protocol.LCP, Code.ProtRej, 0x77, data);
    l.a.engine.receive(p.take()!, l.now);
    expect(l.a.engine.gsoEnabled).toBe(false);
    expect(l.a.engine.sendGso(gsoFrame(100), l.now)).toBe(false);
    expect(l.a.engine.stats().protocolRejectsReceived).toBe(1);
  });

  it('renegotiating without gso turns it off and re-tightens the receive limit', () => {
    const l = new Link(GSO_A, GSO_B);
    l.start(10_000);
    // While GSO is on the deframer takes 64 KB frames, but other protocols keep the MRU bound.
    const bigIp = gsoFrame(3000).subarray(10);
    l.a.engine.receive(peerFrame(Protocol.IPv4, bigIp), l.now);
    expect(l.a.ip).toEqual([]);
    expect(l.a.engine.stats().gso.rxOversize).toBe(1);
    // The peer restarts without gso.
    const fresh = makeSide({ ...B, seed: 77 }, 'B2', l.trace);
    (l as unknown as { b: typeof fresh }).b = fresh;
    fresh.engine.open(l.now);
    l.runUntil(l.now + 20_000);
    expect(eventsOf(l.a, 'lcp-up').map((e) => e.gso)).toEqual([true, false]);
    expect(eventsOf(l.a, 'down')).toEqual([{ type: 'down', reason: 'peer renegotiating' }]);
    expect(l.a.engine.gsoEnabled).toBe(false);
    expect(l.a.engine.stats().gso).toMatchObject({ enabled: false, peerMaxPacket: 0 });
    expect(eventsOf(l.a, 'ipv4-up')).toHaveLength(2);
    expect(l.a.engine.sendGso(gsoFrame(100), l.now)).toBe(false);
    // A 60 KB frame is now too long for the deframer itself.
    const before = l.a.engine.stats().framing.rx.tooLong;
    l.a.engine.receive(peerFrame(Protocol.GsoFrame, gsoFrame(60_000)), l.now);
    expect(l.a.engine.stats().framing.rx.tooLong).toBe(before + 1);
    expect(l.a.gso).toEqual([]);
  });

  it('an engine with the largest MRU (65535) can be built and brought up', () => {
    const lcp = { mru: 65535 };
    const l = new Link({ ...GSO_A, lcp }, { ...GSO_B, lcp });
    l.start(10_000);
    expect(eventsOf(l.a, 'lcp-up')[0]).toMatchObject({ mru: 65535, mtu: 65535, gso: true });
  });
});

describe('GSO frames: option codec details seen on the wire', () => {
  it('a peer Nak of our option (another value) makes us stop asking, like a Reject', () => {
    const peer = new ScriptedPeer((p, protocol, pkt) => {
      if (protocol !== Protocol.LCP || pkt === null || pkt.code !== Code.ConfReq) return;
      const vendor = fromHex('00 08 02 54 56 01');
      if (indexOf(pkt.data, vendor) >= 0) {
        p.send(Protocol.LCP, Code.ConfNak, pkt.id, Uint8Array.from([...vendor, ...u16Bytes(1500)]));
        return;
      }
      p.send(Protocol.LCP, Code.ConfAck, pkt.id, pkt.data);
      if (!p.ids.has(Protocol.LCP))
        p.send(Protocol.LCP, Code.ConfReq, p.nextId(Protocol.LCP), new Uint8Array(0));
    });
    const l = new PeerLink({ ...GSO_A, ipcp: false, ipv6cp: false }, peer);
    l.engine.open(0);
    l.runUntil(5_000);
    expect(l.us.log).toContain('rcvd [LCP ConfNak id=0x1 <vendor 02:54:56 kind 1 gso 1500>]');
    const reqs = l.us.log.filter((x) => x.startsWith('sent [LCP ConfReq'));
    expect(reqs[1]).not.toContain('vendor');
    expect(l.events('lcp-up').map((e) => e.gso)).toEqual([false]);
  });
});

/** Byte equality without vitest's slow deep diff of 64 KB arrays. */
function expectSame(got: Uint8Array, want: Uint8Array): void {
  expect(got.length).toBe(want.length);
  expect(bytesEqual(got, want)).toBe(true);
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
