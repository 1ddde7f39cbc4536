/** virtio_net_hdr helpers (src/wire/vnet-hdr.ts) on hand-built IPv4/IPv6 TCP and UDP frames. */
import { describe, expect, it } from 'vitest';
import {
  completeChecksum,
  isGsoFrame,
  readVnetHdr,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VNET_HDR_LEN,
  type VnetHdr,
  validateVnetFrame,
  writeVnetHdr,
} from '../../src/wire/vnet-hdr.js';
import { inetChecksum } from '../tun/packets.js';

const SRC4 = [10, 99, 0, 1];
const DST4 = [10, 99, 0, 2];
const SRC6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

function payloadOf(n: number, seed = 1): Uint8Array {
  const p = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  return p;
}

/** Pseudo-header bytes (RFC 793 / RFC 8200 §8.1) for an L4 segment of `len` bytes. */
function pseudo(v: 4 | 6, proto: number, len: number): Uint8Array {
  if (v === 4) return new Uint8Array([...SRC4, ...DST4, 0, proto, len >> 8, len & 255]);
  return new Uint8Array([...SRC6, ...DST6, 0, 0, len >> 8, len & 255, 0, 0, 0, proto]);
}

/** Independent check: the checksum over pseudo-header + segment of a correct packet is 0. */
function l4ChecksumOk(v: 4 | 6, proto: number, packet: Uint8Array): boolean {
  const hl = v === 4 ? (packet[0] & 15) * 4 : 40;
  const seg = packet.subarray(hl);
  const all = new Uint8Array(pseudo(v, proto, seg.length).length + seg.length);
  const ph = pseudo(v, proto, seg.length);
  all.set(ph, 0);
  all.set(seg, ph.length);
  return inetChecksum(all) === 0;
}

/** Folded (not complemented) ones'-complement sum of the pseudo-header: what a sender with
 * checksum offload leaves in the checksum field (NEEDS_CSUM). */
function pseudoPartial(v: 4 | 6, proto: number, len: number): number {
  return ~inetChecksum(pseudo(v, proto, len)) & 0xffff;
}

interface Built {
  frame: Uint8Array;
  packet: Uint8Array;
  l4: number;
}

/** header + IP + TCP (20-byte header) + payload, TCP checksum partial (pseudo-header sum only). */
function tcpFrame(v: 4 | 6, payloadLen: number, hdr: Partial<VnetHdr> = {}, seed = 1): Built {
  const ipHl = v === 4 ? 20 : 40;
  const len = ipHl + 20 + payloadLen;
  const frame = new Uint8Array(VNET_HDR_LEN + len);
  const p = frame.subarray(VNET_HDR_LEN);
  if (v === 4) {
    p.set([0x45, 0, len >> 8, len & 255, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, ...SRC4, ...DST4]);
    const c = inetChecksum(p.subarray(0, 20));
    p[10] = c >> 8;
    p[11] = c & 255;
  } else {
    const pl = len - 40;
    p.set([0x60, 0, 0, 0, pl >> 8, pl & 255, 6, 64, ...SRC6, ...DST6]);
  }
  // TCP: ports 40000 → 5201, seq, ack, data offset 5, flags ACK|PSH, window
  p.set([0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x18, 0xff, 0xff], ipHl);
  p.set(payloadOf(payloadLen, seed), ipHl + 20);
  const ps = pseudoPartial(v, 6, 20 + payloadLen);
  p[ipHl + 16] = ps >> 8;
  p[ipHl + 17] = ps & 255;
  writeVnetHdr(frame, {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    csumStart: ipHl,
    csumOffset: 16,
    hdrLen: ipHl + 20,
    ...hdr,
  });
  return { frame, packet: p, l4: ipHl };
}

/** header + IPv4 + UDP + payload, UDP checksum partial. */
function udp4Frame(payload: Uint8Array): Built {
  const len = 28 + payload.length;
  const frame = new Uint8Array(VNET_HDR_LEN + len);
  const p = frame.subarray(VNET_HDR_LEN);
  p.set([0x45, 0, len >> 8, len & 255, 0, 0, 0x40, 0, 64, 17, 0, 0, ...SRC4, ...DST4]);
  const c = inetChecksum(p.subarray(0, 20));
  p[10] = c >> 8;
  p[11] = c & 255;
  const ul = len - 20;
  p.set([0x30, 0x39, 0, 9, ul >> 8, ul & 255], 20);
  p.set(payload, 28);
  const ps = pseudoPartial(4, 17, ul);
  p[26] = ps >> 8;
  p[27] = ps & 255;
  writeVnetHdr(frame, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 20, csumOffset: 6 });
  return { frame, packet: p, l4: 20 };
}

describe('readVnetHdr / writeVnetHdr', () => {
  it('round-trips every field, little-endian', () => {
    const b = new Uint8Array(VNET_HDR_LEN);
    const h: VnetHdr = {
      flags: 1,
      gsoType: 0x81,
      hdrLen: 0x0102,
      gsoSize: 0x05b4,
      csumStart: 0x0014,
      csumOffset: 0x0010,
    };
    writeVnetHdr(b, h);
    expect([...b]).toEqual([1, 0x81, 0x02, 0x01, 0xb4, 0x05, 0x14, 0, 0x10, 0]);
    expect(readVnetHdr(b)).toEqual(h);
    expect(isGsoFrame(b)).toBe(true);
    expect(() => readVnetHdr(new Uint8Array(9))).toThrow(RangeError);
  });
});

describe('completeChecksum', () => {
  for (const v of [4, 6] as const)
    for (const n of [0, 1, 2, 999, 1400])
      it(`IPv${v} TCP, ${n}-byte payload: completes the partial checksum`, () => {
        const { frame, packet } = tcpFrame(v, n, {}, n + v);
        expect(l4ChecksumOk(v, 6, packet)).toBe(false);
        expect(completeChecksum(frame)).toBe(true);
        expect(l4ChecksumOk(v, 6, packet)).toBe(true);
        expect(frame[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(0);
        expect(validateVnetFrame(frame)).toBeNull();
        // Idempotent: no partial checksum left.
        const before = Buffer.from(frame).toString('hex');
        expect(completeChecksum(frame)).toBe(false);
        expect(Buffer.from(frame).toString('hex')).toBe(before);
      });

  it('keeps other flags and the IPv4 header checksum', () => {
    const { frame, packet } = tcpFrame(4, 100, {
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID,
    });
    completeChecksum(frame);
    expect(frame[0]).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
    expect(inetChecksum(packet.subarray(0, 20))).toBe(0);
  });

  it('IPv4 UDP: a computed checksum of 0 is sent as 0xffff', () => {
    const payload = payloadOf(64, 7);
    // Choose the first payload word so that the final checksum comes out 0.
    const probe = udp4Frame(payload);
    completeChecksum(probe.frame);
    const c = (probe.packet[26] << 8) | probe.packet[27];
    let w = ((payload[0] << 8) | payload[1]) + c;
    w = (w & 0xffff) + (w >>> 16);
    payload[0] = w >> 8;
    payload[1] = w & 255;
    const { frame, packet } = udp4Frame(payload);
    completeChecksum(frame);
    expect((packet[26] << 8) | packet[27]).toBe(0xffff);
    expect(l4ChecksumOk(4, 17, packet)).toBe(true);
  });

  it('refuses GSO frames and checksums beyond the packet', () => {
    const gso = tcpFrame(4, 3000, { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1400 });
    expect(() => completeChecksum(gso.frame)).toThrow(/GSO/);
    const bad = tcpFrame(4, 10, { csumStart: 40, csumOffset: 16 });
    expect(() => completeChecksum(bad.frame)).toThrow(/beyond/);
  });
});

describe('validateVnetFrame', () => {
  const gso4 = (h: Partial<VnetHdr> = {}) =>
    tcpFrame(4, 8000, { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1400, ...h }).frame;
  const gso6 = (h: Partial<VnetHdr> = {}) =>
    tcpFrame(6, 8000, { gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1380, ...h }).frame;

  it('accepts what the kernel produces', () => {
    expect(validateVnetFrame(tcpFrame(4, 100).frame)).toBeNull();
    expect(validateVnetFrame(tcpFrame(6, 100).frame)).toBeNull();
    expect(validateVnetFrame(gso4())).toBeNull();
    expect(validateVnetFrame(gso6())).toBeNull();
    expect(
      validateVnetFrame(gso4({ gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN })),
    ).toBeNull();
    // A plain packet behind an all-zero header, and a DATA_VALID one.
    const plain = tcpFrame(4, 10, { flags: 0, csumStart: 0, csumOffset: 0, hdrLen: 0 });
    expect(validateVnetFrame(plain.frame)).toBeNull();
    expect(
      validateVnetFrame(tcpFrame(6, 10, { flags: VIRTIO_NET_HDR_F_DATA_VALID }).frame),
    ).toBeNull();
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['short frame', () => new Uint8Array(5), /no virtio_net_hdr/],
    ['empty packet', () => new Uint8Array(VNET_HDR_LEN), /empty/],
    ['unknown flag', () => tcpFrame(4, 10, { flags: 4 }).frame, /flags/],
    ['gso UDP', () => tcpFrame(4, 10, { gsoType: 3, gsoSize: 1000 }).frame, /gso_type/],
    ['gso UDP_L4', () => tcpFrame(4, 10, { gsoType: 5, gsoSize: 1000 }).frame, /gso_type/],
    ['ECN alone', () => tcpFrame(4, 10, { gsoType: VIRTIO_NET_HDR_GSO_ECN }).frame, /ECN/],
    ['TCPV6 on IPv4', () => gso4({ gsoType: VIRTIO_NET_HDR_GSO_TCPV6 }), /TCPV6 on an IPv4/],
    ['TCPV4 on IPv6', () => gso6({ gsoType: VIRTIO_NET_HDR_GSO_TCPV4 }), /TCPV4 on an IPv6/],
    ['gso_size 0', () => gso4({ gsoSize: 0 }), /gso_size 0/],
    ['tiny gso_size', () => gso6({ gsoSize: 8 }), /gso_size 8/],
    ['GSO without NEEDS_CSUM', () => gso4({ flags: 0 }), /NEEDS_CSUM/],
    ['GSO csum elsewhere', () => gso4({ csumOffset: 6 }), /not the TCP checksum/],
    [
      'GSO of UDP',
      () => {
        const f = gso4();
        f[VNET_HDR_LEN + 9] = 17;
        return f;
      },
      /protocol 17/,
    ],
    [
      'checksum past the end',
      () => tcpFrame(4, 0, { csumStart: 40, csumOffset: 0 }).frame,
      /beyond/,
    ],
    [
      'csum_start in IP header',
      () => tcpFrame(6, 10, { csumStart: 20 }).frame,
      /inside the IP header/,
    ],
    ['hdr_len too big', () => tcpFrame(4, 10, { hdrLen: 1000 }).frame, /hdr_len/],
    [
      'IPv4 too short',
      () => {
        const f = new Uint8Array(VNET_HDR_LEN + 19);
        f[VNET_HDR_LEN] = 0x45;
        return f;
      },
      /shorter than its header/,
    ],
    [
      'IPv6 too short',
      () => {
        const f = new Uint8Array(VNET_HDR_LEN + 39);
        f[VNET_HDR_LEN] = 0x60;
        return f;
      },
      /shorter than its header/,
    ],
    [
      'IPv4 total length ≠ packet',
      () => {
        const { frame } = tcpFrame(4, 100);
        return frame.subarray(0, frame.length - 1);
      },
      /total length 140 ≠ packet length 139/,
    ],
    [
      'IPv4 frame with trailing bytes',
      () => {
        const { frame } = tcpFrame(4, 100);
        const f = new Uint8Array(frame.length + 3);
        f.set(frame);
        return f;
      },
      /total length 140 ≠ packet length 143/,
    ],
    [
      'IPv6 payload length ≠ packet',
      () => {
        const { frame } = tcpFrame(6, 100);
        frame[VNET_HDR_LEN + 5]++;
        return frame;
      },
      /IPv6 length/,
    ],
    [
      'bad IHL',
      () => {
        const { frame } = tcpFrame(4, 100);
        frame[VNET_HDR_LEN] = 0x44;
        return frame;
      },
      /header length 16/,
    ],
    [
      'IP version 5',
      () => {
        const { frame } = tcpFrame(4, 100);
        frame[VNET_HDR_LEN] = 0x55;
        return frame;
      },
      /IP version 5/,
    ],
  ];
  for (const [name, make, why] of cases)
    it(`rejects: ${name}`, () => {
      const r = validateVnetFrame(make());
      expect(r).not.toBeNull();
      expect(r).toMatch(why);
    });

  it('a GSO_NONE frame needs no gso_size', () => {
    expect(readVnetHdr(tcpFrame(4, 10).frame).gsoType).toBe(VIRTIO_NET_HDR_GSO_NONE);
    expect(isGsoFrame(tcpFrame(4, 10).frame)).toBe(false);
  });
});
