/**
 * pppd-style debug text for control packets, e.g.
 * `[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x5f2e6c1a> <pcomp> <accomp>]`.
 * The shapes follow pppd 2.4.9's `debug` log so logs compare line by line.
 */

import { hexSpaced } from './bytes.js';
import { Code, codeName } from './codes.js';
import { formatOption, type OptionTable } from './options.js';
import type { ControlPacket } from './packet.js';

/** pppd prints at most this many trailing bytes, then ` ...`. */
const MAX_DUMP = 32;

/** How one control protocol prints its packets. */
export interface PacketPrinter {
  /** pppd protocol name, e.g. `LCP`, `IPV6CP`. */
  readonly name: string;
  /** Option codecs for codes 1-4. */
  readonly options: OptionTable;
  /** Highest code with a name for this protocol (7 for NCPs, 13 for LCP). */
  readonly maxCode: number;
  /**
   * Protocol-specific body for codes beyond the common ones (LCP echo:
   * ` magic=0x…`). Returns the text and bytes consumed, or null.
   */
  formatExtra?(code: number, data: Uint8Array): { text: string; used: number } | null;
}

/** pppd's quoted string: printable ASCII as is, `"`/`\` escaped, others as escapes. */
export function quoteString(b: Uint8Array, start = 0, end = b.length): string {
  let s = '"';
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else s += `\\${c.toString(8).padStart(3, '0')}`;
  }
  return `${s}"`;
}

/** ` 01 02 …` for up to 32 bytes, then ` ...` as pppd does. */
export function dumpTail(b: Uint8Array, start: number): string {
  const end = Math.min(b.length, start + MAX_DUMP);
  let s = end > start ? ` ${hexSpaced(b, start, end)}` : '';
  if (end < b.length) s += ' ...';
  return s;
}

/** Formats the options of a Configure-* packet; stops at a malformed TLV and dumps the rest. */
function formatOptionList(options: OptionTable, data: Uint8Array): { text: string; used: number } {
  let s = '';
  let off = 0;
  while (data.length - off >= 2) {
    const type = data[off];
    const len = data[off + 1];
    if (len < 2 || off + len > data.length) break;
    s += formatOption(options, type, data.subarray(off + 2, off + len));
    off += len;
  }
  return { text: s, used: off };
}

/** The bracketed body: `LCP ConfReq id=0x1 <…>` (without `[`/`]`). */
export function formatControlBody(printer: PacketPrinter, pkt: ControlPacket): string {
  const name = codeName(pkt.code, printer.maxCode);
  let s = printer.name;
  s += name !== null ? ` ${name}` : ` code=0x${pkt.code.toString(16)}`;
  s += ` id=0x${pkt.id.toString(16)}`;
  const data = pkt.data;
  let used = 0;
  if (name !== null) {
    switch (pkt.code) {
      case Code.ConfReq:
      case Code.ConfAck:
      case Code.ConfNak:
      case Code.ConfRej: {
        const r = formatOptionList(printer.options, data);
        s += r.text;
        used = r.used;
        break;
      }
      case Code.TermReq:
      case Code.TermAck:
        if (data.length > 0 && data[0] >= 0x20 && data[0] < 0x7f) {
          s += ` ${quoteString(data)}`;
          used = data.length;
        }
        break;
      default: {
        const r = printer.formatExtra?.(pkt.code, data) ?? null;
        if (r !== null) {
          s += r.text;
          used = r.used;
        }
      }
    }
  }
  return s + dumpTail(data, used);
}

/** `[LCP ConfReq id=0x1 …]`. */
export function formatControlPacket(printer: PacketPrinter, pkt: ControlPacket): string {
  return `[${formatControlBody(printer, pkt)}]`;
}
