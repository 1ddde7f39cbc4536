/**
 * Checks on route lists (peer.yaml `routes`, server.yaml `routes`): default
 * routes in disguise, special ranges, IPv4-mapped IPv6, duplicates, overlaps,
 * and routes that would capture the SSH connection itself.
 */
import type { PathSegment } from './errors.js';
import {
  bigToText,
  type Cidr,
  cidrContainsAddress,
  cidrOverlaps,
  parseCidr,
  parseIp,
  specialRange,
} from './net.js';

type At = (p: PathSegment[], m: string) => void;

/** What to say about a route list that amounts to a default route, per file kind. */
export interface RouteListHints {
  /** For `0.0.0.0/0`, `::/0`, and for route sets that together cover a whole family. */
  defaultRoute: string;
}

export const PEER_ROUTE_HINTS: RouteListHints = {
  defaultRoute:
    'set default-route: true instead (it installs 0.0.0.0/1 + 128.0.0.0/1 and ::/1 + 8000::/1 itself, and also keeps a host route to the SSH server outside the tunnel, which these routes lack)',
};

export const SERVER_ROUTE_HINTS: RouteListHints = {
  defaultRoute:
    "would send all of this server's traffic into the client sessions, including its own SSH connections; list the networks behind the clients",
};

const MAPPED = (parseCidr('::ffff:0:0/96') as { value: Cidr }).value;

/** `::ffff:10.1.0.0/112` → the IPv4 prefix it stands for (`10.1.0.0/16`), or null. */
export function ipv4MappedRoute(r: Cidr): string | null {
  if (r.family !== 6 || r.prefix < 96 || !cidrOverlaps(MAPPED, r)) return null;
  return `${bigToText(r.network & 0xffffffffn, 4)}/${r.prefix - 96}`;
}

/**
 * Indices of routes of one family that together cover every address of it (the
 * "split default route" 0.0.0.0/1 + 128.0.0.0/1, or any finer partition), or null.
 */
function coversFamily(routes: Cidr[], family: 4 | 6): number[] | null {
  const bits = family === 4 ? 32 : 128;
  const idx = routes
    .map((r, i) => ({ r, i }))
    .filter((x) => x.r.family === family && x.r.prefix > 0)
    .sort((a, b) => (a.r.network < b.r.network ? -1 : a.r.network > b.r.network ? 1 : 0));
  let next = 0n; // first address not yet covered, walking upwards
  for (const { r } of idx) {
    if (r.network > next) return null;
    const end = r.network + (1n << BigInt(bits - r.prefix));
    if (end > next) next = end;
  }
  return next === 1n << BigInt(bits) ? idx.map((x) => x.i).sort((a, b) => a - b) : null;
}

function formatSeg(base: PathSegment[], j: number): string {
  return `${base.join('.')}[${j}]`;
}

/** Route list checks: default route (also split), special ranges, IPv4-mapped, duplicates, overlaps. */
export function checkRouteList(
  routes: Cidr[],
  base: PathSegment[],
  at: At,
  hints: RouteListHints = PEER_ROUTE_HINTS,
): void {
  routes.forEach((r, i) => {
    if (r.prefix === 0) {
      at([...base, i], `${r.text} is a default route; ${hints.defaultRoute}`);
      return;
    }
    const v4 = ipv4MappedRoute(r);
    if (v4) {
      at(
        [...base, i],
        `${r.text} is an IPv4-mapped IPv6 prefix (inside ::ffff:0:0/96): no packet is ever routed by it, IPv4 traffic uses IPv4 routes; write the IPv4 route ${v4}`,
      );
      return;
    }
    const special = specialRange(r);
    if (special)
      at(
        [...base, i],
        `${r.text} overlaps the ${special} range, which cannot be routed through a tunnel`,
      );
    for (let j = 0; j < i; j++) {
      const o = routes[j];
      if (o.text === r.text) at([...base, i], `${r.text} is a duplicate of ${formatSeg(base, j)}`);
      else if (cidrOverlaps(o, r))
        at(
          [...base, i],
          `${r.text} overlaps ${formatSeg(base, j)} (${o.text}); remove one or split them`,
        );
    }
  });
  for (const family of [4, 6] as const) {
    const cover = coversFamily(routes, family);
    if (!cover) continue;
    const last = cover[cover.length - 1];
    const listed = cover.map((j) => `${formatSeg(base, j)} ${routes[j].text}`).join(', ');
    at(
      [...base, last],
      `${listed} together cover every IPv${family} address: that is a default route; ${hints.defaultRoute}`,
    );
  }
}

/**
 * A route that contains the SSH server would send the SSH connection into its own
 * tunnel. With default-route the runtime pins a host route to the server via the
 * current gateway, which also covers these routes, so they are allowed then.
 */
export function checkRoutesAgainstHost(
  routes: Cidr[],
  defaultRoute: boolean,
  hostAddresses: string[],
  at: At,
): void {
  if (defaultRoute) return;
  routes.forEach((r, i) => {
    for (const a of hostAddresses) {
      const ip = parseIp(a);
      if ('value' in ip && r.prefix > 0 && cidrContainsAddress(r, ip.value)) {
        at(
          ['routes', i],
          `${r.text} contains the SSH server ${ip.value.text}; the tunnel would route itself (narrow the route, or use default-route: true, which keeps a host route to the server)`,
        );
        break;
      }
    }
  });
}
