/**
 * Typed errors of the library API. Every error carries a stable `code` that
 * programs may switch on; messages are for people and may change.
 */
import { CodedError, hasCode } from '../coded-error.js';

/** Stable codes of {@link PppLinkError}. */
export type PppLinkErrorCode =
  /** Local misuse: an option has an invalid value (thrown synchronously). */
  | 'INVALID_OPTIONS'
  /** The AbortSignal given in the options fired. */
  | 'ABORTED'
  /** `close()` was called before the link came up. */
  | 'CLOSED'
  /** LCP, IPCP or IPv6CP did not converge (peer refused, timeouts, no acceptable address). */
  | 'PPP_NEGOTIATION_FAILED'
  /** PAP or CHAP failed, in either direction. */
  | 'PPP_AUTH_FAILED'
  /** The link went away: the peer terminated it, echoes went unanswered, the stream ended. */
  | 'PPP_LINK_DOWN'
  /** The underlying stream emitted an error. */
  | 'STREAM_ERROR'
  /** connect(): the peer configuration is invalid. */
  | 'CONFIG_INVALID'
  /** connect(): the SSH server could not be reached, or the connection dropped before PPP. */
  | 'CONNECT_FAILED'
  /** connect(): the SSH host key is unknown, changed or revoked. */
  | 'HOST_KEY_REJECTED'
  /** connect(): SSH authentication failed. */
  | 'SSH_AUTH_FAILED'
  /** connect(): a local system error (TUN, netlink, permissions). */
  | 'SYSTEM_ERROR'
  /** connect(): a tunnel with this name already runs. */
  | 'BUSY'
  /** A bug in ts-vpn. */
  | 'INTERNAL';

/** The one error class of the library API. */
export class PppLinkError extends CodedError<PppLinkErrorCode> {
  override readonly name = 'PppLinkError';
}

/** True when `err` is a {@link PppLinkError} (optionally with the given code). */
export function isPppLinkError(err: unknown, code?: PppLinkErrorCode): err is PppLinkError {
  return hasCode(err, PppLinkError, code);
}

/** Shorthand for an INVALID_OPTIONS error. */
export function invalidOptions(message: string): PppLinkError {
  return new PppLinkError('INVALID_OPTIONS', message);
}
