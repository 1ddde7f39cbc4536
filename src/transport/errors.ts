/** Stable error codes of the transport layer (safe to switch on, print and test). */
import { CodedError, hasCode } from '../coded-error.js';
export type TransportErrorCode =
  /** No known_hosts entry and no accept-new / pinned fingerprint. */
  | 'HOST_KEY_UNKNOWN'
  /** known_hosts has a different key of the same type, or the pinned fingerprint differs. */
  | 'HOST_KEY_MISMATCH'
  /** The key is listed under `@revoked`. */
  | 'HOST_KEY_REVOKED'
  /** Every authentication method was tried and refused. */
  | 'AUTH_FAILED'
  /** An identity file could not be read or decrypted (missing file, bad passphrase). */
  | 'IDENTITY_INVALID'
  /** No SSH handshake/authentication within readyTimeout. */
  | 'CONNECT_TIMEOUT'
  /** TCP connection refused (nothing listens on host:port). */
  | 'CONNECT_REFUSED'
  /** Other TCP connect failures (EHOSTUNREACH, ENETUNREACH, …). */
  | 'CONNECT_FAILED'
  /** The host name does not resolve. */
  | 'DNS'
  /** The server refused the session channel or the exec request. */
  | 'EXEC_FAILED'
  /** A local command could not be started. */
  | 'SPAWN_FAILED'
  /** Any other SSH protocol error. */
  | 'SSH_ERROR'
  /** The caller gave the attempt up (its AbortSignal fired: close() while connecting). */
  | 'ABORTED';

export class TransportError extends CodedError<TransportErrorCode> {
  override readonly name = 'TransportError';
}

export function isTransportError(err: unknown, code?: TransportErrorCode): err is TransportError {
  return hasCode(err, TransportError, code);
}
