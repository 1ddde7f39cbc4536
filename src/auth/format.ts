/**
 * pppd-style debug text for PAP and CHAP packets (pppd `upap_printpkt`,
 * `chap_print_pkt`).
 *
 * Both formatters return the text AFTER the protocol name, without a leading
 * space: the engine writes `sent [PAP ${formatPap(pkt)}]` and
 * `rcvd [CHAP ${formatChap(pkt)}]`, giving lines such as
 * `sent [PAP AuthReq id=0x1 user="alice" password=<hidden>]`.
 *
 * Passwords are always printed as `<hidden>` (pppd without `show-password`);
 * CHAP values are one-way hashes and random challenges, printed in hex as pppd does.
 */
import { type AuthPacket, ChapCode, PapCode } from './packet.js';

const PAP_NAMES = ['AuthReq', 'AuthAck', 'AuthNak'];
const CHAP_NAMES = ['Challenge', 'Response', 'Success', 'Failure'];

function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/** pppd `print_string`: quoted, `\` and `"` escaped, \n \r \t, other non-printables as 3-digit octal. */
export function pppdString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '"';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x20 && c <= 0x7e) {
      if (c === 0x5c || c === 0x22) s += '\\';
      s += String.fromCharCode(c);
    } else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else s += `\\${c.toString(8).padStart(3, '0')}`;
  }
  return `${s}"`;
}

function codeAndId(names: string[], pkt: AuthPacket): string {
  const name =
    pkt.code >= 1 && pkt.code <= names.length
      ? names[pkt.code - 1]
      : `code=0x${pkt.code.toString(16)}`;
  return `${name} id=0x${pkt.id.toString(16)}`;
}

/** PAP packet as pppd prints it after `[PAP `, e.g. `AuthAck id=0x1 "Login ok"`. Never throws. */
export function formatPap(pkt: AuthPacket): string {
  const d = pkt.data;
  let s = codeAndId(PAP_NAMES, pkt);
  let p = 0;
  if (pkt.code === PapCode.AuthReq) {
    const ulen = d[0];
    if (d.length >= 1 && d.length >= ulen + 2 && d.length >= ulen + 2 + d[ulen + 1]) {
      const wlen = d[ulen + 1];
      s += ` user=${pppdString(d, 1, 1 + ulen)} password=<hidden>`;
      p = ulen + 2 + wlen;
    }
  } else if (pkt.code === PapCode.AuthAck || pkt.code === PapCode.AuthNak) {
    const mlen = d[0];
    if (d.length >= 1 && d.length >= mlen + 1) {
      s += ` ${pppdString(d, 1, 1 + mlen)}`;
      p = mlen + 1;
    }
  }
  for (; p < d.length; p++) s += ` ${hex2(d[p])}`;
  return s;
}

/** CHAP packet as pppd prints it after `[CHAP `, e.g. `Challenge id=0xc0 <ec3e…>, name = "pppd-vm"`. Never throws. */
export function formatChap(pkt: AuthPacket): string {
  const d = pkt.data;
  let s = codeAndId(CHAP_NAMES, pkt);
  switch (pkt.code) {
    case ChapCode.Challenge:
    case ChapCode.Response: {
      // pppd prints nothing more when the value does not fit.
      if (d.length < 1 || d.length < d[0] + 1) break;
      const clen = d[0];
      s += ' <';
      for (let i = 1; i <= clen; i++) s += hex2(d[i]);
      s += `>, name = ${pppdString(d, 1 + clen)}`;
      break;
    }
    case ChapCode.Success:
    case ChapCode.Failure:
      s += ` ${pppdString(d)}`;
      break;
    default:
      for (let i = 0; i < d.length; i++) s += ` ${hex2(d[i])}`;
  }
  return s;
}
