/** pppd-style printers for IPCP and IPv6CP packets. */

import { Code } from '../ppp/codes.js';
import type { PacketPrinter } from '../ppp/format.js';
import { IPCP_OPTIONS } from './ipcp-options.js';
import { IPV6CP_OPTIONS } from './ipv6cp-options.js';

/** `[IPCP ConfReq id=0x1 <addr 10.64.0.1>]`. */
export const IPCP_PRINTER: PacketPrinter = {
  name: 'IPCP',
  options: IPCP_OPTIONS,
  maxCode: Code.CodeRej,
};

/** `[IPV6CP ConfReq id=0x1 <addr fe80::…>]`. */
export const IPV6CP_PRINTER: PacketPrinter = {
  name: 'IPV6CP',
  options: IPV6CP_OPTIONS,
  maxCode: Code.CodeRej,
};
