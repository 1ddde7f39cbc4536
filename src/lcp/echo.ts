/**
 * LCP keepalive (RFC 1661 §5.8 Echo-Request/Reply), like pppd's
 * lcp-echo-interval / lcp-echo-failure: the first Echo-Request goes out when
 * LCP opens, then one per interval; when `failures` requests in a row got no
 * reply the link is declared dead. Echo identifiers count on their own,
 * starting at 0 (pppd). Sans-IO: a deadline plus {@link EchoKeepalive.poll}.
 */

/** What the keepalive wants done at a deadline. */
export type EchoAction = { kind: 'send'; id: number } | { kind: 'fail' } | null;

/** Echo keepalive state for one LCP session. */
export class EchoKeepalive {
  readonly intervalMs: number;
  readonly failures: number;
  private running = false;
  private deadline: number | null = null;
  private nextEchoId = 0;
  /** Requests sent since the last reply. */
  private pending = 0;
  /** Send time of each outstanding id (NaN when none), for RTT. */
  private readonly sentAt = new Float64Array(256).fill(Number.NaN);
  /** Round-trip time of the last answered echo, ms (NaN if none yet). */
  lastRttMs = Number.NaN;
  /** Echo-Requests sent / Echo-Replies matched. */
  sent = 0;
  answered = 0;

  constructor(intervalMs: number, failures: number) {
    this.intervalMs = intervalMs;
    this.failures = failures;
  }

  /** True when configured (interval > 0). */
  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /** LCP opened: first echo now. */
  start(nowMs: number): void {
    if (!this.enabled) return;
    this.running = true;
    this.pending = 0;
    this.sentAt.fill(Number.NaN);
    this.deadline = nowMs;
  }

  /** LCP left Opened, or the peer Code-Rejected echoes. */
  stop(): void {
    this.running = false;
    this.deadline = null;
  }

  nextDeadline(): number | null {
    return this.running ? this.deadline : null;
  }

  /** At or after the deadline: send the next request, or report failure. */
  poll(nowMs: number): EchoAction {
    if (!this.running || this.deadline === null || nowMs < this.deadline) return null;
    if (this.failures > 0 && this.pending >= this.failures) {
      this.stop();
      return { kind: 'fail' };
    }
    const id = this.nextEchoId;
    this.nextEchoId = (this.nextEchoId + 1) & 0xff;
    this.pending++;
    this.sent++;
    this.sentAt[id] = nowMs;
    this.deadline = nowMs + this.intervalMs;
    return { kind: 'send', id };
  }

  /** An Echo-Reply with `id` arrived; returns the RTT in ms, or null if unexpected. */
  onReply(id: number, nowMs: number): number | null {
    const t = this.sentAt[id & 0xff];
    if (Number.isNaN(t)) return null;
    this.sentAt[id & 0xff] = Number.NaN;
    this.pending = 0;
    this.answered++;
    this.lastRttMs = nowMs - t;
    return this.lastRttMs;
  }
}
