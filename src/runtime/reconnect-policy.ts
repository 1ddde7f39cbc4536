/**
 * When to bring a tunnel back after a fault: pppd's `persist` / `holdoff` /
 * `maxfail`, with capped exponential backoff and jitter. Pure logic: no timers,
 * no clock, no randomness of its own (time is passed in, `random` is injected).
 *
 *   failure n (in a row)   wait
 *   1                      holdoff
 *   n ≥ 2                  min(maxBackoff, step · 2^(n-1)),  step = holdoff, or 1 s when holdoff is 0
 *   each wait is then shortened by up to `jitter` (a fraction), never lengthened,
 *   so the cap holds and many clients do not reconnect in lockstep.
 *
 * Failures count "in a row": a link that reached `up` and stayed up at least
 * `stableMs` resets the count (a flapping link that drops within seconds keeps
 * backing off). `maxFail` > 0 gives up on the maxFail-th failure in a row, like
 * pppd; 0 retries forever. A `permanent` failure (bad config, host key) never
 * retries.
 */

export interface ReconnectPolicyOptions {
  /** Reconnect at all (PeerConfig.reconnect.enabled); default true. */
  enabled?: boolean;
  /** First wait (PeerConfig.reconnect.holdoffMs). */
  holdoffMs: number;
  /** Cap of the wait (PeerConfig.reconnect.maxBackoffMs). */
  maxBackoffMs: number;
  /** Give up after this many failures in a row; 0 = never (PeerConfig.reconnect.maxFail). */
  maxFail: number;
  /** A link up at least this long counts as a success; default 30 000 ms. */
  stableMs?: number;
  /** Fraction (0..1) by which a wait may be shortened at random; default 0.2. */
  jitter?: number;
  /** Uniform in [0, 1); default Math.random. Inject a fixed one in tests. */
  random?: () => number;
}

export interface ReconnectDecision {
  /** Try again after delayMs; false = give up (the runtime exits with LINK_LOST). */
  retry: boolean;
  /** Wait before the next attempt (0 when retry is false). */
  delayMs: number;
  /** Number of the next attempt in this outage (1 = the first reconnect). */
  attempt: number;
  /** Failures in a row, including this one. */
  failures: number;
  /** Why we give up, when retry is false. */
  giveUp?: string;
}

export interface ReconnectStats {
  /** Failures in a row now. */
  failures: number;
  /** Times the tunnel came back up after a fault (for `ts-vpn status`). */
  reconnects: number;
  lastReason: string | null;
  /** nowMs of the last failure. */
  lastFailureAt: number | null;
  /** From the first failure of the last outage to `up` again (time to recover). */
  lastRecoverMs: number | null;
  /** The current outage began at (null while up or before the first failure). */
  outageSince: number | null;
}

export class ReconnectPolicy {
  private readonly enabled: boolean;
  private readonly holdoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxFail: number;
  private readonly stableMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  private failures = 0;
  private upAt: number | null = null;
  private outageSince: number | null = null;
  private everUp = false;
  private reconnects = 0;
  private lastReason: string | null = null;
  private lastFailureAt: number | null = null;
  private lastRecoverMs: number | null = null;

  constructor(opts: ReconnectPolicyOptions) {
    const num = (v: number, what: string) => {
      if (!Number.isFinite(v) || v < 0)
        throw new RangeError(`ReconnectPolicy: ${what} must be a number ≥ 0, got ${v}`);
      return v;
    };
    this.enabled = opts.enabled ?? true;
    this.holdoffMs = num(opts.holdoffMs, 'holdoffMs');
    this.maxBackoffMs = Math.max(num(opts.maxBackoffMs, 'maxBackoffMs'), this.holdoffMs);
    this.maxFail = Math.floor(num(opts.maxFail, 'maxFail'));
    this.stableMs = num(opts.stableMs ?? 30_000, 'stableMs');
    this.jitter = Math.min(1, num(opts.jitter ?? 0.2, 'jitter'));
    this.random = opts.random ?? Math.random;
  }

  /** The wait before attempt n (1-based) without jitter. */
  baseDelay(attempt: number): number {
    if (attempt <= 1) return Math.min(this.holdoffMs, this.maxBackoffMs);
    const step = this.holdoffMs > 0 ? this.holdoffMs : 1000;
    // 2^(n-1) overflows to Infinity for huge n, which min() caps.
    return Math.min(this.maxBackoffMs, step * 2 ** (attempt - 1));
  }

  /** The link reached `up` (PPP network phase, routes in place). */
  onUp(nowMs: number): void {
    if (this.outageSince !== null && this.everUp) {
      this.reconnects++;
      this.lastRecoverMs = Math.max(0, nowMs - this.outageSince);
    }
    this.everUp = true;
    this.outageSince = null;
    this.upAt = nowMs;
  }

  /**
   * The link failed: a connect/negotiation attempt failed, or an up link went
   * down. Returns whether and when to try again.
   */
  onFailure(reason: string, nowMs: number, opts: { permanent?: boolean } = {}): ReconnectDecision {
    if (this.upAt !== null && nowMs - this.upAt >= this.stableMs) this.failures = 0;
    this.upAt = null;
    this.failures++;
    this.lastReason = reason;
    this.lastFailureAt = nowMs;
    if (this.outageSince === null) this.outageSince = nowMs;
    const failures = this.failures;
    const no = (giveUp: string): ReconnectDecision => ({
      retry: false,
      delayMs: 0,
      attempt: failures,
      failures,
      giveUp,
    });
    if (opts.permanent) return no(`${reason} (not retried)`);
    if (!this.enabled) return no('reconnect is disabled');
    if (this.maxFail > 0 && failures >= this.maxFail)
      return no(
        `${failures} failure${failures === 1 ? '' : 's'} in a row (max-fail ${this.maxFail})`,
      );
    const base = this.baseDelay(failures);
    const r = Math.min(Math.max(this.random(), 0), 1);
    const delayMs = Math.round(base * (1 - this.jitter * r));
    return { retry: true, delayMs, attempt: failures, failures };
  }

  /** Forget the failures in a row (e.g. a manual `reconnect` request, or SIGHUP). */
  onSuccess(): void {
    this.failures = 0;
  }

  stats(): ReconnectStats {
    return {
      failures: this.failures,
      reconnects: this.reconnects,
      lastReason: this.lastReason,
      lastFailureAt: this.lastFailureAt,
      lastRecoverMs: this.lastRecoverMs,
      outageSince: this.outageSince,
    };
  }
}
