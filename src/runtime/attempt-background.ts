/**
 * What one connection attempt of `ts-vpn up` starts beside SSH rather than before it.
 *
 * The first SSH byte need not wait for the route snapshot (koffi and an rtnetlink dump),
 * the TUN/netlink code or the framing kernels: they start once the TCP connection is up
 * and ssh2's identification line is written (`start()` from onTcpConnected), one piece
 * per event-loop turn so the server's answers are read in between, and at the latest
 * when the far end is about to start (beforeStart calls `start()` too, then awaits
 * `routeGuard`). The snapshot is of the routes as they are before this negotiation:
 * far-end addresses inside them are refused. The TUN/netlink code is awaited when IPCP
 * opens (interface-loader.ts).
 */
import { LinkSession } from '../link/index.js';
import { loadInterfaceModule } from './interface-loader.js';
import type { RouteGuard } from './route-guard.js';

export class AttemptBackground {
  /** The route snapshot; taken once start() ran, never rejects (RouteGuard.snapshot). */
  readonly routeGuard: Promise<RouteGuard>;
  private begin!: () => void;
  private started = false;

  constructor(snapshot: () => Promise<RouteGuard>) {
    this.routeGuard = new Promise<void>((resolve) => {
      this.begin = resolve;
    }).then(snapshot);
  }

  /** Starts the background work; later calls do nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.begin();
    setImmediate(() => {
      loadInterfaceModule().catch(() => undefined);
      setImmediate(warmLinkCode);
    });
  }
}

/**
 * One throw-away link, never on any stream: compiles the framing kernels (WebAssembly)
 * and the engine's first-frame path while SSH negotiates, instead of after the channel
 * opens (the first link of a process is the slow one; the gateway daemon does the same).
 */
function warmLinkCode(): void {
  try {
    const link = new LinkSession(
      { write: () => true, onData: () => undefined, onDrain: () => undefined },
      { engine: { random32: () => 0 } },
    );
    link.start();
    link.stop();
  } catch {
    /* only a head start: the real link reports its own errors */
  }
}
