/**
 * The client's one rtnetlink watch on the route to the SSH server, kept for the
 * tunnel's lifetime and replaced only when the server address changes. A change
 * of that route (another device, gateway, source; link down/up) is reported once.
 */
import { NetConfig } from '../tun/index.js';
import type { Logger } from './logger.js';
import { type RouteWatch, watchRouteTo } from './net-watch.js';

export class ServerRouteWatch {
  private current: { addr: string; watch: RouteWatch; net: NetConfig } | null = null;

  constructor(
    private readonly log: Logger,
    /** `pathUp`: the route exists and its link is up (worth retrying at once). */
    private readonly onChange: (reason: string, pathUp: boolean) => void,
  ) {}

  /** Watches the route to `addr` (no-op when already watching it). `closing()` is asked once it is set up. */
  async ensure(addr: string, closing: () => boolean): Promise<void> {
    if (this.current?.addr === addr) return;
    this.close();
    const net = new NetConfig();
    try {
      const watch = await watchRouteTo(
        addr,
        net,
        (c) => this.onChange(c.reason, c.after !== null && c.linkUp),
        { log: this.log },
      );
      if (closing()) {
        watch.close();
        net.close();
        return;
      }
      this.current = { addr, watch, net };
    } catch (err) {
      net.close();
      this.log.warn(`cannot watch the route to ${addr}: ${(err as Error).message}`);
    }
  }

  close(): void {
    const w = this.current;
    if (!w) return;
    this.current = null;
    w.watch.close();
    w.net.close();
  }
}
