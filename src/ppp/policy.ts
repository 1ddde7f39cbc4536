/**
 * The narrow interface between the generic automaton ({@link Fsm}) and one
 * control protocol (LCP, IPCP, IPv6CP). A policy owns that protocol's option
 * sets (want / allow / got / his) and decides each option; the automaton owns
 * states, timers, ids and the Ack/Nak/Reject bookkeeping.
 */

import type { PacketPrinter } from './format.js';
import type { RawOption } from './options.js';
import type { ControlPacket } from './packet.js';

/** What the receiver of a Configure-Request thinks of one option (RFC 1661 §5.2-5.4). */
export type OptionVerdict =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly data: Uint8Array }
  | { readonly kind: 'reject' };

/** Shared verdict instances (no allocation on the common path). */
export const ACK: OptionVerdict = Object.freeze({ kind: 'ack' });
export const REJECT: OptionVerdict = Object.freeze({ kind: 'reject' });

/** A Nak suggesting `data` (option data after type and length). */
export function nak(data: Uint8Array): OptionVerdict {
  return { kind: 'nak', data };
}

/** How the automaton should treat a code it does not handle itself (codes > 7). */
export type ExtraCodeKind = 'rxr' | 'protrej' | 'ignore';

/** Reply the policy wants sent for an RXR event (e.g. Echo-Reply). */
export interface PolicyReply {
  code: number;
  id: number;
  data: Uint8Array;
}

/** Protocol-specific negotiation policy plugged into {@link Fsm}. */
export interface FsmPolicy {
  /** PPP protocol number of this control protocol. */
  readonly protocol: number;
  /** Prints this protocol's packets (name, option codecs, extra codes). */
  readonly printer: PacketPrinter;
  /** A new negotiation starts: `got := want` (pppd `resetci`). */
  resetNegotiation(): void;
  /** Options of our next Configure-Request, from `got`. */
  ownOptions(): RawOption[];
  /** The peer's Configure-Request is about to be evaluated: clear `his`. */
  beginPeerRequest(): void;
  /** Judges one option of the peer's Configure-Request and records it in `his`. */
  onPeerOption(type: number, data: Uint8Array): OptionVerdict;
  /**
   * After all options, with no Reject pending: options the peer did not
   * include but should (RFC 1661 §5.3, last paragraph). `nakAllowed` is false
   * once the Nak loop limit is reached.
   */
  missingOptions?(nakAllowed: boolean): RawOption[];
  /**
   * Options whose Naks never turn into Rejects at the Max-Failure limit
   * (pppd exempts the LCP Magic-Number, so a looped-back link keeps being
   * detected instead of "agreeing" to run without magic numbers).
   */
  nakExempt?(type: number): boolean;
  /** The peer acked exactly our last request. */
  onAck(): void;
  /** The peer Nak'd these options; adjust `got`. False = invalid Nak, discard. */
  onNak(options: RawOption[]): boolean;
  /** The peer rejected these options (already checked to be ours, unchanged). False = invalid. */
  onReject(options: RawOption[]): boolean;
  /** A fatal condition found while negotiating (loopback, auth refused); read once. */
  takeFatal?(): string | null;
  /** Explanation appended when negotiation does not converge. */
  failureHint?(): string | null;
  /** Classifies codes above 7; null = unknown (Code-Reject, RUC). */
  extraCode?(code: number): ExtraKindOrNull;
  /** RXR in Opened (`ser`): e.g. answer an Echo-Request. */
  onRxr?(pkt: ControlPacket, nowMs: number): PolicyReply | null;
  /** Protocol-Reject received: true when it is catastrophic for this layer (RXJ-). */
  onProtocolReject?(pkt: ControlPacket): boolean;
  /** Code-Reject of a code above 7 (RXJ+): e.g. stop sending echoes. */
  onCodeReject?(rejectedCode: number): void;
}

/** {@link ExtraCodeKind} or null. */
export type ExtraKindOrNull = ExtraCodeKind | null;
