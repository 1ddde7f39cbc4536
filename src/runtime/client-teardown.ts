/**
 * How `ts-vpn up` ends: close() (graceful: down hook, LCP Terminate, bounded wait),
 * fail() (the tunnel gives up) and the one teardown both lead to, run once: down hook
 * if owed, link ended, SSH closed, routes and TUN removed, control socket closed, state
 * released, then `closed` and `done`. ClientTunnel owns the parts; this file owns the
 * order in which they go away and the `closing` state.
 */
import type { ClientLink } from './client-link.js';
import type { ClientNetwork } from './client-network.js';
import type { ControlServer } from './control.js';
import type { FailureKind } from './errors.js';
import type { ReconnectLoop } from './reconnect-loop.js';
import type { SdNotifier } from './sd-notify.js';
import type { ServerRouteWatch } from './server-watch.js';
import type { TunnelStateDir } from './state-dir.js';
import type { TunnelPhase } from './status-format.js';

/** How a tunnel ended. */
export interface TunnelExit {
  kind: FailureKind;
  message: string;
}

/** The tunnel's parts the teardown removes, and what it reads and calls on the tunnel. */
export interface TeardownParts {
  readonly sd: SdNotifier | null;
  readonly reconnect: ReconnectLoop;
  readonly routeWatch: ServerRouteWatch | null;
  readonly net: ClientNetwork;
  readonly stateDir: TunnelStateDir;
  phase(): TunnelPhase;
  /** start() completed, or handed the first failure to the reconnect loop. */
  started(): boolean;
  link(): ClientLink | null;
  control(): ControlServer | null;
  setPhase(p: TunnelPhase): void;
  runDownHook(phase: 'stopping'): Promise<void>;
  endLink(link: ClientLink, kind: FailureKind, message: string): void;
  closed(exit: TunnelExit): void;
}

export class ClientTeardown {
  closing = false;
  /** Resolves once, after teardown, with how the tunnel ended. Never rejects. */
  readonly done: Promise<TunnelExit>;
  private resolveDone!: (e: TunnelExit) => void;
  /** Fired by close() and teardown: a connect in flight gives up rather than waiting out connect-timeout. */
  private readonly stopConnecting = new AbortController();
  private tornDown: Promise<void> | null = null;

  constructor(private readonly t: TeardownParts) {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Aborted once the tunnel is closing: the SSH connect of an attempt gives up. */
  get signal(): AbortSignal {
    return this.stopConnecting.signal;
  }

  /** The teardown has begun (finish() ran). */
  get finishing(): boolean {
    return this.tornDown !== null;
  }

  /** Graceful teardown (down hook, LCP Terminate, bounded wait); resolves when everything is removed. */
  async close(reason: string): Promise<TunnelExit> {
    const t = this.t;
    if (!this.closing) {
      const neverStarted = t.phase() === 'idle';
      this.closing = true;
      t.sd?.stopping(`stopping: ${reason}`);
      t.setPhase('closing');
      t.reconnect.wake();
      this.stopConnecting.abort();
      const link = t.link();
      // The down hook runs while the link and routes still exist.
      if (link && !link.ended && link.up) await t.runDownHook('stopping');
      if (link && !link.ended) {
        link.session.close(reason);
        await Promise.race([link.finished, delay(1000)]);
        t.endLink(link, 'ok', 'closed');
      }
      // Before the first bring-up completed, start() finishes (its attempt fails and sees `closing`).
      if (t.started() || neverStarted) {
        void this.finish({ kind: 'ok', message: reason === 'User request' ? 'closed' : reason });
      }
    }
    return this.done;
  }

  async fail(kind: FailureKind, message: string): Promise<void> {
    const t = this.t;
    if (this.closing) return;
    this.closing = true;
    t.sd?.stopping(`stopping: ${message}`);
    const link = t.link();
    if (link && !link.ended) {
      link.session.close('Link failure');
      await Promise.race([link.finished, delay(1000)]);
      t.endLink(link, kind, message);
    }
    await this.finish({ kind, message });
  }

  /** Removes everything, once, then resolves `done`. */
  finish(exit: TunnelExit): Promise<void> {
    const t = this.t;
    if (this.tornDown) return this.tornDown;
    this.closing = true;
    this.stopConnecting.abort();
    this.tornDown = (async () => {
      t.setPhase('closing');
      t.reconnect.wake();
      t.routeWatch?.close();
      const link = t.link();
      if (link && !link.ended) {
        if (link.up) await t.runDownHook('stopping');
        t.endLink(link, exit.kind, exit.message);
      } else if (t.net.iface && t.net.routesAdded) await t.runDownHook('stopping');
      await Promise.all([link?.transport.close(), t.net.close()]);
      const control = t.control();
      if (control) await control.close().catch(() => undefined);
      t.stateDir.release();
      t.setPhase('closed');
      t.closed(exit);
      this.resolveDone(exit);
    })();
    return this.tornDown;
  }
}

function delay(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, t).unref());
}
