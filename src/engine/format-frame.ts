/**
 * pppd-style text of any control frame by protocol: `[LCP ConfReq …]`,
 * `[IPCP …]`, `[IPV6CP …]`, `[CCP …]`, `[PAP …]`, `[CHAP …]`. Data
 * protocols (IP, IPv6, compressed) return null.
 */

import { type AuthPacket, formatChap, formatPap } from '../auth/index.js';
import { LCP_PRINTER } from '../lcp/printer.js';
import { IPCP_PRINTER, IPV6CP_PRINTER } from '../ncp/printers.js';
import { CCP_PRINTER } from '../ppp/ccp.js';
import { dumpTail, formatControlPacket, type PacketPrinter } from '../ppp/format.js';
import { parseControlPacket } from '../ppp/packet.js';
import { Protocol, protocolHex } from '../ppp/protocols.js';

const PRINTERS: ReadonlyMap<number, PacketPrinter> = new Map([
  [Protocol.LCP, LCP_PRINTER],
  [Protocol.IPCP, IPCP_PRINTER],
  [Protocol.IPV6CP, IPV6CP_PRINTER],
  [Protocol.CCP, CCP_PRINTER],
]);

/** Bracketed pppd text of one frame's control packet, or null for data protocols. */
export function formatFrame(protocol: number, info: Uint8Array): string | null {
  const printer = PRINTERS.get(protocol);
  const isAuth = protocol === Protocol.PAP || protocol === Protocol.CHAP;
  if (printer === undefined && !isAuth && protocol < 0x8000) return null;
  const r = parseControlPacket(info);
  if (!r.ok) return `[${protocolHex(protocol)}${dumpTail(info, 0)}]`;
  if (printer !== undefined) return formatControlPacket(printer, r.packet);
  if (isAuth) {
    const pkt: AuthPacket = r.packet;
    return protocol === Protocol.PAP ? `[PAP ${formatPap(pkt)}]` : `[CHAP ${formatChap(pkt)}]`;
  }
  return `[${protocolHex(protocol)}${dumpTail(info, 0)}]`;
}
