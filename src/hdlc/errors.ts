/**
 * Local-misuse errors of the HDLC layer. Peer input never throws (it is counted and
 * dropped); these are raised only when the calling code passes something invalid.
 */
import { CodedError } from '../coded-error.js';

/** Stable error codes carried by {@link HdlcError.code}. */
export const HdlcErrorCode = {
  /** A protocol number that is not a valid RFC 1661 §2 value (odd low byte, even high byte). */
  BadProtocol: 'ERR_HDLC_BAD_PROTOCOL',
  /** An option value out of range (ACCM, maxInfo, maxPending, escape byte). */
  BadOption: 'ERR_HDLC_BAD_OPTION',
  /** An information field that is not a Uint8Array. */
  BadInfo: 'ERR_HDLC_BAD_INFO',
  /** `push()` called from inside the deframer's own frame handler. */
  Reentrant: 'ERR_HDLC_REENTRANT',
} as const;

export type HdlcErrorCode = (typeof HdlcErrorCode)[keyof typeof HdlcErrorCode];

/** Error thrown on local misuse of the HDLC API; `code` is stable, the message is not. */
export class HdlcError extends CodedError<HdlcErrorCode> {
  override readonly name = 'HdlcError';
}
