/**
 * Local-misuse errors of the protocol core. Peer input never throws (it is
 * counted and dropped); these only report mistakes of the embedding program.
 */
import { CodedError } from '../coded-error.js';

/** Stable machine-readable codes of {@link PppError}. */
export type PppErrorCode =
  | 'ERR_PPP_BAD_OPTION' /** an engine option has an invalid value */
  | 'ERR_PPP_BAD_STATE' /** a call that the current state does not allow */
  | 'ERR_PPP_BAD_ARGUMENT'; /** an argument out of range */

/** Error thrown on local API misuse, with a stable `code`. */
export class PppError extends CodedError<PppErrorCode> {
  override readonly name = 'PppError';
}
