/**
 * GSO frames between two ts-vpn ends: one PPP frame with protocol
 * {@link Protocol.GsoFrame} whose information field is
 *
 *   virtio_net_hdr (10 octets, as read from / written to a TUN with IFF_VNET_HDR) | IPv4 or IPv6 packet (≤ 65535)
 *
 * used only while both ends agreed through LCP (src/lcp/options.ts `vendorCodec`). The
 * engine checks lengths and the IP version nibble only: the runtime validates the virtio
 * header (src/wire/vnet-hdr.ts) before handing a received frame to the kernel.
 */

import { VNET_HDR_LEN } from '../wire/vnet-hdr.js';

/** Length of `struct virtio_net_hdr` (without num_buffers), defined once in src/wire/vnet-hdr.ts. */
export { VNET_HDR_LEN };

/** Largest IP packet we accept in one GSO frame (the value of our LCP option). */
export const GSO_MAX_PACKET = 65535;

/** Smallest IP packet in a GSO frame: an IPv4 header (an IPv6 one is 40). */
const MIN_V4 = 20;
const MIN_V6 = 40;

/**
 * IP version of the packet inside a GSO frame (its first nibble after the virtio header),
 * or 0 when the frame is too short for that version's header or the version is neither.
 */
export function gsoInnerVersion(frame: Uint8Array): 0 | 4 | 6 {
  if (frame.length < VNET_HDR_LEN + MIN_V4) return 0;
  const v = frame[VNET_HDR_LEN] >>> 4;
  if (v === 4) return 4;
  if (v === 6 && frame.length >= VNET_HDR_LEN + MIN_V6) return 6;
  return 0;
}

/** GSO counters (see {@link EngineStats.gso}). */
export class GsoCounters {
  /** GSO frames sent (also counted in the ipv4/ipv6 counters of the inner packet). */
  txFrames = 0;
  /** GSO frames received and handed to the owner (also in ipv4/ipv6). */
  rxFrames = 0;
  /** sendGso() refusals: capability off, NCP not open, bad length/version, output full. */
  txDrops = 0;
  /** Received GSO frames dropped: NCP not open, bad length/version, no handler. */
  rxDrops = 0;
  /**
   * Non-GSO frames received above the MRU-based limit while the deframer was widened for
   * GSO frames (without GSO the deframer itself drops them, in `framing.rx.tooLong`).
   */
  rxOversize = 0;
}
