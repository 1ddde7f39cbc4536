/**
 * The Network phase's bookkeeping (RFC 1661 §3.6): which network control protocols
 * are running, up or finished, whether the ones the engine needs can still come up,
 * and the negotiation deadline. pppd ends the link when its last NCP finishes
 * (`np_finished` → `lcp_close("No network protocols running")`); this does the same,
 * says which protocol failed and why, and adds a deadline for an NCP that stalls.
 * Pure bookkeeping: the engine asks and acts.
 */

/** The network protocols one engine runs. */
/** pppd's words (and ours) when a link ends because no network protocol is left. */
export const NO_NETWORK_PROTOCOLS = 'No network protocols running';

export type NcpKind = 'ipv4' | 'ipv6';

/**
 * Which network protocols the link needs:
 *  - `any` (pppd): at least one of the enabled ones; the link ends when all have finished;
 *  - `ipv4` / `ipv6`: that one; the link ends as soon as it finished;
 *  - `all`: every enabled one; the link ends as soon as one finished.
 */
export type RequiredNetwork = 'any' | 'ipv4' | 'ipv6' | 'all';

/** pppd's name of each NCP, as in its log lines. */
const NCP_NAME: Record<NcpKind, string> = { ipv4: 'IPCP', ipv6: 'IPV6CP' };

interface NcpState {
  up: boolean;
  finished: boolean;
  /** Why it finished, naming option and address when known ("IPCP failed: …"). */
  failure: string | null;
}

/** The Network phase of one engine. */
export class NetworkPhase {
  private readonly require: RequiredNetwork;
  private readonly timeoutMs: number;
  private readonly ncps: Map<NcpKind, NcpState>;
  private deadlineAt: number | null;

  /** `enabled`: the NCPs this engine runs; `timeoutMs` 0 = no deadline. */
  constructor(require: RequiredNetwork, enabled: readonly NcpKind[], timeoutMs: number) {
    this.require = require;
    this.timeoutMs = timeoutMs;
    this.ncps = new Map(enabled.map((k) => [k, { up: false, finished: false, failure: null }]));
    this.deadlineAt = null;
  }

  /** Number of NCPs this engine runs. */
  get size(): number {
    return this.ncps.size;
  }

  /** The negotiation deadline, or null. */
  get deadline(): number | null {
    return this.deadlineAt;
  }

  /** Starts the deadline at `nowMs` unless one runs or there is none. */
  arm(nowMs: number): void {
    if (this.timeoutMs > 0 && this.deadlineAt === null) this.deadlineAt = nowMs + this.timeoutMs;
  }

  /** Stops the deadline. */
  disarm(): void {
    this.deadlineAt = null;
  }

  /** True when the deadline has passed at `nowMs`. */
  expired(nowMs: number): boolean {
    return this.deadlineAt !== null && nowMs >= this.deadlineAt;
  }

  /** A (new) Network phase starts: every NCP runs again. */
  enter(): void {
    for (const s of this.ncps.values()) {
      s.up = false;
      s.finished = false;
      s.failure = null;
    }
  }

  /** True while the NCP is Opened (and its up event was reported). */
  isUp(kind: NcpKind): boolean {
    return this.ncps.get(kind)?.up === true;
  }

  /** True once the NCP finished in this Network phase. */
  hasFinished(kind: NcpKind): boolean {
    return this.ncps.get(kind)?.finished === true;
  }

  /** The NCP reached Opened. */
  up(kind: NcpKind): void {
    const s = this.ncps.get(kind);
    if (s === undefined) return;
    s.up = true;
    s.finished = false;
  }

  /** The NCP left Opened. */
  down(kind: NcpKind): void {
    const s = this.ncps.get(kind);
    if (s !== undefined) s.up = false;
  }

  /** LCP left Opened: nothing is up or finished any more. */
  reset(): void {
    this.enter();
  }

  /**
   * The NCP finished (This-Layer-Finished) with `failure` ("IPCP failed: …"). Returns the
   * reason to end the link with when the needed protocols can no longer come up, else null.
   */
  finished(kind: NcpKind, failure: string): string | null {
    const s = this.ncps.get(kind);
    if (s === undefined || s.finished) return null;
    s.finished = true;
    s.up = false;
    s.failure = failure;
    return this.lost();
  }

  /** True when the needed protocols are up. */
  get satisfied(): boolean {
    const v4 = this.ncps.get('ipv4');
    const v6 = this.ncps.get('ipv6');
    switch (this.require) {
      case 'ipv4':
        return v4?.up === true;
      case 'ipv6':
        return v6?.up === true;
      case 'all':
        return this.ncps.size > 0 && [...this.ncps.values()].every((s) => s.up);
      default:
        return [...this.ncps.values()].some((s) => s.up);
    }
  }

  /** Reason to end the link because the needed protocols can no longer come up, or null. */
  lost(): string | null {
    const all = [...this.ncps.values()];
    const failures = all.filter((s) => s.finished && s.failure !== null).map((s) => s.failure);
    const why = failures.length > 0 ? ` (${failures.join('; ')})` : '';
    if (all.every((s) => s.finished)) return `${NO_NETWORK_PROTOCOLS}${why}`;
    const one = (k: NcpKind, label: string): string | null => {
      const s = this.ncps.get(k);
      return s?.finished === true ? `${s.failure ?? `${NCP_NAME[k]} finished`}; ${label}` : null;
    };
    if (this.require === 'ipv4') return one('ipv4', 'IPv4 is required');
    if (this.require === 'ipv6') return one('ipv6', 'IPv6 is required');
    if (this.require === 'all') {
      for (const k of this.ncps.keys()) {
        const r = one(k, 'every network protocol is required');
        if (r !== null) return r;
      }
    }
    return null;
  }

  /**
   * Reason for the negotiation timeout: what is not up, with each NCP's state or failure
   * (`states`: RFC 1661 state names), or LCP's state when `lcpState` is given (LCP not up).
   */
  timeoutReason(states: Partial<Record<NcpKind, string>>, lcpState: string | null): string {
    const secs = Math.round(this.timeoutMs / 100) / 10;
    const what =
      this.require === 'ipv4'
        ? 'IPv4 (IPCP) was not up'
        : this.require === 'ipv6'
          ? 'IPv6 (IPV6CP) was not up'
          : this.require === 'all'
            ? 'not every network protocol was up'
            : 'no network protocol was up';
    const parts: string[] = [];
    if (lcpState !== null) parts.push(`LCP ${lcpState}`);
    else
      for (const [k, s] of this.ncps) {
        if (s.up) parts.push(`${NCP_NAME[k]} up`);
        else if (s.failure !== null) parts.push(s.failure);
        else parts.push(`${NCP_NAME[k]} ${states[k] ?? 'not started'}`);
      }
    return `${what} within ${secs} s${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
  }
}

/** The NCP kind of a protocol name, for log text. */
export function ncpName(kind: NcpKind): string {
  return NCP_NAME[kind];
}
