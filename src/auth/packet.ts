/**
 * Shared shapes of the PAP (RFC 1334 §2.2) and CHAP (RFC 1994 §4) packets.
 *
 * Both use the PPP control-packet header `code id length(2)`; an `AuthPacket`
 * is that header split out, with `data` holding the bytes after the 4-byte
 * header (trimmed to the length field by whoever parsed the frame).
 */
import { CodedError } from '../coded-error.js';

/** PPP protocol number of PAP (RFC 1334 §2). */
export const PAP_PROTOCOL = 0xc023;
/** PPP protocol number of CHAP (RFC 1994 §4). */
export const CHAP_PROTOCOL = 0xc223;
/** LCP Authentication-Protocol algorithm octet for CHAP with MD5 (RFC 1994 §3). */
export const CHAP_MD5_ALGORITHM = 5;

/** PAP codes (RFC 1334 §2.2). */
export const PapCode = {
  /** Authenticate-Request: peer-id and password, from the authenticatee. */
  AuthReq: 1,
  /** Authenticate-Ack: accepted, with a message. */
  AuthAck: 2,
  /** Authenticate-Nak: refused, with a message. */
  AuthNak: 3,
} as const;

/** CHAP codes (RFC 1994 §4). */
export const ChapCode = {
  /** Challenge: value and the authenticator's name. */
  Challenge: 1,
  /** Response: hash value and the authenticatee's name. */
  Response: 2,
  /** Success: message. */
  Success: 3,
  /** Failure: message. */
  Failure: 4,
} as const;

/** One PAP or CHAP packet: `data` is the payload after the 4-byte header. */
export interface AuthPacket {
  code: number;
  id: number;
  data: Uint8Array;
}

/** What a PAP/CHAP state machine wants done after an input. */
export interface AuthStep {
  /** Packets to send now, in order. */
  send: AuthPacket[];
  /** Present once authentication has an outcome (and again if it changes, e.g. a failed re-challenge). */
  result?: { ok: boolean; message: string; peerName?: string };
}

/** Counters every auth state machine keeps (peer input is counted, never thrown on). */
export interface AuthStats {
  /** Packets handed to `receive`. */
  received: number;
  /** Packets whose payload could not be parsed. */
  malformed: number;
  /** Well-formed packets dropped: wrong id, wrong state, or a code this role does not take. */
  ignored: number;
  /** Packets sent again after the restart timer expired. */
  retransmits: number;
}

export function newStats(): AuthStats {
  return { received: 0, malformed: 0, ignored: 0, retransmits: 0 };
}

/** Nothing to send for this input. */
export function noReply(): AuthStep {
  return { send: [] };
}

/** What the PAP and CHAP state machines (both roles) share: their counters, and dropping. */
export abstract class AuthMachine {
  readonly stats: AuthStats = newStats();

  /**
   * A received packet dropped and counted, never thrown on: `ignored` (well-formed but
   * not expected now) or `malformed` (its payload cannot be parsed). Nothing is sent.
   */
  protected drop(why: 'ignored' | 'malformed'): AuthStep {
    this.stats[why]++;
    return noReply();
  }
}

/** Local misuse of the auth API (bad options); never thrown for peer input. */
export class AuthError extends CodedError<'AUTH_INVALID_OPTION'> {
  override readonly name = 'AuthError';
  constructor(message: string) {
    super('AUTH_INVALID_OPTION', message);
  }
}

/**
 * Parses a whole control packet (`code id length data…`) as it follows the
 * protocol field. Returns null when shorter than 4 bytes or than its length
 * field; bytes past the length field (padding) are dropped (RFC 1661 §5).
 */
export function decodeAuthPacket(bytes: Uint8Array): AuthPacket | null {
  if (bytes.length < 4) return null;
  const length = (bytes[2] << 8) | bytes[3];
  if (length < 4 || length > bytes.length) return null;
  return { code: bytes[0], id: bytes[1], data: bytes.subarray(4, length) };
}

/** Emits `code id length data…` (without the protocol field). */
export function encodeAuthPacket(pkt: AuthPacket): Uint8Array {
  const out = new Uint8Array(4 + pkt.data.length);
  const len = out.length;
  out[0] = pkt.code & 0xff;
  out[1] = pkt.id & 0xff;
  out[2] = (len >>> 8) & 0xff;
  out[3] = len & 0xff;
  out.set(pkt.data, 4);
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a local string (names, secrets, messages). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decode of peer bytes; null when invalid (so distinct byte strings never collide). */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Lenient decode for messages that are only shown to a human (control characters escaped). */
export function decodeMessage(bytes: Uint8Array): string {
  return displayText(new TextDecoder('utf-8').decode(bytes));
}

/**
 * Peer text made safe for a log line: C0/C1 controls, DEL and the Unicode line
 * separators become `\xNN` / `\uNNNN`, so a peer cannot forge log lines.
 */
export function displayText(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100
      ? `\\x${n.toString(16).padStart(2, '0')}`
      : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Constant-time equality of two secrets (for `PapServer` `verify` callbacks). */
export function secretsEqual(a: string, b: string): boolean {
  return constantTimeEqual(utf8(a), utf8(b));
}
