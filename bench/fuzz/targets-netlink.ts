/**
 * rtnetlink replies we parse (issue 15): a broken or hostile kernel answer must never
 * throw out of the parser, so it can never crash `up`.
 *
 * - rtnl-route-dump: parseRouteDump (src/tun/routes-snapshot.ts, the route guard's
 *   snapshot) and the RouteGuard built from its result: no exception; every route kept
 *   is IPv4 unicast/local with prefix ≤ 32 and a dotted-quad destination.
 * - rtnl-link-reply: parseRtnlReply + linkGsoOf (src/tun/link-gso.ts, the GSO size of the
 *   TUN link): only the documented Error with a numeric errno.
 * - netlink-route-msg: the `netlink` package's parser (parseMessages, rt parseMessage)
 *   then our routeInfoOf (src/tun/netconfig.ts) on what it accepts: the package may
 *   refuse (it reports that as `invalid` / a rejected request), routeInfoOf never throws.
 *
 * Inputs: valid dumps and replies built here, then mutated; and random bytes.
 */

import { parseMessage as parseRtMessage } from 'netlink/dist/rt/structs.js';
import { parseMessages } from 'netlink/dist/structs.js';
import { RouteGuard } from '../../src/runtime/route-guard.js';
import { linkGsoOf, parseRtnlReply } from '../../src/tun/link-gso.js';
import { routeInfoOf } from '../../src/tun/netconfig.js';
import { parseRouteDump, RTM_NEWROUTE } from '../../src/tun/routes-snapshot.js';
import { mutate } from './mutate.js';
import type { Rng } from './rng.js';
import { type FuzzInput, type FuzzRunner, type FuzzTarget, InvariantError } from './types.js';

function nlmsg(type: number, body: Uint8Array, flags = 2): Uint8Array {
  const len = 16 + body.length;
  const m = new Uint8Array((len + 3) & ~3);
  const v = new DataView(m.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, 1, true);
  m.set(body, 16);
  return m;
}

function rtattr(type: number, value: Uint8Array): number[] {
  const len = 4 + value.length;
  const out = [len & 255, len >> 8, type & 255, type >> 8, ...value];
  while (out.length % 4) out.push(0);
  return out;
}

/** A plausible RTM_NEWROUTE (IPv4, sometimes IPv6) with dst, gateway, oif, table, priority. */
export function routeMessage(rng: Rng): Uint8Array {
  const v6 = rng.chance(0.15);
  const alen = v6 ? 16 : 4;
  const prefix = rng.int(v6 ? 129 : 33);
  const body = [
    v6 ? 10 : 2,
    prefix,
    0,
    0,
    rng.pick([254, 255, 100]),
    rng.pick([2, 3, 4]),
    rng.pick([0, 253, 254]),
    rng.pick([1, 2, 3, 6]),
    0,
    0,
    0,
    0,
  ];
  if (prefix > 0) body.push(...rtattr(1, rng.bytes(alen)));
  if (rng.chance(0.5)) body.push(...rtattr(5, rng.bytes(alen)));
  body.push(...rtattr(4, Uint8Array.from([rng.int(10), 0, 0, 0])));
  if (rng.chance(0.5)) body.push(...rtattr(15, Uint8Array.from([254, 0, 0, 0])));
  if (rng.chance(0.5)) body.push(...rtattr(6, rng.bytes(4)));
  return nlmsg(RTM_NEWROUTE, Uint8Array.from(body));
}

export function routeDump(rng: Rng): Uint8Array {
  const parts: number[] = [];
  const n = rng.int(8);
  for (let i = 0; i < n; i++) parts.push(...routeMessage(rng));
  if (rng.chance(0.8)) parts.push(...nlmsg(3, new Uint8Array(4)));
  else if (rng.chance(0.5)) parts.push(...nlmsg(2, Uint8Array.from([0xea, 0xff, 0xff, 0xff])));
  return Uint8Array.from(parts);
}

function linkReply(rng: Rng): Uint8Array {
  if (rng.chance(0.2)) return nlmsg(2, Uint8Array.from([0, 0, 0, 0, ...rng.bytes(16)]));
  const body = [...new Uint8Array(16)];
  body.push(...rtattr(4, Uint8Array.from([0xdc, 0x05, 0, 0])));
  body.push(...rtattr(41, Uint8Array.from([0, 0, 1, 0])));
  if (rng.chance(0.5)) body.push(...rtattr(3, new TextEncoder().encode('tsvpn0\0')));
  return nlmsg(16, Uint8Array.from(body));
}

function fail(msg: string): never {
  throw new InvariantError(msg);
}

function mutated(rng: Rng, make: (r: Rng) => Uint8Array): Uint8Array {
  if (rng.chance(0.1)) return rng.bytes(rng.len(512));
  const a = make(rng);
  return rng.chance(0.2) ? a : mutate(rng, a, make(rng), 8192);
}

const QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Runs parseRouteDump + RouteGuard on one input; throws InvariantError on a broken promise. */
export function checkRouteDump(input: Uint8Array): void {
  const r = parseRouteDump(input);
  for (const x of r.routes) {
    if (!QUAD.test(x.dst) || x.prefix > 32 || (x.type !== 1 && x.type !== 2))
      fail(`parseRouteDump kept ${JSON.stringify(x)}`);
    if (x.gateway !== null && !QUAD.test(x.gateway)) fail(`bad gateway ${x.gateway}`);
  }
  const g = new RouteGuard(r.routes, {
    acceptLocal: ['10.0.0.0/8'],
    acceptPeer: ['10.0.0.0/8'],
    warn: () => {},
  });
  for (const x of r.routes.slice(0, 4)) g.allows('peer address', x.dst);
}

/** Runs parseRtnlReply + linkGsoOf: only the documented errno Error may escape. */
export function checkLinkReply(input: Uint8Array, n = input.length): void {
  try {
    const a = parseRtnlReply(input, n);
    const g = linkGsoOf(a);
    if (!Number.isInteger(g.mtu) || !Number.isInteger(g.gsoMaxSize))
      fail('linkGsoOf: not integers');
  } catch (err) {
    if (err instanceof InvariantError) throw err;
    if (!(err instanceof Error) || typeof (err as { errno?: unknown }).errno !== 'number')
      throw err;
  }
}

/** The netlink package parses (may refuse); routeInfoOf must take whatever it accepted. */
export function checkPackageRoute(input: Uint8Array): void {
  let msgs: ReturnType<typeof parseMessages>;
  try {
    msgs = parseMessages(Buffer.from(input));
  } catch {
    return; // the package's 'invalid' path: never reaches us
  }
  for (const m of msgs) {
    if (m.type !== RTM_NEWROUTE) continue;
    let parsed: ReturnType<typeof parseRtMessage>;
    try {
      parsed = parseRtMessage(m.type, m.data);
    } catch {
      continue; // same: the package drops it
    }
    // biome-ignore lint/suspicious/noExplicitAny: the package's union of message kinds
    routeInfoOf(parsed as any);
  }
}

class Runner implements FuzzRunner {
  constructor(
    private readonly make: (r: Rng) => Uint8Array,
    private readonly check: (input: Uint8Array) => void,
  ) {}
  next(rng: Rng): FuzzInput {
    return mutated(rng, this.make);
  }
  run(input: FuzzInput): void {
    this.check(input as Uint8Array);
  }
}

export const NETLINK_TARGETS: FuzzTarget[] = [
  {
    name: 'rtnl-route-dump',
    what: 'parseRouteDump + RouteGuard, mutated RTM_GETROUTE dumps',
    create: () => new Runner(routeDump, checkRouteDump),
  },
  {
    name: 'rtnl-link-reply',
    what: 'parseRtnlReply + linkGsoOf, mutated RTM_NEWLINK replies',
    create: () => new Runner(linkReply, (i) => checkLinkReply(i)),
  },
  {
    name: 'netlink-route-msg',
    what: 'netlink package parseMessages/rt parseMessage + routeInfoOf, mutated route dumps',
    create: () => new Runner(routeDump, checkPackageRoute),
  },
];
