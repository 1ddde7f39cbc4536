/** pppd-style printing of LCP packets (`[LCP EchoReq id=0x0 magic=0x4bdad897]`). */

import { readU32 } from '../ppp/bytes.js';
import { Code } from '../ppp/codes.js';
import type { PacketPrinter } from '../ppp/format.js';
import { LCP_OPTIONS } from './options.js';

/** The LCP {@link PacketPrinter}. */
export const LCP_PRINTER: PacketPrinter = {
  name: 'LCP',
  options: LCP_OPTIONS,
  maxCode: Code.TimeRem,
  formatExtra(code, data) {
    if (
      (code === Code.EchoReq || code === Code.EchoRep || code === Code.DiscReq) &&
      data.length >= 4
    ) {
      return { text: ` magic=0x${readU32(data, 0).toString(16)}`, used: 4 };
    }
    return null;
  },
};
