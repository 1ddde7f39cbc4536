/**
 * The checks between a peer's GSO frames and our kernel (src/wire/vnet-hdr.ts), fed with
 * random bytes and with valid IPv4/IPv6 TCP (and UDP) frames that are then mutated (bit
 * flips, bytes and 16-bit fields set, truncation, extension):
 *
 * - validateVnetFrame never throws, and whenever it accepts a frame every promise of its
 *   doc comment holds, checked independently of it by the model the vnet-hdr fuzz target
 *   uses too (bench/fuzz/targets-vnet.ts checkAccepted: lengths, IP version, checksum field
 *   inside the packet, GSO only TCP with NEEDS_CSUM at the TCP checksum, gso_size floor);
 * - completeChecksum (checkComplete, same model) throws only its documented RangeError (no header, GSO frame, checksum
 *   outside the packet), leaves the frame untouched then, and otherwise changes only the
 *   flags and the checksum field, to a value that verifies;
 * - two engines with gso: true back to back: random bytes through sendGso and raw 0x2a21
 *   frames never throw, and the GSO counters account for every frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAccepted, checkComplete, foldedSum } from '../../bench/fuzz/targets-vnet.js';
import { GSO_MAX_PACKET, gsoInnerVersion } from '../../src/engine/gso.js';
import { PppEngine } from '../../src/engine/index.js';
import { HdlcFramer } from '../../src/hdlc/index.js';
import {
  completeChecksum,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VNET_HDR_LEN,
  VNET_MIN_GSO_SIZE,
  validateVnetFrame,
  writeVnetHdr,
} from '../../src/wire/vnet-hdr.js';
import { eventsOf, Link } from '../engine/support/link.js';

const GSO_PROTOCOL = 0x2a21;

// ---- an independent model ------------------------------------------------------------------------

/** First index where `a` and `b` differ, other than `skip`; -1 when none (lengths included). */
function firstDiff(a: Uint8Array, b: Uint8Array, skip: number[] = []): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !skip.includes(i)) return i;
  return -1;
}

/** Folded pseudo-header sum (RFC 793 / RFC 8200 §8.1) of the L4 segment of `p`. */
function pseudoSum(p: Uint8Array, proto: number, l4Len: number): number {
  const v6 = p[0] >> 4 === 6;
  return foldedSum(p, v6 ? 8 : 12, v6 ? 40 : 20, proto + (l4Len >>> 16) + (l4Len & 0xffff));
}

/** validateVnetFrame never throws; on acceptance the invariants hold. Returns its verdict. */
function checkFrame(f: Uint8Array): string | null {
  const verdict = validateVnetFrame(f);
  expect(verdict === null || (typeof verdict === 'string' && verdict.length > 0)).toBe(true);
  if (verdict === null) checkAccepted(f);
  checkComplete(f);
  return verdict;
}

// ---- valid frames and mutations ------------------------------------------------------------------

interface Spec {
  v: 4 | 6;
  /** IPv4 option words (IHL 5..15). */
  ipWords: number;
  udp: boolean;
  /** TCP option words (data offset 5..15). */
  tcpWords: number;
  payload: Uint8Array;
  gso: boolean;
  ecn: boolean;
  gsoSize: number;
  needsCsum: boolean;
  dataValid: boolean;
  hdrLen: 'headers' | 'zero' | 'packet';
  src: Uint8Array;
  dst: Uint8Array;
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    v: fc.constantFrom(4 as const, 6 as const),
    ipWords: fc.nat({ max: 10 }),
    udp: fc.boolean(),
    tcpWords: fc.nat({ max: 10 }),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 3000, max: 65535 - 120 }).map((n) => new Uint8Array(n).fill(0x5a)),
    ),
    gso: fc.boolean(),
    ecn: fc.boolean(),
    gsoSize: fc.oneof(fc.integer({ min: VNET_MIN_GSO_SIZE, max: 65535 }), fc.constant(1448)),
    needsCsum: fc.boolean(),
    dataValid: fc.boolean(),
    hdrLen: fc.constantFrom('headers' as const, 'zero' as const, 'packet' as const),
    src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  })
  // GSO frames are TCP with a partial checksum; UDP only without GSO.
  .map((s) => (s.gso ? { ...s, udp: false, needsCsum: true } : s));

/** A frame validateVnetFrame must accept, built from `s` (checksum field: pseudo-header sum). */
function buildFrame(s: Spec): Uint8Array {
  const ipHl = s.v === 4 ? 20 + 4 * s.ipWords : 40;
  const l4Hl = s.udp ? 8 : 20 + 4 * s.tcpWords;
  const len = Math.min(ipHl + l4Hl + s.payload.length, s.v === 4 ? 65535 : 40 + 65535);
  const f = new Uint8Array(VNET_HDR_LEN + len);
  const p = f.subarray(VNET_HDR_LEN);
  const proto = s.udp ? 17 : 6;
  if (s.v === 4) {
    p[0] = 0x40 | (ipHl / 4);
    p[2] = len >> 8;
    p[3] = len & 255;
    p[8] = 64;
    p[9] = proto;
    p.set(s.src.subarray(0, 4), 12);
    p.set(s.dst.subarray(0, 4), 16);
    for (let i = 20; i < ipHl; i++) p[i] = 1; // NOP options
    const c = ~foldedSum(p, 0, 20) & 0xffff;
    p[10] = c >> 8;
    p[11] = c & 255;
  } else {
    p[0] = 0x60;
    p[4] = (len - 40) >> 8;
    p[5] = (len - 40) & 255;
    p[6] = proto;
    p[7] = 64;
    p.set(s.src, 8);
    p.set(s.dst, 24);
  }
  const l4 = p.subarray(ipHl);
  l4.set([0x9c, 0x40, 0x14, 0x51]);
  if (s.udp) {
    l4[4] = l4.length >> 8;
    l4[5] = l4.length & 255;
  } else {
    l4[12] = (l4Hl / 4) << 4;
    l4[13] = 0x18;
  }
  l4.set(s.payload.subarray(0, len - ipHl - l4Hl), l4Hl);
  const csumOffset = s.udp ? 6 : 16;
  if (s.needsCsum) {
    const ps = pseudoSum(p, proto, l4.length);
    l4[csumOffset] = ps >> 8;
    l4[csumOffset + 1] = ps & 255;
  }
  writeVnetHdr(f, {
    flags:
      (s.needsCsum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0) |
      (s.dataValid ? VIRTIO_NET_HDR_F_DATA_VALID : 0),
    gsoType: s.gso
      ? (s.v === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
        (s.ecn ? VIRTIO_NET_HDR_GSO_ECN : 0)
      : VIRTIO_NET_HDR_GSO_NONE,
    hdrLen: s.hdrLen === 'zero' ? 0 : s.hdrLen === 'packet' ? len : ipHl + l4Hl,
    gsoSize: s.gso ? s.gsoSize : 0,
    csumStart: s.needsCsum ? ipHl : 0,
    csumOffset: s.needsCsum ? csumOffset : 0,
  });
  return f;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'u16'; at: number; value: number; le: boolean }
  | { kind: 'edge'; field: number; delta: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; tail: Uint8Array };

/** Positions biased to the headers (virtio 0-9, IP and TCP up to ~130), sometimes anywhere. */
const position = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 80 }) },
  { weight: 1, arbitrary: fc.nat({ max: 140 }) },
  { weight: 1, arbitrary: fc.nat() },
);

const interesting16 = fc.oneof(
  fc.constantFrom(0, 1, 2, 9, 10, 16, 19, 20, 39, 40, 60, 63, 64, 0x7fff, 0xfffe, 0xffff),
  fc.nat({ max: 0xffff }),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({
    kind: fc.constant('byte' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(0, 1, 4, 6, 0x45, 0x60, 0x80, 0x81, 0x84, 0xff), fc.nat(255)),
  }),
  fc.record({
    kind: fc.constant('u16' as const),
    at: position,
    value: interesting16,
    le: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('edge' as const),
    field: fc.nat({ max: 4 }),
    delta: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({
    kind: fc.constant('extend' as const),
    tail: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
);

function mutate(frame: Uint8Array, muts: Mutation[]): Uint8Array {
  let f = Uint8Array.from(frame);
  for (const m of muts) {
    const n = f.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) f[m.at % n] ^= 1 << m.bit;
        break;
      case 'byte':
        if (n > 0) f[m.at % n] = m.value;
        break;
      case 'u16':
        if (n >= 2) {
          const at = m.at % (n - 1);
          f[at] = m.le ? m.value & 255 : m.value >> 8;
          f[at + 1] = m.le ? m.value >> 8 : m.value & 255;
        }
        break;
      case 'edge': {
        // A length or offset field set just around the packet's end (off-by-one hunting).
        if (n < VNET_HDR_LEN + 6) break;
        const len = n - VNET_HDR_LEN;
        const le = (at: number, v: number) => {
          const x = Math.max(0, Math.min(0xffff, v));
          f[at] = x & 255;
          f[at + 1] = x >> 8;
        };
        const be = (at: number, v: number) => {
          const x = Math.max(0, Math.min(0xffff, v));
          f[at] = x >> 8;
          f[at + 1] = x & 255;
        };
        const csumStart = f[6] | (f[7] << 8);
        const csumOffset = f[8] | (f[9] << 8);
        if (m.field === 0) le(2, len + m.delta);
        else if (m.field === 1) le(6, len - csumOffset - 2 + m.delta);
        else if (m.field === 2) le(8, len - csumStart - 2 + m.delta);
        else if (m.field === 3) be(VNET_HDR_LEN + 2, len + m.delta);
        else be(VNET_HDR_LEN + 4, len - 40 + m.delta);
        break;
      }
      case 'truncate':
        f = f.slice(0, m.keep % (n + 1));
        break;
      case 'extend': {
        const g = new Uint8Array(n + m.tail.length);
        g.set(f);
        g.set(m.tail, n);
        f = g;
        break;
      }
    }
  }
  return f;
}

// ---- properties --------------------------------------------------------------------------------

describe('validateVnetFrame / completeChecksum: random and mutated frames', () => {
  it('valid IPv4/IPv6 TCP (GSO or not) and UDP frames are accepted; a completed checksum verifies', () => {
    fc.assert(
      fc.property(specArb, (s) => {
        const f = buildFrame(s);
        expect(checkFrame(f)).toBeNull();
        if (!s.gso && s.needsCsum) {
          // The completed L4 checksum verifies with the pseudo-header (RFC 1071).
          const g = Uint8Array.from(f);
          expect(completeChecksum(g)).toBe(true);
          const p = g.subarray(VNET_HDR_LEN);
          const ipHl = s.v === 4 ? (p[0] & 15) * 4 : 40;
          const l4 = p.length - ipHl;
          expect(foldedSum(p, ipHl, p.length, pseudoSum(p, s.udp ? 17 : 6, l4))).toBe(0xffff);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes (fully random, or a random header in front of a random packet) never throw', () => {
    const headerish = fc
      .tuple(
        fc.constantFrom(0, 1, 2, 3, 0x80, 0xff),
        fc.constantFrom(0, 1, 3, 4, 5, 0x80, 0x81, 0x84, 0xff),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.constantFrom(0x45, 0x46, 0x4f, 0x60, 0x44, 0x00, 0x50, 0x70),
        fc.uint8Array({ maxLength: 200 }),
      )
      .map(([flags, type, rest, first, tail]) =>
        Uint8Array.from([flags, type, ...rest, first, ...tail]),
      );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), headerish), (f) => {
        checkFrame(f);
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated valid frames never throw; whatever is accepted keeps every promise', () => {
    let accepted = 0;
    let total = 0;
    fc.assert(
      fc.property(specArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (s, muts) => {
        total++;
        if (checkFrame(mutate(buildFrame(s), muts)) === null) accepted++;
      }),
      { numRuns: 10_000 },
    );
    // Both outcomes are exercised (mutations of payload bytes keep a frame valid).
    expect(accepted).toBeGreaterThan(total / 20);
    expect(accepted).toBeLessThan(total);
  });

  it('a frame with NEEDS_CSUM at any csum_start/csum_offset: completeChecksum keeps its contract', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat({ max: 400 }),
        fc.nat({ max: 400 }),
        fc.constantFrom(0, 1, 4, 0x80),
        fc.constantFrom(0, 1, 2, 3),
        (packet, start, offset, gsoType, flags) => {
          const f = new Uint8Array(VNET_HDR_LEN + packet.length);
          writeVnetHdr(f, { flags, gsoType, csumStart: start, csumOffset: offset });
          f.set(packet, VNET_HDR_LEN);
          checkComplete(f);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

// ---- engine level --------------------------------------------------------------------------------

const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, gso: true };
const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' }, gso: true };

function upLink(): Link {
  const l = new Link(A, B);
  l.start(10_000);
  for (const s of [l.a, l.b]) {
    expect(s.engine.gsoEnabled).toBe(true);
    expect(eventsOf(s, 'ipv4-up')).toHaveLength(1);
    expect(eventsOf(s, 'ipv6-up')).toHaveLength(1);
  }
  return l;
}

/** Random GSO frame contents: small random, mutated valid, or large with a given first octet. */
const gsoBytes = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc
    .tuple(specArb, fc.array(mutationArb, { maxLength: 3 }))
    .map(([s, m]) => mutate(buildFrame(s), m)),
  fc
    .tuple(
      fc.integer({ min: 0, max: VNET_HDR_LEN + GSO_MAX_PACKET + 8 }),
      fc.constantFrom(0x45, 0x60, 0x50, 0x00),
    )
    .map(([n, first]) => {
      const f = new Uint8Array(n).fill(0x7e); // every octet escaped on the wire
      if (n > VNET_HDR_LEN) f[VNET_HDR_LEN] = first;
      return f;
    }),
);

describe('two engines with gso: true: random GSO frames', () => {
  it('sendGso: never throws; exactly the frames with an IP version and ≤ 65535 octets are sent, and arrive unchanged', () => {
    fc.assert(
      fc.property(fc.array(gsoBytes, { minLength: 1, maxLength: 8 }), (frames) => {
        const l = upLink();
        const before = structuredClone(l.a.engine.stats()); // stats() shares live counters
        const sent: Uint8Array[] = [];
        let refused = 0;
        for (const f of frames) {
          const ok = l.a.engine.sendGso(f, l.now);
          const want = gsoInnerVersion(f) !== 0 && f.length - VNET_HDR_LEN <= GSO_MAX_PACKET;
          expect(ok).toBe(want);
          if (ok) sent.push(f);
          else refused++;
          l.pump();
        }
        expect(l.b.gso.length).toBe(sent.length);
        for (const [i, g] of l.b.gso.entries()) expect(firstDiff(g.frame, sent[i])).toBe(-1);
        expect(l.b.gso.map((g) => g.version)).toEqual(sent.map((f) => gsoInnerVersion(f)));
        for (const g of l.b.gso) validateVnetFrame(g.frame); // what the runtime does next
        const sa = l.a.engine.stats();
        const sb = l.b.engine.stats();
        expect(sa.gso.txFrames).toBe(sent.length);
        expect(sa.gso.txDrops).toBe(refused);
        expect(sb.gso).toMatchObject({ rxFrames: sent.length, rxDrops: 0, rxOversize: 0 });
        const v4 = sent.filter((f) => gsoInnerVersion(f) === 4);
        expect(sb.protocols.ipv4.rxPackets).toBe(v4.length);
        expect(sb.protocols.ipv6.rxPackets).toBe(sent.length - v4.length);
        expect(sa.protocols.ipv4.txPackets - before.protocols.ipv4.txPackets).toBe(v4.length);
        expect(sb.framing.rx).toMatchObject({ badFcs: 0, tooLong: 0, badHeader: 0 });
        expect(sb.protocolRejectsSent).toBe(0);
        expect(l.b.ip).toEqual([]);
        expect(sb.states).toMatchObject({ lcp: 'Opened', ipcp: 'Opened', ipv6cp: 'Opened' });
      }),
      { numRuns: 120 },
    );
  });

  it('raw 0x2a21 frames of any content and size: never throw; each is delivered, dropped or too long, and counted once', () => {
    fc.assert(
      fc.property(fc.array(gsoBytes, { minLength: 1, maxLength: 8 }), (frames) => {
        const l = upLink();
        const e = l.b.engine;
        const framer = new HdlcFramer({ maxPending: 1 << 20 });
        const before = structuredClone(e.stats()); // stats() shares live counters
        let delivered = 0;
        let dropped = 0;
        let tooLong = 0;
        let oversize = 0;
        for (const f of frames) {
          expect(framer.writeFrame(GSO_PROTOCOL, f, false)).toBe(true);
          e.receive(framer.take()!, l.now);
          // The deframer takes the virtio header, a 65535-octet packet and 4 octets of slack;
          // the engine then holds the frame to the agreed 10 + 65535.
          if (f.length > VNET_HDR_LEN + GSO_MAX_PACKET + 4) tooLong++;
          else if (f.length > VNET_HDR_LEN + GSO_MAX_PACKET) oversize++;
          else if (gsoInnerVersion(f) === 0) dropped++;
          else delivered++;
        }
        l.pump();
        const want = frames.filter(
          (f) => f.length <= VNET_HDR_LEN + GSO_MAX_PACKET && gsoInnerVersion(f) !== 0,
        );
        expect(l.b.gso.length).toBe(want.length);
        for (const [i, g] of l.b.gso.entries()) expect(firstDiff(g.frame, want[i])).toBe(-1);
        const s = e.stats();
        expect(s.gso.rxFrames - before.gso.rxFrames).toBe(delivered);
        expect(s.gso.rxDrops - before.gso.rxDrops).toBe(dropped);
        expect(s.protocols.other.bad - before.protocols.other.bad).toBe(dropped);
        expect(s.framing.rx.tooLong - before.framing.rx.tooLong).toBe(tooLong);
        expect(s.gso.rxOversize - before.gso.rxOversize).toBe(oversize);
        expect(s.protocolRejectsSent).toBe(0);
        expect(s.states).toMatchObject({ lcp: 'Opened', ipcp: 'Opened', ipv6cp: 'Opened' });
      }),
      { numRuns: 120 },
    );
  });

  it('an engine without an onGsoFrame handler cannot be built with gso: true (no silent sink)', () => {
    expect(() => new PppEngine({ random32: () => 1, gso: true })).toThrow(/onGsoFrame/);
  });
});
