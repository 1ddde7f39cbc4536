/**
 * LCP Configuration Option codecs (RFC 1661 §6, RFC 1570 for the extras pppd
 * prints). Each option is defined once: parse, emit and pppd debug format.
 */

import { readU16, readU32, u16Bytes, u32Bytes } from '../ppp/bytes.js';
import { type OptionCodec, optionTable } from '../ppp/options.js';
import { Protocol } from '../ppp/protocols.js';

/** LCP option types. */
export const LcpOpt = {
  /** RFC 2153 §2.1 Vendor-Specific: OUI, Kind, Value(s). */
  Vendor: 0,
  /** §6.1 Maximum-Receive-Unit. */
  MRU: 1,
  /** RFC 1662 §7.1 Async-Control-Character-Map. */
  ACCM: 2,
  /** §6.2 Authentication-Protocol. */
  AuthProtocol: 3,
  /** §6.3 Quality-Protocol. */
  QualityProtocol: 4,
  /** §6.4 Magic-Number. */
  MagicNumber: 5,
  /** §6.5 Protocol-Field-Compression. */
  PFC: 7,
  /** §6.6 Address-and-Control-Field-Compression. */
  ACFC: 8,
  /** RFC 1570 §2.3 Callback. */
  Callback: 13,
  /** RFC 1990 Multilink MRRU. */
  MRRU: 17,
} as const;

/** CHAP algorithm number for MD5 (RFC 1994 §3). */
export const CHAP_MD5 = 5;

/** §6.1 MRU: 2-octet value. */
export const mruCodec: OptionCodec<number> = {
  type: LcpOpt.MRU,
  name: 'mru',
  parse: (d) => (d.length === 2 ? readU16(d, 0) : null),
  emit: (v) => u16Bytes(v),
  format: (v) => ({ text: `mru ${v}`, used: 2 }),
};

/** RFC 1662 §7.1 ACCM: 4-octet bitmap of control characters to escape. */
export const accmCodec: OptionCodec<number> = {
  type: LcpOpt.ACCM,
  name: 'asyncmap',
  parse: (d) => (d.length === 4 ? readU32(d, 0) : null),
  emit: (v) => u32Bytes(v),
  format: (v) => ({ text: `asyncmap 0x${v.toString(16)}`, used: 4 }),
};

/** §6.2 Authentication-Protocol: protocol number and (for CHAP) algorithm. */
export interface AuthProtocolValue {
  protocol: number;
  /** CHAP algorithm octet, or -1 when absent. */
  algorithm: number;
}

const CHAP_ALG_NAMES: ReadonlyMap<number, string> = new Map([
  [CHAP_MD5, 'MD5'],
  [0x80, 'MS'],
  [0x81, 'MS-v2'],
]);

/** The Authentication-Protocol option. */
export const authCodec: OptionCodec<AuthProtocolValue> = {
  type: LcpOpt.AuthProtocol,
  name: 'auth',
  parse: (d) =>
    d.length >= 2 ? { protocol: readU16(d, 0), algorithm: d.length >= 3 ? d[2] : -1 } : null,
  emit: (v) => {
    const out = new Uint8Array(v.algorithm >= 0 ? 3 : 2);
    out[0] = v.protocol >>> 8;
    out[1] = v.protocol & 0xff;
    if (v.algorithm >= 0) out[2] = v.algorithm;
    return out;
  },
  format: (v) => {
    if (v.protocol === Protocol.PAP) return { text: 'auth pap', used: 2 };
    if (v.protocol === Protocol.EAP) return { text: 'auth eap', used: 2 };
    if (v.protocol === Protocol.CHAP) {
      const alg = v.algorithm >= 0 ? CHAP_ALG_NAMES.get(v.algorithm) : undefined;
      return alg !== undefined
        ? { text: `auth chap ${alg}`, used: 3 }
        : { text: 'auth chap', used: 2 };
    }
    return { text: `auth 0x${v.protocol.toString(16)}`, used: 2 };
  },
};

/** §6.3 Quality-Protocol (we always reject it; printed like pppd). */
export const qualityCodec: OptionCodec<number> = {
  type: LcpOpt.QualityProtocol,
  name: 'quality',
  parse: (d) => (d.length >= 2 ? readU16(d, 0) : null),
  emit: (v) => u16Bytes(v),
  format: (v) => ({
    text: v === Protocol.LQR ? 'quality lqr' : `quality 0x${v.toString(16)}`,
    used: 2,
  }),
};

/** §6.4 Magic-Number. */
export const magicCodec: OptionCodec<number> = {
  type: LcpOpt.MagicNumber,
  name: 'magic',
  parse: (d) => (d.length === 4 ? readU32(d, 0) : null),
  emit: (v) => u32Bytes(v),
  format: (v) => ({ text: `magic 0x${v.toString(16)}`, used: 4 }),
};

const EMPTY = new Uint8Array(0);

/** A boolean option that carries no data (present = on), printed by its pppd name. */
function flagCodec(type: number, name: string): OptionCodec<true> {
  return {
    type,
    name,
    parse: (d) => (d.length === 0 ? true : null),
    emit: () => EMPTY,
    format: () => ({ text: name, used: 0 }),
  };
}

/** §6.5 Protocol-Field-Compression (no data). */
export const pfcCodec = flagCodec(LcpOpt.PFC, 'pcomp');

/** §6.6 Address-and-Control-Field-Compression (no data). */
export const acfcCodec = flagCodec(LcpOpt.ACFC, 'accomp');

/** RFC 1570 Callback (always rejected; printed like pppd). */
export const callbackCodec: OptionCodec<number> = {
  type: LcpOpt.Callback,
  name: 'callback',
  parse: (d) => (d.length >= 1 ? d[0] : null),
  emit: (v) => Uint8Array.of(v),
  format: (v) => ({ text: v === 6 ? 'callback CBCP' : `callback 0x${v.toString(16)}`, used: 1 }),
};

/** RFC 1990 MRRU (always rejected). */
export const mrruCodec: OptionCodec<number> = {
  type: LcpOpt.MRRU,
  name: 'mrru',
  parse: (d) => (d.length === 2 ? readU16(d, 0) : null),
  emit: (v) => u16Bytes(v),
  format: (v) => ({ text: `mrru ${v}`, used: 2 }),
};

/**
 * RFC 2153 §2.1 Vendor-Specific option data: `OUI (3) | Kind (1) | Value(s)`.
 * `value` is a copy of the Value(s) octets (possibly empty).
 */
export interface VendorValue {
  /** Organizationally Unique Identifier, most significant octet first. */
  oui: number;
  /** Sub-type defined by the owner of the OUI. */
  kind: number;
  value: Uint8Array;
}

/**
 * ts-vpn's OUI: 02:54:56 ("TV"), locally administered (U/L bit 0x02 of the first octet
 * set, IEEE 802), so it can collide with no vendor's registered OUI.
 */
export const TSVPN_OUI = 0x025456;

/** Kinds under {@link TSVPN_OUI}. */
export const TsvpnKind = {
  /**
   * GSO frames (src/engine/gso.ts): Value = 2 octets, the largest IP packet (after the
   * 10-octet virtio_net_hdr) the sender of the option accepts in one GSO frame.
   */
  GsoFrames: 1,
} as const;

/** Data length of the GSO-frames option: OUI, Kind, 2-octet value. */
const GSO_OPTION_DATA_LEN = 6;

/** Vendor-Specific option data with our OUI and the GSO-frames kind (any value length). */
export function isGsoKind(data: Uint8Array): boolean {
  return (
    data.length >= 4 &&
    ((data[0] << 16) | (data[1] << 8) | data[2]) === TSVPN_OUI &&
    data[3] === TsvpnKind.GsoFrames
  );
}

/** The value (largest accepted IP packet) of a well-formed GSO-frames option, else -1. */
export function gsoOptionValue(data: Uint8Array): number {
  return data.length === GSO_OPTION_DATA_LEN && isGsoKind(data) ? readU16(data, 4) : -1;
}

/** True for a parsed Vendor-Specific option of ours with the GSO-frames kind. */
export function isGsoVendor(v: VendorValue): boolean {
  return v.oui === TSVPN_OUI && v.kind === TsvpnKind.GsoFrames;
}

/** The largest accepted IP packet of a parsed GSO-frames option (2-octet value), else -1. */
export function gsoVendorValue(v: VendorValue): number {
  return isGsoVendor(v) && v.value.length === 2 ? readU16(v.value, 0) : -1;
}

/** The Vendor-Specific option announcing GSO frames of up to `maxPacket` IP octets. */
export function gsoOption(maxPacket: number): VendorValue {
  return { oui: TSVPN_OUI, kind: TsvpnKind.GsoFrames, value: u16Bytes(maxPacket) };
}

function ouiText(oui: number): string {
  const h = (v: number) => v.toString(16).padStart(2, '0');
  return `${h(oui >>> 16)}:${h((oui >>> 8) & 0xff)}:${h(oui & 0xff)}`;
}

/**
 * RFC 2153 Vendor-Specific option (Length ≥ 6). pppd has no printer for it (it dumps
 * unknown options as hex); we print `vendor 02:54:56 kind 1 gso 65535` for ours and
 * `vendor oo:oo:oo kind k` followed by the Value(s) in hex for any other.
 */
export const vendorCodec: OptionCodec<VendorValue> = {
  type: LcpOpt.Vendor,
  name: 'vendor',
  parse: (d) =>
    d.length >= 4
      ? { oui: (d[0] << 16) | (d[1] << 8) | d[2], kind: d[3], value: d.slice(4) }
      : null,
  emit: (v) => {
    const out = new Uint8Array(4 + v.value.length);
    out[0] = v.oui >>> 16;
    out[1] = (v.oui >>> 8) & 0xff;
    out[2] = v.oui & 0xff;
    out[3] = v.kind;
    out.set(v.value, 4);
    return out;
  },
  format: (v, d) => {
    const head = `vendor ${ouiText(v.oui)} kind ${v.kind}`;
    const gso = gsoOptionValue(d);
    return gso >= 0 ? { text: `${head} gso ${gso}`, used: d.length } : { text: head, used: 4 };
  },
};

/** All LCP option codecs by type. */
export const LCP_OPTIONS = optionTable([
  vendorCodec,
  mruCodec,
  accmCodec,
  authCodec,
  qualityCodec,
  magicCodec,
  pfcCodec,
  acfcCodec,
  callbackCodec,
  mrruCodec,
]);
