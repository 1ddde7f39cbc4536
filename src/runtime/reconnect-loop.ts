/**
 * The reconnect loop of `ts-vpn up`: after a lost link or a failed attempt, ask
 * the ReconnectPolicy (holdoff, capped backoff with jitter, max-fail), sleep
 * (wakeable by SIGHUP, `ts-vpn reconnect`, a network change), try again, and give
 * up through the tunnel's fail() when the policy says so. Failures that retrying
 * cannot fix (PERMANENT) end the tunnel at once.
 */
import { performance } from 'node:perf_hooks';
import { type FailureKind, type TunnelError, toTunnelError } from './errors.js';
import type { Logger } from './logger.js';
import { ReconnectPolicy, type ReconnectStats } from './reconnect-policy.js';
import type { TunnelPhase } from './status-format.js';

/** Kinds of failure that retrying cannot fix. */
export const PERMANENT: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'config',
  'host-key',
  'system',
  'internal',
  'busy',
]);

const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;

/** How the loop treats the tunnel's failures. */
function permanentFailure(e: TunnelError, retryRefusals: boolean): boolean {
  return PERMANENT.has(e.kind) || (e.refusal && !retryRefusals);
}

/** What the loop needs from its tunnel. */
export interface ReconnectHost {
  readonly log: Logger;
  readonly isClosing: boolean;
  /** The tunnel was up at least once. */
  readonly everUp: boolean;
  setPhase(p: TunnelPhase): void;
  /** One connection attempt; resolves once the tunnel is up again. */
  attempt(): Promise<void>;
  /** Ends the tunnel for good. */
  fail(kind: FailureKind, message: string): Promise<void>;
  /** The down hook of the link that ended (once per up). */
  runDownHook(phase: 'stopping' | 'reconnecting', upSince: number | null): Promise<void>;
  /** systemd: READY on the first call (boot must not wait), STATUS after. */
  notify(line: string): void;
}

export interface ReconnectSettings {
  enabled: boolean;
  holdoffMs: number;
  maxBackoffMs: number;
  maxFail: number;
  /**
   * Keep retrying when the far end refused us (PPP authentication, unacceptable
   * address): `reconnect.on-refusal: retry`. Default false: such a refusal ends the tunnel.
   */
  retryRefusals?: boolean;
}

export class ReconnectLoop {
  private readonly policy: ReconnectPolicy;
  private readonly enabled: boolean;
  private readonly retryRefusals: boolean;
  /** A manual reconnect (SIGHUP, control) is pending: not a failure, no wait. */
  private manual = false;
  private sleeper: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  /** The next attempt while reconnecting (for status). */
  nextAttempt: { attempt: number; at: number } | null = null;

  constructor(
    private readonly host: ReconnectHost,
    settings: ReconnectSettings,
  ) {
    this.enabled = settings.enabled;
    this.retryRefusals = settings.retryRefusals ?? false;
    this.policy = new ReconnectPolicy({
      enabled: settings.enabled,
      holdoffMs: settings.holdoffMs,
      maxBackoffMs: settings.maxBackoffMs,
      maxFail: settings.maxFail,
    });
  }

  /** Sleeping between attempts. */
  get waiting(): boolean {
    return this.sleeper !== null;
  }

  stats(): ReconnectStats {
    return this.policy.stats();
  }

  /** The tunnel is up (again). */
  onUp(now: number): void {
    this.policy.onUp(now);
    this.nextAttempt = null;
  }

  /** Ends the current wait at once (closing, or a network change brought the path back). */
  wake(): void {
    this.sleeper?.wake();
  }

  /** A manual reconnect: not a failure, no wait. */
  requestManual(): void {
    this.manual = true;
  }

  /**
   * The very first attempt failed (`retryStart`): starts the loop and returns true
   * when the policy retries this failure.
   */
  retryFirst(e: TunnelError): boolean {
    const message = e.message;
    const permanent = permanentFailure(e, this.retryRefusals);
    const d = this.policy.onFailure(message, performance.now(), { permanent });
    if (!d.retry) {
      if (e.refusal && !this.retryRefusals) this.refusalNote();
      return false;
    }
    this.host.log.warn(`${message}; reconnecting in ${secs(d.delayMs)} (attempt ${d.attempt})`);
    void this.run(d.attempt, d.delayMs, message);
    return true;
  }

  /** An up link is gone: ask the policy, log the decision, reconnect or give up. */
  onLinkLost(message: string, immediate: boolean, upSince: number | null): void {
    const host = this.host;
    const manual = this.manual;
    this.manual = false;
    if (manual) this.policy.onSuccess();
    let d = this.policy.onFailure(message, performance.now());
    if (!d.retry && manual) d = { ...d, retry: true, delayMs: 0 };
    if (!d.retry) {
      const off = !this.enabled;
      void (async () => {
        await host.runDownHook('stopping', upSince);
        await host.fail(
          'link-lost',
          `link lost: ${message}${off ? ' (reconnect is off)' : `; giving up: ${d.giveUp}`}`,
        );
      })();
      return;
    }
    const wait = manual || immediate ? 0 : d.delayMs;
    host.log.warn(`link lost: ${message}; reconnecting in ${secs(wait)} (attempt ${d.attempt})`);
    host.setPhase('reconnecting');
    this.nextAttempt = { attempt: d.attempt, at: Date.now() + wait };
    void (async () => {
      await host.runDownHook('reconnecting', upSince);
      await this.run(d.attempt, wait, message);
    })();
  }

  private async run(firstAttempt: number, firstWait: number, reason: string): Promise<void> {
    const host = this.host;
    let attempt = firstAttempt;
    let wait = firstWait;
    let why = reason;
    host.setPhase('reconnecting');
    while (!host.isClosing) {
      this.nextAttempt = { attempt, at: Date.now() + wait };
      host.notify(`reconnecting in ${secs(wait)} (attempt ${attempt}): ${why}`);
      await this.sleep(wait);
      if (host.isClosing) return;
      this.nextAttempt = { attempt, at: Date.now() };
      this.manual = false;
      try {
        await host.attempt();
        return;
      } catch (err) {
        if (host.isClosing) return;
        const e = toTunnelError(err);
        host.setPhase('reconnecting');
        const manual = this.manual;
        this.manual = false;
        if (manual) this.policy.onSuccess();
        const permanent = permanentFailure(e, this.retryRefusals);
        const d = this.policy.onFailure(e.message, performance.now(), { permanent });
        if (!d.retry) {
          if (e.refusal && !this.retryRefusals) this.refusalNote();
          host.log.error(
            `reconnect attempt ${attempt} failed: ${e.message}; giving up: ${d.giveUp}`,
          );
          await host.fail(
            permanent || !host.everUp ? e.kind : 'link-lost',
            permanent ? e.message : `link lost and reconnecting failed: ${e.message} (${d.giveUp})`,
          );
          return;
        }
        wait = manual ? 0 : d.delayMs;
        host.log.warn(
          `reconnect attempt ${attempt} failed: ${e.message}; reconnecting in ${secs(wait)} (attempt ${d.attempt})`,
        );
        attempt = d.attempt;
        why = e.message;
      }
    }
  }

  /** Says why a refusal is not retried, and how to make it so. */
  private refusalNote(): void {
    this.host.log.error(
      'a refusal that retrying cannot fix (authentication or addresses): not retrying (set reconnect.on-refusal: retry to keep trying)',
    );
  }

  private sleep(msToWait: number): Promise<void> {
    if (msToWait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeper = null;
        resolve();
      };
      const timer = setTimeout(wake, msToWait);
      this.sleeper = { timer, wake };
    });
  }
}
