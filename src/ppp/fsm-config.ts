/** Limits, timing and counters of the RFC 1661 automaton (fsm.ts). */

/** Timing and retry limits (RFC 1661 §4.6). */
export interface FsmConfig {
  /** Restart timer in ms; pppd uses 3000. */
  restartMs: number;
  /** Configure-Requests sent before giving up; default 10. */
  maxConfigure: number;
  /** Terminate-Requests sent before giving up; default 2. */
  maxTerminate: number;
  /** Naks sent without an Ack before they turn into Rejects; default 5. */
  maxFailure: number;
  /** Footnote p: after TO- stay in Stopped and keep waiting. */
  passive: boolean;
  /** Do not send a Configure-Request until the peer's first one arrives. */
  silent: boolean;
}

/** Defaults of {@link FsmConfig}, matching pppd. */
export const DEFAULT_FSM_CONFIG: Readonly<FsmConfig> = Object.freeze({
  restartMs: 3000,
  maxConfigure: 10,
  maxTerminate: 2,
  maxFailure: 5,
  passive: false,
  silent: false,
});

/** Per-automaton counters. */
export interface FsmStats {
  /** Replies with the wrong id, duplicates, or Acks that do not match our request. */
  staleReplies: number;
  /** Malformed packets or options, invalid Naks/Rejects. */
  badPackets: number;
  /** Events the table marks illegal ("-"), ignored. */
  illegalEvents: number;
  /** Code-Rejects sent. */
  codeRejectsSent: number;
  /** Configure-Requests sent (including retransmissions). */
  confReqsSent: number;
}
