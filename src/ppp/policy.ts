/**
 * The narrow interface between the generic automaton ({@link Fsm}) and one
 * control protocol (LCP, IPCP, IPv6CP). A policy owns that protocol's option
 * sets (want / allow / got / his) and decides each option; the automaton owns
 * states, timers, ids and the Ack/Nak/Reject bookkeeping, and parses every
 * received option through the protocol's codec table (`printer.options`) before
 * the policy sees it: a malformed option is Rejected (peer request) or makes the
 * Nak invalid (our request) without asking the policy. LCP's extra codes and its
 * Magic-Number exemption are {@link LcpHooks}, wired for LCP alone.
 */

import type { PacketPrinter } from './format.js';
import { type ParsedOption, parseOption, parseOptionList, type RawOption } from './options.js';
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

/**
 * One protocol's option values (pppd's want / allow / got / his) as plain fields, so a
 * whole set is copied and reset in one place rather than field by field per protocol.
 */
export abstract class OptionValues {
  /** Copies every field from `o` (a set of the same class). */
  copyFrom(o: this): void {
    Object.assign(this, o);
  }

  /** Back to "nothing negotiated": the values of a fresh set. */
  clear(): void {
    Object.assign(this, new (this.constructor as new () => this)());
  }
}

/**
 * A peer's Configure-Reject applied to our options: each rejected option's action turns
 * it off in what we request. An option without an action is not one we could have sent:
 * the Reject is invalid (false), as RFC 1661 §5.4 says to treat it.
 */
export function rejectEach(
  options: readonly ParsedOption[],
  actions: Readonly<Record<number, () => void>>,
): boolean {
  for (const o of options) {
    const turnOff = actions[o.type];
    if (turnOff === undefined) return false;
    turnOff();
  }
  return true;
}

/** A fatal condition a policy finds while negotiating (loopback, auth refused), read once. */
export class FatalLatch {
  protected fatal: string | null = null;

  /** {@link FsmPolicy.takeFatal}: the condition, once; null when none. */
  takeFatal(): string | null {
    const f = this.fatal;
    this.fatal = null;
    return f;
  }
}

/** How the automaton should treat a code it does not handle itself (codes > 7). */
export type ExtraCodeKind = 'rxr' | 'protrej' | 'ignore';

/** Reply the policy wants sent for an RXR event (e.g. Echo-Reply). */
export interface PolicyReply {
  code: number;
  id: number;
  data: Uint8Array;
}

/** Protocol-specific option negotiation plugged into {@link Fsm}. */
export interface FsmPolicy {
  /** PPP protocol number of this control protocol. */
  readonly protocol: number;
  /** Prints this protocol's packets; its `options` table is also how options are parsed. */
  readonly printer: PacketPrinter;
  /** A new negotiation starts: `got := want` (pppd `resetci`). */
  resetNegotiation(): void;
  /** Options of our next Configure-Request, from `got`. */
  ownOptions(): RawOption[];
  /** The peer's Configure-Request is about to be evaluated: clear `his`. */
  beginPeerRequest(): void;
  /** Judges one well-formed option of the peer's Configure-Request and records it in `his`. */
  onPeerOption(option: ParsedOption): OptionVerdict;
  /**
   * After all options, with no Reject pending: options the peer did not
   * include but should (RFC 1661 §5.3, last paragraph). `nakAllowed` is false
   * once the Nak loop limit is reached.
   */
  missingOptions?(nakAllowed: boolean): RawOption[];
  /** The peer acked exactly our last request. */
  onAck(): void;
  /** The peer Nak'd these (well-formed) options; adjust `got`. False = invalid Nak, discard. */
  onNak(options: ParsedOption[]): boolean;
  /** The peer rejected these options (already checked to be ours, unchanged). False = invalid. */
  onReject(options: ParsedOption[]): boolean;
  /** A fatal condition found while negotiating (loopback, auth refused); read once. */
  takeFatal?(): string | null;
  /** Explanation appended when negotiation does not converge. */
  failureHint?(): string | null;
}

/** LCP's additions to the automaton (RFC 1661 §5.7-5.9 codes, §6.4 Magic-Number). */
export interface LcpHooks {
  /**
   * Options whose Naks never turn into Rejects at the Max-Failure limit
   * (pppd exempts the LCP Magic-Number, so a looped-back link keeps being
   * detected instead of "agreeing" to run without magic numbers).
   */
  nakExempt(type: number): boolean;
  /** Classifies codes above 7; null = unknown (Code-Reject, RUC). */
  extraCode(code: number): ExtraKindOrNull;
  /** RXR in Opened (`ser`): e.g. answer an Echo-Request. */
  onRxr(pkt: ControlPacket, nowMs: number): PolicyReply | null;
  /** Protocol-Reject received: true when it is catastrophic for this layer (RXJ-). */
  onProtocolReject(pkt: ControlPacket): boolean;
  /** Code-Reject of a code above 7 (RXJ+): e.g. stop sending echoes. */
  onCodeReject(rejectedCode: number): void;
}

/** {@link ExtraCodeKind} or null. */
export type ExtraKindOrNull = ExtraCodeKind | null;

/**
 * One option of the peer's Configure-Request judged as the automaton does: parsed through
 * the policy's codecs; a malformed one is Rejected without asking the policy.
 */
export function judgePeerOption(policy: FsmPolicy, option: RawOption): OptionVerdict {
  const parsed = parseOption(policy.printer.options, option);
  return parsed === null ? REJECT : policy.onPeerOption(parsed);
}

/** A Nak handed to the policy as the automaton does: false (invalid) when an option is malformed. */
export function applyNak(policy: FsmPolicy, options: readonly RawOption[]): boolean {
  const parsed = parseOptionList(policy.printer.options, options);
  return parsed !== null && policy.onNak(parsed);
}

/** A Reject handed to the policy as the automaton does: false (invalid) when an option is malformed. */
export function applyReject(policy: FsmPolicy, options: readonly RawOption[]): boolean {
  const parsed = parseOptionList(policy.printer.options, options);
  return parsed !== null && policy.onReject(parsed);
}
