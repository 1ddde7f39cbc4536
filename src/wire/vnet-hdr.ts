/**
 * `struct virtio_net_hdr` (10 bytes, `<linux/virtio_net.h>`) as a TUN device in
 * vnet mode (IFF_VNET_HDR, see device.ts) puts in front of every packet it
 * hands us and expects in front of every packet we write. Pure: no I/O.
 *
 * ```
 *  0  flags        u8   NEEDS_CSUM (1): L4 checksum is partial; DATA_VALID (2): already verified
 *  1  gso_type     u8   NONE 0, TCPV4 1, TCPV6 4, optionally | ECN 0x80
 *  2  hdr_len      u16  length of the headers (a hint for the kernel)
 *  4  gso_size     u16  payload bytes per segment (the MSS) of a GSO super-packet
 *  6  csum_start   u16  offset (from the IP header) where checksumming starts
 *  8  csum_offset  u16  where, after csum_start, the 16-bit checksum goes
 * ```
 * Little-endian: TUN uses the native byte order of x86-64/arm64 unless
 * TUNSETVNETBE was set (we never do).
 *
 * A frame is header + IP packet. Frames read from our own kernel are trusted;
 * frames received from the network peer are not, and must pass
 * validateVnetFrame() before we write them into our kernel.
 */

export const VNET_HDR_LEN = 10;

/** flags */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

/** gso_type */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/**
 * Smallest gso_size we accept from a peer. A tiny MSS on a 64 KB frame would
 * make our kernel cut it into thousands of segments (TCP's own floor is 48).
 */
export const VNET_MIN_GSO_SIZE = 64;

/** TCP checksum offset inside the TCP header. */
const TCP_CSUM_OFFSET = 16;
const IPPROTO_TCP = 6;

export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

/** Decodes the header at the start of `buf` (at least 10 bytes). */
export function readVnetHdr(buf: Uint8Array): VnetHdr {
  if (buf.length < VNET_HDR_LEN)
    throw new RangeError(`virtio_net_hdr needs ${VNET_HDR_LEN} bytes, got ${buf.length}`);
  return {
    flags: buf[0],
    gsoType: buf[1],
    hdrLen: buf[2] | (buf[3] << 8),
    gsoSize: buf[4] | (buf[5] << 8),
    csumStart: buf[6] | (buf[7] << 8),
    csumOffset: buf[8] | (buf[9] << 8),
  };
}

/** Encodes `h` into the first 10 bytes of `buf`. */
export function writeVnetHdr(buf: Uint8Array, h: Partial<VnetHdr>): void {
  if (buf.length < VNET_HDR_LEN)
    throw new RangeError(`virtio_net_hdr needs ${VNET_HDR_LEN} bytes, got ${buf.length}`);
  const u16 = (at: number, v: number | undefined): void => {
    buf[at] = (v ?? 0) & 255;
    buf[at + 1] = ((v ?? 0) >> 8) & 255;
  };
  buf[0] = h.flags ?? 0;
  buf[1] = h.gsoType ?? 0;
  u16(2, h.hdrLen);
  u16(4, h.gsoSize);
  u16(6, h.csumStart);
  u16(8, h.csumOffset);
}

/** True when the frame is a GSO super-packet (gso_type ≠ NONE). */
export function isGsoFrame(frame: Uint8Array): boolean {
  return frame.length >= VNET_HDR_LEN && frame[1] !== VIRTIO_NET_HDR_GSO_NONE;
}

/**
 * Checks a frame (header + IP packet) that came from the network peer before
 * it is written into our kernel. Returns null when it is acceptable, else a
 * short reason. Rules: known flags only; gso_type NONE, TCPV4 or TCPV6
 * (the last two optionally | ECN); a GSO frame carries a TCP packet of the
 * matching IP version, a partial checksum at the TCP checksum field, and a
 * gso_size ≥ VNET_MIN_GSO_SIZE; a partial checksum lies inside the packet;
 * hdr_len ≤ packet length; the IP header is complete and its total (IPv4) or
 * payload (IPv6) length matches the packet length exactly.
 */
export function validateVnetFrame(frame: Uint8Array): string | null {
  if (frame.length < VNET_HDR_LEN) return `frame of ${frame.length} bytes has no virtio_net_hdr`;
  const h = readVnetHdr(frame);
  const len = frame.length - VNET_HDR_LEN;
  const p = frame.subarray(VNET_HDR_LEN);
  if (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
    return `unknown flags 0x${h.flags.toString(16)}`;
  const gso = h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  if (
    gso !== VIRTIO_NET_HDR_GSO_NONE &&
    gso !== VIRTIO_NET_HDR_GSO_TCPV4 &&
    gso !== VIRTIO_NET_HDR_GSO_TCPV6
  )
    return `unsupported gso_type 0x${h.gsoType.toString(16)}`;
  if (h.gsoType === VIRTIO_NET_HDR_GSO_ECN) return 'ECN bit without a GSO type';

  // IP header and length.
  if (len < 1) return 'empty packet';
  const version = p[0] >> 4;
  let ipHdrLen: number;
  let l4proto: number;
  if (version === 4) {
    if (len < 20) return `IPv4 packet of ${len} bytes is shorter than its header`;
    ipHdrLen = (p[0] & 15) * 4;
    if (ipHdrLen < 20 || ipHdrLen > len) return `bad IPv4 header length ${ipHdrLen}`;
    const total = (p[2] << 8) | p[3];
    if (total !== len) return `IPv4 total length ${total} ≠ packet length ${len}`;
    l4proto = p[9];
  } else if (version === 6) {
    if (len < 40) return `IPv6 packet of ${len} bytes is shorter than its header`;
    ipHdrLen = 40;
    const payload = (p[4] << 8) | p[5];
    if (40 + payload !== len) return `IPv6 length ${40 + payload} ≠ packet length ${len}`;
    l4proto = p[6];
  } else return `IP version ${version}`;
  if (h.hdrLen > len) return `hdr_len ${h.hdrLen} > packet length ${len}`;

  // Partial checksum.
  const needsCsum = (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
  if (needsCsum) {
    if (h.csumStart < ipHdrLen) return `csum_start ${h.csumStart} inside the IP header`;
    if (h.csumStart + h.csumOffset + 2 > len)
      return `checksum at ${h.csumStart}+${h.csumOffset} beyond packet length ${len}`;
  }

  // GSO.
  if (gso !== VIRTIO_NET_HDR_GSO_NONE) {
    const want = gso === VIRTIO_NET_HDR_GSO_TCPV4 ? 4 : 6;
    if (version !== want) return `gso_type TCPV${want} on an IPv${version} packet`;
    if (l4proto !== IPPROTO_TCP) return `GSO frame carries protocol ${l4proto}, not TCP`;
    if (!needsCsum) return 'GSO frame without NEEDS_CSUM';
    if (h.csumStart !== ipHdrLen || h.csumOffset !== TCP_CSUM_OFFSET)
      return `GSO checksum at ${h.csumStart}+${h.csumOffset} is not the TCP checksum`;
    const tcpHdrLen = len >= ipHdrLen + 13 ? (p[ipHdrLen + 12] >> 4) * 4 : 0;
    if (tcpHdrLen < 20 || ipHdrLen + tcpHdrLen > len)
      return 'GSO frame with a truncated TCP header';
    if (h.gsoSize < VNET_MIN_GSO_SIZE) return `gso_size ${h.gsoSize} < ${VNET_MIN_GSO_SIZE}`;
  } else if (h.gsoSize !== 0 && h.gsoSize < VNET_MIN_GSO_SIZE) {
    // gso_size is ignored without a GSO type; only nonsense is refused.
    return `gso_size ${h.gsoSize} without a GSO type`;
  }
  return null;
}

/** Ones'-complement sum (not folded, not complemented) of `data`, 16-bit big-endian words. */
function onesSum(data: Uint8Array, from: number, to: number): number {
  let sum = 0;
  let i = from;
  for (; i + 1 < to; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (i < to) sum += data[i] << 8;
  return sum;
}

/**
 * Completes the partial checksum of a non-GSO frame in place, as the kernel's
 * skb_checksum_help does: the field at csum_start+csum_offset holds the
 * pseudo-header sum; the ones'-complement sum from csum_start to the end of
 * the packet is folded, complemented (0 becomes 0xffff) and stored there, and
 * NEEDS_CSUM is cleared. Returns false when the frame had no partial checksum.
 * Throws RangeError for a GSO frame (each segment gets its own checksum when it
 * is cut; segment first) or when the checksum lies outside the packet.
 */
export function completeChecksum(frame: Uint8Array): boolean {
  const h = readVnetHdr(frame);
  if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return false;
  if (h.gsoType !== VIRTIO_NET_HDR_GSO_NONE)
    throw new RangeError('completeChecksum: GSO frame (segment it first)');
  const p = frame.subarray(VNET_HDR_LEN);
  const at = h.csumStart + h.csumOffset;
  if (at + 2 > p.length)
    throw new RangeError(`completeChecksum: checksum at ${at} beyond packet length ${p.length}`);
  let sum = onesSum(p, h.csumStart, p.length);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  p[at] = c >> 8;
  p[at + 1] = c & 255;
  frame[0] &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
  return true;
}
