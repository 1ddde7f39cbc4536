/**
 * A far end must not take over a network the client already reaches (issue 15 item 1).
 * Without this, a server that claims the client's LAN gateway (192.168.1.1) as its own
 * address gets `192.168.1.1 dev tsvpn0`, which wins over the LAN's 192.168.1.0/24, and
 * the client's traffic to its own gateway goes to the server.
 *
 * Before each negotiation we take a snapshot of the IPv4 routes (rtnetlink dump,
 * src/tun/routes-snapshot.ts); during it the IPCP predicates stay synchronous and ask
 * {@link RouteGuard.conflict}. Like pppd's judgement, "reaches" means a connected subnet,
 * an address of this host, or a non-default route; the default route does not count
 * (or nothing would be accepted), neither do routes through this tunnel's own interface
 * (after a reconnect).
 *
 * Refused: the peer's address (acceptPeer), the address it assigns us (acceptLocal), a
 * DNS server (filterDns), each named in a warning with the route it lies in. Allowed
 * anyway when the user's own `accept-peer` / `accept-local` (not the default private
 * ranges) has an entry containing the address that is at least as specific as that
 * route: the user named that network. DNS servers count as accept-peer.
 */
import { PRIVATE_IPV4_RANGES } from '../config/index.js';
import type { EngineOptions } from '../engine/index.js';
/** rtnetlink RTN_LOCAL: an address of this host. */
import { RTN_LOCAL } from '../sys/rtnetlink.js';
import type { KernelRoute4 } from '../tun/routes-snapshot.js';
import { type Prefix4, parseIpv4, parsePrefix4, prefix4Contains } from '../wire/ip.js';

export interface RouteGuardOptions {
  /** `ppp.accept-local` as configured (or its default). */
  acceptLocal: readonly string[];
  /** `ppp.accept-peer` as configured (or its default). */
  acceptPeer: readonly string[];
  /** This tunnel's interface (after a reconnect): its routes are not "another way". */
  tunnelIfindex?: number | null;
  /** Where refusals are said (once per address). */
  warn: (msg: string) => void;
  /** Interface index → name for messages (default if_indextoname). */
  nameOf?: (ifindex: number) => string;
}

type Kind = 'peer address' | 'local address' | 'DNS server';

function isDefaultList(list: readonly string[]): boolean {
  return (
    list.length === PRIVATE_IPV4_RANGES.length && list.every((c, i) => c === PRIVATE_IPV4_RANGES[i])
  );
}

/** A /32 unicast route to exactly `addr` with no gateway: the peer route of a point-to-point link. */
function isPeerHostRoute(r: KernelRoute4, addr: string): boolean {
  return r.type !== RTN_LOCAL && r.prefix === 32 && r.gateway === null && r.dst === addr;
}

export class RouteGuard {
  private readonly routes: Array<KernelRoute4 & Prefix4>;
  private readonly opts: RouteGuardOptions;
  private readonly said = new Set<string>();

  constructor(routes: readonly KernelRoute4[], opts: RouteGuardOptions) {
    this.opts = opts;
    this.routes = [];
    for (const r of routes) {
      if (r.prefix === 0) continue; // the default route does not count
      if (opts.tunnelIfindex && r.oif === opts.tunnelIfindex) continue;
      const p = parsePrefix4(`${r.dst}/${r.prefix}`);
      if (p === null) continue;
      this.routes.push({ ...r, ...p });
    }
    // Most specific first: the route the kernel would pick for the address.
    this.routes.sort((a, b) => b.prefix - a.prefix || (a.type === RTN_LOCAL ? -1 : 1));
  }

  /**
   * Reads the routes now (async rtnetlink dump). A failure to read is said and leaves
   * a guard that knows no routes (accept-* alone then decides), never a failed connect.
   */
  static async snapshot(opts: RouteGuardOptions): Promise<RouteGuard> {
    try {
      // Loaded here: koffi and libc only for a command that negotiates.
      const { readRoutes4, interfaceName } = await import('../tun/routes-snapshot.js');
      return new RouteGuard(await readRoutes4(), { nameOf: interfaceName, ...opts });
    } catch (err) {
      const e = err as Error & { errno?: number };
      opts.warn(
        `cannot read the routing table (${e.message}${e.errno ? `, errno ${e.errno}` : ''}); far-end addresses are checked against accept-local/accept-peer only`,
      );
      return new RouteGuard([], opts);
    }
  }

  /** The most specific route (not default, not via this tunnel) that reaches `addr`, or null. */
  conflict(addr: string): KernelRoute4 | null {
    const a = parseIpv4(addr);
    if (a === null) return null;
    for (const r of this.routes) if (prefix4Contains(r, a)) return r;
    return null;
  }

  /** "192.168.1.0/24 dev eth0", "10.1.0.0/16 via 192.168.1.1 dev eth0", "192.168.1.5 (…)". */
  describe(r: KernelRoute4): string {
    const name = this.opts.nameOf ?? ((i: number) => `if${i}`);
    const dev = r.oif ? ` dev ${name(r.oif)}` : '';
    const table = r.table !== 254 && r.table !== 255 ? ` table ${r.table}` : '';
    if (r.type === RTN_LOCAL)
      return `${r.dst}/${r.prefix} (an address of this host${r.oif ? ` on ${name(r.oif)}` : ''})`;
    return `${r.dst}/${r.prefix}${r.gateway ? ` via ${r.gateway}` : ''}${dev}${table}`;
  }

  /** May the far end have `addr` as `kind`? Says why not (once per address). */
  allows(kind: Kind, addr: string): boolean {
    const r = this.conflict(addr);
    if (r === null) return true;
    // The same far-end address as another point-to-point link's peer (a second tunnel
    // to the same server): an identical host route already exists and keeps precedence
    // (the kernel appends ours after it), so nothing is diverted.
    if (kind === 'peer address' && isPeerHostRoute(r, addr)) return true;
    const key = kind === 'local address' ? 'accept-local' : 'accept-peer';
    const list = kind === 'local address' ? this.opts.acceptLocal : this.opts.acceptPeer;
    if (
      !isDefaultList(list) &&
      list.some((c) => {
        const p = parsePrefix4(c);
        const a = parseIpv4(addr);
        return p !== null && a !== null && p.bits >= r.prefix && prefix4Contains(p, a);
      })
    )
      return true;
    const id = `${kind} ${addr}`;
    if (!this.said.has(id)) {
      this.said.add(id);
      this.opts.warn(
        `refusing ${kind} ${addr} from the far end: it lies in ${this.describe(r)}, which this host reaches without the tunnel (taking it would divert that traffic into the tunnel); to allow it, list it in ppp.${key}, e.g. ${addr}/32`,
      );
    }
    return false;
  }

  /** The DNS servers the far end may give us (the others said and dropped). */
  filterDns(servers: readonly string[]): string[] {
    return servers.filter((s) => this.allows('DNS server', s));
  }
}

/**
 * `o` with the IPCP predicates it sets (acceptLocal, acceptPeer) also asking `guard`;
 * `o` itself when IPv4 is off or there is no guard.
 */
export function guardEngineOptions(o: EngineOptions, guard: RouteGuard | null): EngineOptions {
  const ipcp = o.ipcp;
  if (!guard || !ipcp) return o;
  const { acceptLocal, acceptPeer } = ipcp;
  return {
    ...o,
    ipcp: {
      ...ipcp,
      acceptLocal: acceptLocal && ((a) => acceptLocal(a) && guard.allows('local address', a)),
      acceptPeer: acceptPeer && ((a) => acceptPeer(a) && guard.allows('peer address', a)),
    },
  };
}
