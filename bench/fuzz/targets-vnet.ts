/**
 * Fuzz target for the checks between a peer's GSO frames and our kernel
 * (src/wire/vnet-hdr.ts): validateVnetFrame and completeChecksum on valid
 * IPv4/IPv6 TCP (GSO or not) and UDP frames, mutated (byte mutations, splices
 * of two frames, header fields set around the packet's end) or not, and on
 * random bytes. Invariants checked on every input (an InvariantError is a bug):
 *
 * - validateVnetFrame returns null or a non-empty reason, and every frame it
 *   accepts keeps the promises of its doc comment (recomputed here from the
 *   bytes): known flags and GSO types, a complete IP header whose length field
 *   matches the frame, the checksum field inside the packet after the IP header,
 *   GSO only for TCP of the matching IP version with NEEDS_CSUM at the TCP
 *   checksum and gso_size ≥ 64; the engine's gsoInnerVersion agrees on the version;
 * - completeChecksum throws only its documented RangeError (no header, GSO
 *   frame, checksum outside the packet) and leaves the frame untouched then; it
 *   returns false (untouched) without NEEDS_CSUM; otherwise it changes only the
 *   flags and the checksum field, and for an aligned field the result verifies.
 */
import { gsoInnerVersion } from '../../src/engine/gso.js';
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
import { mutate } from './mutate.js';
import type { Rng } from './rng.js';
import { type FuzzInput, type FuzzRunner, type FuzzTarget, InvariantError } from './types.js';

function fail(msg: string): never {
  throw new InvariantError(msg);
}

/** Ones'-complement sum of big-endian words of `b[from, to)`, folded to 16 bits. */
export function foldedSum(b: Uint8Array, from: number, to: number, initial = 0): number {
  let s = initial;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < to) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** A valid frame: IPv4 (with options) or IPv6, TCP (with options) or UDP, GSO or not. */
function validFrame(rng: Rng): Uint8Array {
  const v6 = rng.chance(0.4);
  const gso = rng.chance(0.5);
  const udp = !gso && rng.chance(0.3);
  const needsCsum = gso || rng.chance(0.6);
  const ipHl = v6 ? 40 : 20 + 4 * (rng.chance(0.8) ? 0 : rng.range(1, 10));
  const l4Hl = udp ? 8 : 20 + 4 * (rng.chance(0.6) ? 0 : rng.range(1, 10));
  const payload = rng.chance(0.02)
    ? rng.range(20_000, 65535 - 120)
    : rng.chance(0.5)
      ? rng.len(64)
      : rng.len(1500);
  const len = ipHl + l4Hl + payload;
  const f = new Uint8Array(VNET_HDR_LEN + len);
  const p = f.subarray(VNET_HDR_LEN);
  const proto = udp ? 17 : 6;
  if (v6) {
    p[0] = 0x60;
    p[4] = (len - 40) >> 8;
    p[5] = (len - 40) & 255;
    p[6] = proto;
    p[7] = 64;
    p.set(rng.bytes(32), 8);
  } else {
    p[0] = 0x40 | (ipHl / 4);
    p[2] = len >> 8;
    p[3] = len & 255;
    p[8] = 64;
    p[9] = proto;
    p.set(rng.bytes(8), 12);
    p.fill(1, 20, ipHl);
  }
  const l4 = p.subarray(ipHl);
  l4.set(rng.bytes(4));
  if (!udp) {
    l4[12] = (l4Hl / 4) << 4;
    l4[13] = 0x18;
  }
  if (payload <= 1500) l4.set(rng.bytes(payload), l4Hl);
  else l4.fill(rng.u32() & 255, l4Hl);
  const csumOffset = udp ? 6 : 16;
  const gsoType = gso
    ? (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) |
      (rng.chance(0.2) ? VIRTIO_NET_HDR_GSO_ECN : 0)
    : VIRTIO_NET_HDR_GSO_NONE;
  writeVnetHdr(f, {
    flags:
      (needsCsum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0) |
      (rng.chance(0.2) ? VIRTIO_NET_HDR_F_DATA_VALID : 0),
    gsoType,
    hdrLen: rng.pick([0, ipHl + l4Hl, len]),
    gsoSize: gso ? rng.pick([VNET_MIN_GSO_SIZE, 536, 1448, 65535, rng.range(64, 65535)]) : 0,
    csumStart: needsCsum ? ipHl : 0,
    csumOffset: needsCsum ? csumOffset : 0,
  });
  if (validateVnetFrame(f) !== null)
    fail(`generator built an invalid frame: ${validateVnetFrame(f)}`);
  return f;
}

/** Sets a length/offset field just around the packet's end (off-by-one hunting). */
function edge(rng: Rng, src: Uint8Array): Uint8Array {
  const f = Uint8Array.from(src);
  if (f.length < VNET_HDR_LEN + 6) return f;
  const len = f.length - VNET_HDR_LEN;
  const d = rng.range(-3, 3);
  const clamp = (v: number) => Math.max(0, Math.min(0xffff, v));
  const le = (at: number, v: number) => {
    f[at] = clamp(v) & 255;
    f[at + 1] = clamp(v) >> 8;
  };
  const be = (at: number, v: number) => {
    f[at] = clamp(v) >> 8;
    f[at + 1] = clamp(v) & 255;
  };
  const csumStart = f[6] | (f[7] << 8);
  const csumOffset = f[8] | (f[9] << 8);
  switch (rng.int(7)) {
    case 0:
      le(2, len + d);
      break;
    case 1:
      le(6, len - csumOffset - 2 + d);
      break;
    case 2:
      le(8, len - csumStart - 2 + d);
      break;
    case 3:
      be(VNET_HDR_LEN + 2, len + d);
      break;
    case 4:
      be(VNET_HDR_LEN + 4, len - 40 + d);
      break;
    case 5:
      le(4, rng.pick([0, 1, VNET_MIN_GSO_SIZE - 1, VNET_MIN_GSO_SIZE, 0xffff]));
      break;
    default:
      f[rng.int(2)] = rng.pick([0, 1, 2, 3, 4, 5, 0x80, 0x81, 0x84, 0x85, 0xff]);
  }
  return f;
}

/**
 * Throws an InvariantError unless an accepted frame keeps validateVnetFrame's promises,
 * derived from the frame's bytes alone (also the model test/fuzz/vnet-hdr.test.ts checks).
 */
export function checkAccepted(f: Uint8Array): void {
  if (f.length < VNET_HDR_LEN) fail('accepted a frame without a header');
  const flags = f[0];
  const gsoType = f[1];
  const hdrLen = f[2] | (f[3] << 8);
  const gsoSize = f[4] | (f[5] << 8);
  const csumStart = f[6] | (f[7] << 8);
  const csumOffset = f[8] | (f[9] << 8);
  const p = f.subarray(VNET_HDR_LEN);
  const len = p.length;
  if (flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
    fail(`accepted flags 0x${flags.toString(16)}`);
  if (![0, 1, 4, 0x81, 0x84].includes(gsoType)) fail(`accepted gso_type 0x${gsoType.toString(16)}`);
  if (len < 20) fail(`accepted a ${len}-octet packet`);
  const version = p[0] >> 4;
  let ipHdrLen: number;
  let proto: number;
  if (version === 4) {
    ipHdrLen = (p[0] & 15) * 4;
    if (ipHdrLen < 20 || ipHdrLen > len) fail(`accepted IPv4 header length ${ipHdrLen}`);
    if (((p[2] << 8) | p[3]) !== len) fail('accepted an IPv4 total length ≠ packet length');
    proto = p[9];
  } else if (version === 6) {
    if (len < 40) fail(`accepted a ${len}-octet IPv6 packet`);
    ipHdrLen = 40;
    if (40 + ((p[4] << 8) | p[5]) !== len) fail('accepted an IPv6 length ≠ packet length');
    proto = p[6];
  } else {
    fail(`accepted IP version ${version}`);
  }
  if (len > (version === 4 ? 65535 : 40 + 65535)) fail(`accepted a ${len}-octet packet`);
  if (gsoInnerVersion(f) !== version) fail(`gsoInnerVersion ${gsoInnerVersion(f)} ≠ ${version}`);
  if (hdrLen > len) fail(`accepted hdr_len ${hdrLen} > ${len}`);
  const needsCsum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
  if (needsCsum && (csumStart < ipHdrLen || csumStart + csumOffset + 2 > len))
    fail(`accepted checksum at ${csumStart}+${csumOffset} in a ${len}-octet packet`);
  const gso = gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  if (gso !== VIRTIO_NET_HDR_GSO_NONE) {
    const want = version === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
    if (gso !== want) fail(`accepted gso_type ${gso} on IPv${version}`);
    if (proto !== 6) fail(`accepted a GSO frame of protocol ${proto}`);
    if (!needsCsum) fail('accepted a GSO frame without NEEDS_CSUM');
    if (csumStart !== ipHdrLen || csumOffset !== 16)
      fail(`accepted GSO checksum at ${csumStart}+${csumOffset}`);
    const tcpHdrLen = (p[ipHdrLen + 12] >> 4) * 4;
    if (tcpHdrLen < 20 || ipHdrLen + tcpHdrLen > len) fail('accepted a truncated TCP header');
    if (gsoSize < VNET_MIN_GSO_SIZE) fail(`accepted gso_size ${gsoSize}`);
    // So the kernel cuts it into at most ~1000 segments.
    if (Math.ceil((len - ipHdrLen - tcpHdrLen) / gsoSize) > 1024)
      fail(`accepted a GSO frame of ${len} octets in segments of ${gsoSize}`);
  } else if (gsoSize !== 0 && gsoSize < VNET_MIN_GSO_SIZE) {
    fail(`accepted gso_size ${gsoSize} without GSO`);
  }
}

/**
 * completeChecksum on a copy of `f`, against its documented contract: RangeError exactly
 * when documented (frame untouched); false without NEEDS_CSUM (untouched); else only byte 0
 * (NEEDS_CSUM cleared) and the checksum field change, and for an even csum_offset the field
 * makes the sum over [csum_start, end) plus the old field verify.
 */
export function checkComplete(f: Uint8Array): void {
  const g = Uint8Array.from(f);
  const len = f.length - VNET_HDR_LEN;
  const hasHdr = f.length >= VNET_HDR_LEN;
  const flags = f[0];
  const csumStart = hasHdr ? f[6] | (f[7] << 8) : 0;
  const csumOffset = hasHdr ? f[8] | (f[9] << 8) : 0;
  const at = csumStart + csumOffset;
  const needs = hasHdr && (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
  const throws = !hasHdr || (needs && (f[1] !== VIRTIO_NET_HDR_GSO_NONE || at + 2 > len));
  let r: boolean;
  try {
    r = completeChecksum(g);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    if (!throws) fail(`completeChecksum threw ${e.message} on a frame it should complete`);
    for (let i = 0; i < f.length; i++) if (g[i] !== f[i]) fail('completeChecksum threw mid-way');
    return;
  }
  if (throws) fail('completeChecksum did not throw where documented');
  if (r !== needs) fail(`completeChecksum returned ${r}`);
  const field = VNET_HDR_LEN + at;
  for (let i = 1; i < f.length; i++)
    if (g[i] !== f[i] && (!r || (i !== field && i !== field + 1)))
      fail(`completeChecksum changed octet ${i}`);
  if (!r) {
    if (g[0] !== f[0]) fail('completeChecksum changed the flags without NEEDS_CSUM');
    return;
  }
  if (g[0] !== (f[0] & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)) fail('NEEDS_CSUM not cleared');
  const c = (g[field] << 8) | g[field + 1];
  if (c === 0) fail('completed checksum 0 (must be sent as 0xffff)');
  if (csumOffset % 2 === 0) {
    const old = (f[field] << 8) | f[field + 1];
    if (foldedSum(g.subarray(VNET_HDR_LEN), csumStart, g.length - VNET_HDR_LEN, old) !== 0xffff)
      fail('completed checksum does not verify');
  }
}

class VnetRunner implements FuzzRunner {
  private readonly pool: Uint8Array[] = [];
  accepted = 0;

  next(rng: Rng): FuzzInput {
    const r = rng.int(20);
    if (r < 2) return rng.bytes(rng.len(200));
    const f = validFrame(rng);
    if (this.pool.length < 512) this.pool.push(f);
    else if (rng.chance(0.05)) this.pool[rng.int(512)] = f;
    if (r < 4) return f;
    if (r < 8) return edge(rng, rng.chance(0.3) ? mutate(rng, f, rng.pick(this.pool), 70_000) : f);
    return mutate(rng, f, rng.pick(this.pool), 70_000);
  }

  run(input: FuzzInput): void {
    if (typeof input === 'string') return;
    const verdict = validateVnetFrame(input);
    if (verdict === null) {
      this.accepted++;
      checkAccepted(input);
    } else if (typeof verdict !== 'string' || verdict.length === 0) {
      fail(`validateVnetFrame returned ${JSON.stringify(verdict)}`);
    }
    checkComplete(input);
  }
}

export const VNET_TARGETS: FuzzTarget[] = [
  {
    name: 'vnet-hdr',
    what: 'validateVnetFrame + completeChecksum, mutated GSO frames',
    create: () => new VnetRunner(),
  },
];
