/**
 * Notice at once when the path to the SSH server changes, instead of waiting
 * for SSH keepalives or LCP echoes to time out (tens of seconds): a laptop
 * moving from Wi-Fi to Ethernet, a cable pulled, a new default gateway.
 *
 * Built on NetConfig.getRouteTo (RTM_GETROUTE, like `ip route get`) and
 * NetConfig.watch (rtnetlink multicast: IPV4_ROUTE, IPV6_ROUTE, LINK). Every
 * notification schedules one re-check after `debounceMs` (a burst of route
 * messages gives one check); onChange is called when the answer differs from
 * the last one: other output device, gateway or source address, the route is
 * gone, or the output link lost "up"/carrier (or got it back). After a report
 * the new state is the baseline, so each change is reported once.
 *
 * Routes the tunnel itself installs do not trigger a report as long as the
 * server is still reached the same way (e.g. the host route kept for
 * `default-route: true` has the same device and gateway).
 */
import type { RouteInfo } from '../tun/netconfig.js';

/** What watchRouteTo needs from NetConfig (NetConfig satisfies it). */
export interface RouteSource {
  getRouteTo(addr: string): Promise<RouteInfo>;
  watch(
    onChange: (msg: WatchMessage) => void,
    groups?: Array<'IPV4_ROUTE' | 'IPV6_ROUTE' | 'LINK'>,
  ): () => void;
}

/** The part of an rtnetlink message we look at (netlink's rt.Message is compatible). */
export interface WatchMessage {
  kind: string;
  /** For `link`: { index, flags: { up, lowerUp } } (netlink's rt.LinkMessage). */
  data?: unknown;
}

export interface RouteChange {
  /** One line for the log, e.g. "route to 198.18.0.2 changed: dev 3 via 198.18.0.1 → dev 4 via 10.0.0.1". */
  reason: string;
  before: RouteInfo | null;
  after: RouteInfo | null;
  /** Whether the output link is up (admin up and carrier) now. */
  linkUp: boolean;
}

export interface RouteWatch {
  /** The route now believed in (null: no route to the server). */
  readonly current: RouteInfo | null;
  /** Re-check now (skips the debounce); resolves when done. */
  check(): Promise<void>;
  /** Stops watching (closes the netlink socket). Idempotent. */
  close(): void;
}

export interface WatchRouteOptions {
  /** Quiet time after the last notification before re-checking; default 200 ms. */
  debounceMs?: number;
  log?: { debug?(msg: string): void; warn(msg: string): void };
}

function describe(r: RouteInfo | null): string {
  if (!r) return 'no route';
  return `dev ${r.dev ?? '?'}${r.gateway ? ` via ${r.gateway}` : ''}${r.src ? ` src ${r.src}` : ''}`;
}

function sameRoute(a: RouteInfo | null, b: RouteInfo | null): boolean {
  if (!a || !b) return a === b;
  return a.dev === b.dev && a.gateway === b.gateway && a.src === b.src;
}

/**
 * Watches the route to `addr`. Resolves once the first route lookup is done
 * (the baseline). onChange is called at most once per debounce window and
 * never throws back into the watcher.
 */
export async function watchRouteTo(
  addr: string,
  net: RouteSource,
  onChange: (change: RouteChange) => void,
  opts: WatchRouteOptions = {},
): Promise<RouteWatch> {
  const debounceMs = opts.debounceMs ?? 200;
  const log = opts.log;
  const lookup = async (): Promise<RouteInfo | null> => {
    try {
      return await net.getRouteTo(addr);
    } catch {
      return null; // unreachable (or the lookup failed): treat as no route
    }
  };

  let current = await lookup();
  /** Link state by ifindex, from LINK notifications (unknown = up). */
  const linkUp = new Map<number, boolean>();
  const isUp = (r: RouteInfo | null) => (r?.dev === undefined ? true : (linkUp.get(r.dev) ?? true));
  let currentLinkUp = isUp(current);
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const evaluate = async (): Promise<void> => {
    const after = await lookup();
    if (closed) return;
    const up = isUp(after);
    if (sameRoute(current, after) && up === currentLinkUp) return;
    const before = current;
    let reason: string;
    if (sameRoute(before, after))
      reason = `link ${after?.dev} to ${addr} is ${up ? 'up again' : 'down (no carrier or set down)'}`;
    else if (!after) reason = `route to ${addr} is gone (was ${describe(before)})`;
    else if (!before) reason = `route to ${addr} appeared: ${describe(after)}`;
    else reason = `route to ${addr} changed: ${describe(before)} → ${describe(after)}`;
    current = after;
    currentLinkUp = up;
    log?.debug?.(`net-watch: ${reason}`);
    try {
      onChange({ reason, before, after, linkUp: up });
    } catch (err) {
      log?.warn(`net-watch: onChange threw: ${(err as Error).message}`);
    }
  };

  const check = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await evaluate();
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void check();
    }, debounceMs);
  };

  const stop = net.watch(
    (msg) => {
      if (msg.kind === 'link') {
        const data = msg.data as
          | { index?: number; flags?: { up?: boolean; lowerUp?: boolean } }
          | undefined;
        const idx = data?.index;
        const f = data?.flags ?? {};
        if (typeof idx === 'number') linkUp.set(idx, Boolean(f.up) && Boolean(f.lowerUp));
        // Only the link the route uses matters; route messages cover the rest.
        if (idx === undefined || idx === current?.dev) schedule();
      } else if (msg.kind === 'route') {
        schedule();
      }
    },
    ['IPV4_ROUTE', 'IPV6_ROUTE', 'LINK'],
  );

  return {
    get current() {
      return current;
    },
    check,
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      stop();
    },
  };
}
