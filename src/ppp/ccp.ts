/**
 * CCP (RFC 1962) printing only: this engine does not compress and
 * Protocol-Rejects CCP (as pppd with `noccp`), but logs the peer's packets
 * the way pppd prints them: `<deflate 15> <deflate(old#) 15> <bsd v1 15>`.
 */

import { Code } from './codes.js';
import type { PacketPrinter } from './format.js';
import { type OptionCodec, optionTable } from './options.js';

/** CCP option types pppd knows by name. */
export const CcpOpt = {
  /** RFC 1978 Predictor type 1. */
  Predictor1: 1,
  /** RFC 1978 Predictor type 2. */
  Predictor2: 2,
  /** RFC 2118 MPPC/MPPE. */
  Mppe: 18,
  /** RFC 1977 BSD-Compress. */
  BsdCompress: 21,
  /** RFC 1979 Deflate, draft option number (pppd `deflate(old#)`). */
  DeflateDraft: 24,
  /** RFC 1979 Deflate. */
  Deflate: 26,
} as const;

/** RFC 1979 §2.1 Deflate parameters: window = (byte >> 4) + 8, method = byte & 0x0f, check. */
export interface DeflateValue {
  windowBits: number;
  method: number;
  check: number;
}

function deflateCodec(type: number, label: string): OptionCodec<DeflateValue> {
  return {
    type,
    name: label,
    parse: (d) =>
      d.length === 2 ? { windowBits: (d[0] >>> 4) + 8, method: d[0] & 0x0f, check: d[1] } : null,
    emit: (v) => Uint8Array.of((((v.windowBits - 8) & 0x0f) << 4) | (v.method & 0x0f), v.check),
    format: (v) => {
      let text = `${label} ${v.windowBits}`;
      if (v.method !== 8) text += ` method ${v.method}`;
      if (v.check !== 0) text += ` check ${v.check}`;
      return { text, used: 2 };
    },
  };
}

/** `<deflate 15>`. */
export const deflateCodecRfc = deflateCodec(CcpOpt.Deflate, 'deflate');
/** `<deflate(old#) 15>`. */
export const deflateCodecDraft = deflateCodec(CcpOpt.DeflateDraft, 'deflate(old#)');

/** RFC 1977 BSD-Compress: version in the top 3 bits, code size in the low 5: `<bsd v1 15>`. */
export const bsdCodec: OptionCodec<{ version: number; bits: number }> = {
  type: CcpOpt.BsdCompress,
  name: 'bsd',
  parse: (d) => (d.length === 1 ? { version: d[0] >>> 5, bits: d[0] & 0x1f } : null),
  emit: (v) => Uint8Array.of(((v.version & 7) << 5) | (v.bits & 0x1f)),
  format: (v) => ({ text: `bsd v${v.version} ${v.bits}`, used: 1 }),
};

function bare(type: number, label: string): OptionCodec<true> {
  return {
    type,
    name: label,
    parse: () => true,
    emit: () => new Uint8Array(0),
    format: () => ({ text: label, used: 0 }),
  };
}

/** All CCP option printers. */
export const CCP_OPTIONS = optionTable([
  deflateCodecRfc,
  deflateCodecDraft,
  bsdCodec,
  bare(CcpOpt.Predictor1, 'predictor 1'),
  bare(CcpOpt.Predictor2, 'predictor 2'),
]);

/** `[CCP ConfReq id=0x1 <deflate 15> …]`. */
export const CCP_PRINTER: PacketPrinter = {
  name: 'CCP',
  options: CCP_OPTIONS,
  maxCode: Code.CodeRej,
};
