/**
 * PPP protocol numbers (RFC 1661 §2, IANA "PPP DLL Protocol Numbers") and the
 * names pppd prints for them.
 */

/** Protocol field values this engine knows by name. */
export const Protocol = {
  /** Internet Protocol version 4 (RFC 1332). */
  IPv4: 0x0021,
  /** Van Jacobson compressed TCP/IP (RFC 1144). */
  VjCompressed: 0x002d,
  /** Van Jacobson uncompressed TCP/IP (RFC 1144). */
  VjUncompressed: 0x002f,
  /** Internet Protocol version 6 (RFC 5072). */
  IPv6: 0x0057,
  /** Compressed datagram (RFC 1962). */
  Compressed: 0x00fd,
  /**
   * ts-vpn GSO frame: `[10-octet virtio_net_hdr][IPv4/IPv6 packet ≤ 65535]`. NOT IANA
   * assigned (PPP has no private-use range): sent only after both ends agreed through the
   * LCP Vendor-Specific option (src/lcp/options.ts `vendorCodec`), so a peer that does not
   * know it never sees it. Valid per RFC 1661 §2 (odd low octet 0x21, even high octet
   * 0x2a; 0x2b21 would not be); in the network-layer range 0xxx-3xxx (it carries IP
   * datagrams); ≥ 0x100, so PFC never applies; outside IANA's compression-inefficient
   * 02xx-1exx and xx01-xx1f; neither octet is 7d/7e or a control character, so it is never
   * escaped; unassigned in the IANA registry (whose 2xxx entries are 2063-2069).
   */
  GsoFrame: 0x2a21,
  /** IP Control Protocol (RFC 1332). */
  IPCP: 0x8021,
  /** IPv6 Control Protocol (RFC 5072). */
  IPV6CP: 0x8057,
  /** Compression Control Protocol (RFC 1962). */
  CCP: 0x80fd,
  /** Link Control Protocol (RFC 1661). */
  LCP: 0xc021,
  /** Password Authentication Protocol (RFC 1334). */
  PAP: 0xc023,
  /** Link Quality Report (RFC 1989). */
  LQR: 0xc025,
  /** Challenge Handshake Authentication Protocol (RFC 1994). */
  CHAP: 0xc223,
  /** Extensible Authentication Protocol (RFC 3748). */
  EAP: 0xc227,
} as const;

/** Short names as printed in pppd's packet dumps (`[LCP ConfReq …]`). */
const SHORT_NAMES: ReadonlyMap<number, string> = new Map([
  [Protocol.LCP, 'LCP'],
  [Protocol.PAP, 'PAP'],
  [Protocol.CHAP, 'CHAP'],
  [Protocol.EAP, 'EAP'],
  [Protocol.LQR, 'LQR'],
  [Protocol.IPCP, 'IPCP'],
  [Protocol.IPV6CP, 'IPV6CP'],
  [Protocol.CCP, 'CCP'],
  [Protocol.IPv4, 'IP'],
  [Protocol.IPv6, 'IPv6'],
  [Protocol.GsoFrame, 'GSO'],
]);

/** Long names as used in pppd's "Unsupported protocol '…'" notices. */
const LONG_NAMES: ReadonlyMap<number, string> = new Map([
  [Protocol.IPv4, 'IP'],
  [Protocol.VjCompressed, 'VJ compressed TCP/IP'],
  [Protocol.VjUncompressed, 'VJ uncompressed TCP/IP'],
  [Protocol.IPv6, 'IPv6'],
  [Protocol.Compressed, 'compressed packet'],
  [Protocol.GsoFrame, 'ts-vpn GSO frame'],
  [Protocol.IPCP, 'IP Control Protocol'],
  [Protocol.IPV6CP, 'IPv6 Control Protocol'],
  [Protocol.CCP, 'Compression Control Protocol'],
  [Protocol.LCP, 'Link Control Protocol'],
  [Protocol.PAP, 'Password Authentication Protocol'],
  [Protocol.LQR, 'Link Quality Report'],
  [Protocol.CHAP, 'Challenge Handshake Authentication Protocol'],
  [Protocol.EAP, 'Extensible Authentication Protocol'],
]);

/** `0x80fd` style hex of a protocol number. */
export function protocolHex(protocol: number): string {
  return `0x${protocol.toString(16).padStart(4, '0')}`;
}

/** Short pppd name (`LCP`, `IPV6CP`, …) or the hex number. */
export function protocolName(protocol: number): string {
  return SHORT_NAMES.get(protocol) ?? protocolHex(protocol);
}

/** Long name for notices, e.g. `Compression Control Protocol`. */
export function protocolLongName(protocol: number): string {
  return LONG_NAMES.get(protocol) ?? protocolHex(protocol);
}

/**
 * RFC 1661 §2: a valid protocol number has an odd least significant octet and
 * an even most significant octet.
 */
export function isValidProtocol(protocol: number): boolean {
  return (
    (protocol & 0x0001) === 1 && (protocol & 0x0100) === 0 && protocol >= 0 && protocol <= 0xffff
  );
}
