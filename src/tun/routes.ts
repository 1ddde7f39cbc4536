/**
 * RouteTracker: installs routes through NetConfig and remembers exactly what
 * it added, so teardown removes exactly that (and restores what `replace`
 * overwrote), never routes it did not add.
 *
 * Default route through the tunnel (`addDefaultVia`):
 *  1. a host route to the SSH server through the route the kernel uses to
 *     reach it right now (RTM_GETROUTE: gateway + device), so the tunnel's own
 *     transport keeps going around the tunnel;
 *  2. then, by default, the split default `0.0.0.0/1` + `128.0.0.0/1`
 *     (`::/1` + `8000::/1` for IPv6), like OpenVPN's `def1`: more specific
 *     than any default route, so the system's default is never touched (a
 *     crash cannot lose it, a DHCP renewal cannot override us). `mode:
 *     'replace'` instead replaces the main table's default and restores it on
 *     teardown.
 */
import { parseIp } from './addr.js';
import { TunError } from './errors.js';
import type { NetConfig, RouteHandle, RouteInfo, RouteSpec } from './netconfig.js';

export interface DefaultRouteOptions {
  /** The tunnel interface. */
  dev: number;
  /** Address of the SSH server (the transport's far end): kept outside the tunnel. */
  server?: string;
  /** 'split' (default): two /1 routes; 'replace': replace the default route. */
  mode?: 'split' | 'replace';
  /** IP family of the default route; default 4. */
  family?: 4 | 6;
  /** Metric for the tunnel routes. */
  metric?: number;
}

export class RouteTracker {
  private readonly handles: RouteHandle[] = [];

  constructor(private readonly net: NetConfig) {}

  /** Routes installed and not yet removed, oldest first. */
  get installed(): readonly RouteInfo[] {
    return this.handles.map((h) => h.route);
  }

  async add(spec: RouteSpec): Promise<RouteHandle> {
    const h = await this.net.addRoute(spec);
    this.handles.push(h);
    return h;
  }

  /** Removes one route added through this tracker. */
  async remove(handle: RouteHandle): Promise<boolean> {
    const i = this.handles.indexOf(handle);
    if (i < 0)
      throw new TunError(
        'INVALID_ARGUMENT',
        `route ${handle.route.dst} was not added by this tracker`,
      );
    this.handles.splice(i, 1);
    return this.net.removeRoute(handle);
  }

  /**
   * Host route to `server` via its current path, then the default route(s)
   * through `dev`. Returns the handles (all tracked). On failure, whatever this
   * call added is removed again before the error is thrown.
   */
  async addDefaultVia(opts: DefaultRouteOptions): Promise<RouteHandle[]> {
    const fam = opts.family ?? (opts.server ? parseIp(opts.server).family : 4);
    const added: RouteHandle[] = [];
    try {
      if (opts.server) {
        const s = parseIp(opts.server);
        if (s.family === fam) {
          const via = await this.net.getRouteTo(opts.server);
          if (via.dev === opts.dev)
            throw new TunError(
              'INVALID_ARGUMENT',
              `server ${opts.server} is already routed through the tunnel interface ${opts.dev}`,
            );
          const host = `${opts.server}/${fam === 4 ? 32 : 128}`;
          added.push(
            await this.add({ dst: host, dev: via.dev, gateway: via.gateway, replace: true }),
          );
        }
      }
      const dsts =
        opts.mode === 'replace'
          ? [fam === 4 ? '0.0.0.0/0' : '::/0']
          : fam === 4
            ? ['0.0.0.0/1', '128.0.0.0/1']
            : ['::/1', '8000::/1'];
      for (const dst of dsts) {
        added.push(
          await this.add({
            dst,
            dev: opts.dev,
            metric: opts.metric,
            replace: opts.mode === 'replace',
          }),
        );
      }
      return added;
    } catch (err) {
      for (const h of added.reverse()) await this.remove(h).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Removes every tracked route, newest first, restoring replaced ones.
   * Keeps going on errors and throws the first one at the end.
   */
  async removeAll(): Promise<void> {
    let first: unknown = null;
    while (this.handles.length) {
      const h = this.handles.pop() as RouteHandle;
      try {
        await this.net.removeRoute(h);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}

export { cidrContains } from './addr.js';
