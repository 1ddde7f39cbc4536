/**
 * NetConfig: interface addresses, MTU, link state and routes through one
 * rtnetlink socket (npm `netlink`), in the caller's network namespace. No
 * `ip` commands. Every kernel error becomes a TunError with a stable code and
 * a message naming the object (see netlinkError).
 *
 * ```ts
 * const nc = new NetConfig();
 * await nc.disableIpv6AutoAddress(tun.ifindex);       // before up: no kernel-made fe80::
 * await nc.setMtu(tun.ifindex, 1400);
 * await nc.setAddress4(tun.ifindex, '10.64.0.2', '10.64.0.1');     // 10.64.0.2 peer 10.64.0.1/32
 * await nc.addAddress6(tun.ifindex, 'fe80::2', 64);                 // ping -6 fe80::1%tsvpn0 works
 * await nc.setUp(tun.ifindex);
 * const h = await nc.addRoute({ dst: '10.1.0.0/16', dev: tun.ifindex, metric: 50 });
 * await nc.removeRoute(h);
 * nc.close();
 * ```
 */
import type { RtNetlinkSocket, rt } from 'netlink';
import { netlink } from '../native-modules.js';
import { AF_INET, AF_INET6 } from '../sys/libc.js';
import {
  IFLA_INET6_ADDR_GEN_MODE,
  IN6_ADDR_GEN_MODE_NONE,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTN_UNICAST,
  RTPROT_STATIC,
} from '../sys/rtnetlink.js';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp } from './addr.js';
import { TunError, type TunErrorCode } from './errors.js';

/** What the caller asks for; `dev` and/or `gateway` must be given. */
export interface RouteSpec {
  /** Destination prefix, "10.1.0.0/16", "0.0.0.0/1", "fd00::/8"; a bare address is a host route. */
  dst: string;
  /** Output interface index. */
  dev?: number;
  /** Next hop; same family as dst. */
  gateway?: string;
  /** Route priority (the `metric` of `ip route`); default 0 for IPv4, kernel default (1024) for IPv6. */
  metric?: number;
  /** Preferred source address. */
  src?: string;
  /** Routing table; default main (254). */
  table?: number;
  /**
   * Replace an existing route with the same key (dst, table, metric) instead
   * of failing with NETLINK_EXISTS. The replaced route is remembered in the
   * handle and put back by removeRoute().
   */
  replace?: boolean;
}

/** A route as the kernel reports it (RTM_GETROUTE), or as we installed it. */
export interface RouteInfo {
  family: 4 | 6;
  dst: string; // CIDR
  dev: number | undefined;
  gateway: string | undefined;
  metric: number | undefined;
  src: string | undefined; // prefsrc
  table: number;
  protocol: number;
  scope: number;
  type: number;
}

/** Returned by addRoute: exactly what was added, and what it replaced. */
export interface RouteHandle {
  readonly route: RouteInfo;
  /** The route that `replace` overwrote, restored on removeRoute (null when none). */
  readonly replaced: RouteInfo | null;
}

export interface NetConfigOptions {
  /** rtm_protocol stamped on our routes; default RTPROT_STATIC (4, "proto static"). */
  protocol?: number;
  /** Per-request timeout in ms; default 5000. */
  timeoutMs?: number;
}

function errnoOf(err: unknown): string | undefined {
  const m = /Request rejected: (\w+)/.exec((err as Error)?.message ?? '');
  return m?.[1];
}

/** Maps a netlink failure to a TunError: `what` names the object, e.g. "route 10.1.0.0/16". */
export function netlinkError(err: unknown, what: string): TunError {
  if (err instanceof TunError) return err;
  const errno = errnoOf(err);
  const table: Record<string, [TunErrorCode, string]> = {
    EEXIST: ['NETLINK_EXISTS', 'already exists'],
    ENODEV: ['NETLINK_NO_DEVICE', 'no such device'],
    ESRCH: ['NETLINK_NOT_FOUND', 'no such route'],
    ENOENT: ['NETLINK_NOT_FOUND', 'not found'],
    EADDRNOTAVAIL: ['NETLINK_NOT_FOUND', 'no such address'],
    EPERM: ['NETLINK_PERMISSION', 'need root or CAP_NET_ADMIN'],
    EACCES: ['NETLINK_PERMISSION', 'need root or CAP_NET_ADMIN'],
    ENETUNREACH: ['NETLINK_UNREACHABLE', 'network is unreachable'],
    EHOSTUNREACH: ['NETLINK_UNREACHABLE', 'no route to host'],
    EINVAL: ['NETLINK_INVALID', 'invalid argument (rejected by the kernel)'],
    ERANGE: ['NETLINK_INVALID', 'value out of range'],
    EAFNOSUPPORT: ['NETLINK_INVALID', 'address family not supported (IPv6 disabled?)'],
    EOPNOTSUPP: ['NETLINK_INVALID', 'operation not supported'],
  };
  const hit = errno ? table[errno] : undefined;
  if (hit) {
    const hint = errno === 'EEXIST' && what.startsWith('route') ? ' (use replace)' : '';
    return new TunError(hit[0], `${what}: ${hit[1]}${hint} [${errno}]`, errno, { cause: err });
  }
  return new TunError(
    'NETLINK_SYSTEM',
    `${what}: ${(err as Error)?.message ?? String(err)}`,
    errno,
    { cause: err },
  );
}

function family(c: { family: 4 | 6 }): number {
  return c.family === 4 ? AF_INET : AF_INET6;
}

function requireIfindex(ifindex: number): void {
  if (!Number.isInteger(ifindex) || ifindex <= 0)
    throw new TunError('INVALID_ARGUMENT', `invalid interface index ${ifindex}`);
}

/** The package decodes known enum values to their names ('UNICAST'); we keep numbers. */
function enumNumber(value: unknown, names: Record<string, string | number>): number {
  if (typeof value === 'number') return value;
  const n = typeof value === 'string' ? names[value] : undefined;
  return typeof n === 'number' ? n : 0;
}

/** Converts a kernel route message to RouteInfo. */
export function routeInfoOf(msg: rt.RouteMessage): RouteInfo {
  const fam: 4 | 6 = msg.data.family === AF_INET6 ? 6 : 4;
  const zero = Buffer.alloc(fam === 4 ? 4 : 16);
  const a = msg.attrs;
  return {
    family: fam,
    dst: formatCidr({ bytes: a.dst ?? zero, prefixLen: msg.data.dstLen ?? 0 }),
    dev: a.oif,
    gateway: a.gateway ? formatIp(a.gateway) : undefined,
    metric: a.priority,
    src: a.prefsrc ? formatIp(a.prefsrc) : undefined,
    table: a.table ?? msg.data.table ?? RT_TABLE_MAIN,
    protocol: enumNumber(
      msg.data.protocol,
      netlink().rt.RouteProtocol as unknown as Record<string, number>,
    ),
    scope: enumNumber(msg.data.scope, netlink().rt.RouteScope as unknown as Record<string, number>),
    type: enumNumber(msg.data.type, netlink().rt.RouteType as unknown as Record<string, number>),
  };
}

export class NetConfig {
  private readonly sock: RtNetlinkSocket;
  private readonly protocol: number;
  private readonly timeout: number;
  private closed = false;

  constructor(opts: NetConfigOptions = {}) {
    // Unreferenced: an idle NetConfig never keeps the process alive.
    this.sock = netlink().createRtNetlink();
    this.protocol = opts.protocol ?? RTPROT_STATIC;
    this.timeout = opts.timeoutMs ?? 5000;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.socket.close();
  }

  private opts(flags = 0): { flags: number; timeout: number } {
    if (this.closed) throw new TunError('TUN_CLOSED', 'NetConfig is closed');
    return { flags, timeout: this.timeout };
  }

  // ---- link ----

  async setMtu(ifindex: number, mtu: number): Promise<void> {
    requireIfindex(ifindex);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      throw new TunError('INVALID_ARGUMENT', `invalid MTU ${mtu} (68..65535)`);
    try {
      await this.sock.setLink({ index: ifindex }, { mtu }, this.opts());
    } catch (err) {
      throw netlinkError(err, `set MTU ${mtu} on interface ${ifindex}`);
    }
  }

  async setUp(ifindex: number): Promise<void> {
    await this.setFlagsUp(ifindex, true);
  }

  async setDown(ifindex: number): Promise<void> {
    await this.setFlagsUp(ifindex, false);
  }

  private async setFlagsUp(ifindex: number, up: boolean): Promise<void> {
    requireIfindex(ifindex);
    try {
      await this.sock.setLink(
        { index: ifindex, change: { up: true }, flags: up ? { up: true } : {} },
        {},
        this.opts(),
      );
    } catch (err) {
      throw netlinkError(err, `set interface ${ifindex} ${up ? 'up' : 'down'}`);
    }
  }

  /**
   * Sets IPv6 addr_gen_mode to none, so that bringing the link up does not
   * make the kernel add a link-local address of its own: the fe80:: address
   * comes from IPv6CP (addAddress6). Call before setUp.
   */
  async disableIpv6AutoAddress(ifindex: number): Promise<void> {
    requireIfindex(ifindex);
    // struct nlattr { u16 len = 5; u16 type; u8 mode } padded to 4.
    const attr = Buffer.from([5, 0, IFLA_INET6_ADDR_GEN_MODE, 0, IN6_ADDR_GEN_MODE_NONE, 0, 0, 0]);
    try {
      await this.sock.setLink(
        { index: ifindex },
        { afSpec: new Map([[AF_INET6, attr]]) },
        this.opts(),
      );
    } catch (err) {
      throw netlinkError(err, `set addr_gen_mode none on interface ${ifindex}`);
    }
  }

  // ---- addresses ----

  /**
   * Point-to-point IPv4 address: `local` on this side, `peer` the far end
   * (IFA_LOCAL / IFA_ADDRESS), like `ip addr add LOCAL peer PEER/LEN`. The
   * kernel then routes PEER/LEN (default /32) to the interface. Existing
   * identical addresses are replaced (idempotent).
   */
  async setAddress4(ifindex: number, local: string, peer: string, prefixLen = 32): Promise<void> {
    requireIfindex(ifindex);
    const l = parseIp(local);
    const p = parseIp(peer);
    if (l.family !== 4 || p.family !== 4)
      throw new TunError(
        'INVALID_ARGUMENT',
        `setAddress4 needs IPv4 addresses, got ${local} / ${peer}`,
      );
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32)
      throw new TunError('INVALID_ARGUMENT', `invalid prefix length ${prefixLen}`);
    try {
      await this.sock.newAddress(
        { family: AF_INET, prefixlen: prefixLen, index: ifindex, scope: RT_SCOPE_UNIVERSE },
        { local: l.bytes, address: p.bytes },
        this.opts(netlink().FlagsNew.CREATE | netlink().FlagsNew.REPLACE),
      );
    } catch (err) {
      throw netlinkError(err, `address ${local} peer ${peer}/${prefixLen} on interface ${ifindex}`);
    }
  }

  /**
   * IPv6 address, DAD off (a point-to-point link has no one else to collide
   * with, and DAD would keep the address tentative for a second). For the
   * IPv6CP link-local pass `fe80::<our id>` with prefixLen 64: the kernel then
   * routes fe80::/64 to the interface, so `ping -6 fe80::<peer id>%dev` works.
   * With `peer`, the address is point-to-point instead (IFA_ADDRESS = peer).
   */
  async addAddress6(ifindex: number, addr: string, prefixLen = 64, peer?: string): Promise<void> {
    requireIfindex(ifindex);
    const a = parseIp(addr);
    const p = peer === undefined ? undefined : parseIp(peer);
    if (a.family !== 6 || (p && p.family !== 6))
      throw new TunError(
        'INVALID_ARGUMENT',
        `addAddress6 needs IPv6 addresses, got ${addr}${peer ? ` / ${peer}` : ''}`,
      );
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 128)
      throw new TunError('INVALID_ARGUMENT', `invalid prefix length ${prefixLen}`);
    const scope =
      a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    try {
      await this.sock.newAddress(
        { family: AF_INET6, prefixlen: prefixLen, index: ifindex, scope, flags: { nodad: true } },
        p ? { local: a.bytes, address: p.bytes } : { local: a.bytes, address: a.bytes },
        this.opts(netlink().FlagsNew.CREATE | netlink().FlagsNew.REPLACE),
      );
    } catch (err) {
      throw netlinkError(
        err,
        `address ${addr}/${prefixLen}${peer ? ` peer ${peer}` : ''} on interface ${ifindex}`,
      );
    }
  }

  /** Removes an address added by setAddress4/addAddress6 (ignores one already gone). */
  async removeAddress(
    ifindex: number,
    local: string,
    prefixLen: number,
    peer?: string,
  ): Promise<boolean> {
    requireIfindex(ifindex);
    const l = parseIp(local);
    const p = peer === undefined ? l : parseIp(peer);
    try {
      await this.sock.delAddress(
        { family: family(l), prefixlen: prefixLen, index: ifindex },
        { local: l.bytes, address: p.bytes },
        this.opts(),
      );
      return true;
    } catch (err) {
      const e = netlinkError(err, `address ${local}/${prefixLen} on interface ${ifindex}`);
      if (e.code === 'NETLINK_NOT_FOUND' || e.code === 'NETLINK_NO_DEVICE') return false;
      throw e;
    }
  }

  // ---- routes ----

  private routeMessage(spec: RouteSpec): { data: rt.Route; attrs: rt.RouteAttrs; dst: Cidr } {
    const dst = parseCidr(spec.dst);
    if (spec.dev === undefined && spec.gateway === undefined)
      throw new TunError('INVALID_ARGUMENT', `route ${spec.dst}: needs dev or gateway`);
    if (spec.dev !== undefined) requireIfindex(spec.dev);
    const gw = spec.gateway === undefined ? undefined : parseIp(spec.gateway);
    if (gw && gw.family !== dst.family)
      throw new TunError(
        'INVALID_ARGUMENT',
        `route ${spec.dst}: gateway ${spec.gateway} is not IPv${dst.family}`,
      );
    const src = spec.src === undefined ? undefined : parseIp(spec.src);
    if (
      spec.metric !== undefined &&
      (!Number.isInteger(spec.metric) || spec.metric < 0 || spec.metric > 0xffffffff)
    )
      throw new TunError('INVALID_ARGUMENT', `route ${spec.dst}: invalid metric ${spec.metric}`);
    const table = spec.table ?? RT_TABLE_MAIN;
    const data: rt.Route = {
      family: family(dst),
      dstLen: dst.prefixLen,
      table: table < 256 ? table : 0,
      protocol: this.protocol,
      // Like `ip route add`: a route without a gateway is on-link (scope link) for IPv4.
      scope: dst.family === 4 && !gw ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
      type: RTN_UNICAST,
    };
    const attrs: rt.RouteAttrs = {};
    if (dst.prefixLen > 0) attrs.dst = dst.bytes;
    if (spec.dev !== undefined) attrs.oif = spec.dev;
    if (gw) attrs.gateway = gw.bytes;
    if (src) attrs.prefsrc = src.bytes;
    if (spec.metric !== undefined) attrs.priority = spec.metric;
    if (table >= 256) attrs.table = table;
    return { data, attrs, dst };
  }

  /** Routes in `table` (default main) whose destination is exactly `dst`. */
  async findRoutes(dst: string, table = RT_TABLE_MAIN): Promise<RouteInfo[]> {
    const c = parseCidr(dst);
    let msgs: rt.RouteMessage[];
    try {
      msgs = await this.sock.getRoutes({ family: family(c) }, {}, this.opts());
    } catch (err) {
      throw netlinkError(err, `list routes`);
    }
    const want = formatCidr(c);
    return msgs.map(routeInfoOf).filter((r) => r.dst === want && r.table === table);
  }

  /**
   * Adds a route. Fails with NETLINK_EXISTS ("route … already exists (use
   * replace)") when the same (dst, table, metric) exists, unless
   * `replace` is set: then the old route is overwritten and remembered.
   */
  async addRoute(spec: RouteSpec): Promise<RouteHandle> {
    const { data, attrs, dst } = this.routeMessage(spec);
    const name = `route ${formatCidr(dst)}`;
    let replaced: RouteInfo | null = null;
    if (spec.replace) {
      const same = await this.findRoutes(formatCidr(dst), spec.table ?? RT_TABLE_MAIN);
      // IPv6 routes without an explicit metric get 1024 from the kernel.
      const metric = spec.metric ?? (dst.family === 6 ? 1024 : 0);
      replaced = same.find((r) => (r.metric ?? 0) === metric && r.type === RTN_UNICAST) ?? null;
    }
    try {
      await this.sock.newRoute(
        data,
        attrs,
        this.opts(
          netlink().FlagsNew.CREATE |
            (spec.replace ? netlink().FlagsNew.REPLACE : netlink().FlagsNew.EXCL),
        ),
      );
    } catch (err) {
      throw netlinkError(err, name);
    }
    const route: RouteInfo = {
      family: dst.family,
      dst: formatCidr(dst),
      dev: spec.dev,
      gateway: spec.gateway === undefined ? undefined : formatIp(parseIp(spec.gateway).bytes),
      metric: spec.metric,
      src: spec.src,
      table: spec.table ?? RT_TABLE_MAIN,
      protocol: this.protocol,
      scope: Number(data.scope),
      type: RTN_UNICAST,
    };
    return { route, replaced };
  }

  /**
   * Deletes exactly the route of `handle` (matching dst, table, metric, dev,
   * gateway), then puts back the route it replaced, if any. Returns false when
   * the route was already gone (e.g. its interface was deleted).
   */
  async removeRoute(handle: RouteHandle): Promise<boolean> {
    const r = handle.route;
    const { data, attrs } = this.routeMessage({
      dst: r.dst,
      dev: r.dev,
      gateway: r.gateway,
      metric: r.metric,
      table: r.table,
    });
    let removed = true;
    try {
      await this.sock.delRoute(
        { ...data, protocol: undefined, scope: RT_SCOPE_NOWHERE },
        attrs,
        this.opts(),
      );
    } catch (err) {
      const e = netlinkError(err, `route ${r.dst}`);
      if (e.code !== 'NETLINK_NOT_FOUND' && e.code !== 'NETLINK_NO_DEVICE') throw e;
      removed = false;
    }
    if (handle.replaced) await this.restoreRoute(handle.replaced);
    return removed;
  }

  /** Re-adds a route reported by the kernel (used to restore what replace overwrote). */
  async restoreRoute(r: RouteInfo): Promise<void> {
    const { data, attrs } = this.routeMessage({
      dst: r.dst,
      dev: r.dev,
      gateway: r.gateway,
      metric: r.metric,
      table: r.table,
      src: r.src,
    });
    try {
      await this.sock.newRoute(
        { ...data, protocol: r.protocol, scope: r.scope },
        attrs,
        this.opts(netlink().FlagsNew.CREATE | netlink().FlagsNew.REPLACE),
      );
    } catch (err) {
      throw netlinkError(err, `restore route ${r.dst}`);
    }
  }

  /**
   * The route the kernel would use to reach `addr` now (RTM_GETROUTE, like
   * `ip route get`): output device, gateway (undefined when on-link) and
   * preferred source. Throws NETLINK_UNREACHABLE when there is none.
   */
  async getRouteTo(addr: string): Promise<RouteInfo> {
    const a = parseIp(addr);
    let msgs: rt.RouteMessage[];
    try {
      msgs = await this.sock.getRoute(
        { family: family(a), dstLen: a.family === 4 ? 32 : 128 },
        { dst: a.bytes },
        this.opts(),
      );
    } catch (err) {
      throw netlinkError(err, `route to ${addr}`);
    }
    if (!msgs.length) throw new TunError('NETLINK_UNREACHABLE', `route to ${addr}: no route`);
    return routeInfoOf(msgs[0]);
  }

  /**
   * Subscribes to kernel notifications of route and link changes (groups
   * IPV4_ROUTE, IPV6_ROUTE, LINK) on a separate socket, for network-change
   * watching. The socket keeps the process alive until the returned function
   * is called.
   */
  watch(
    onChange: (msg: rt.Message) => void,
    groups: Array<'IPV4_ROUTE' | 'IPV6_ROUTE' | 'LINK' | 'IPV4_IFADDR' | 'IPV6_IFADDR'> = [
      'IPV4_ROUTE',
      'IPV6_ROUTE',
      'LINK',
    ],
  ): () => void {
    // (the package's typings wrongly mark the buffer sizes as required)
    const s = netlink().createRtNetlink({ ref: true } as Parameters<
      ReturnType<typeof netlink>['createRtNetlink']
    >[0]);
    for (const g of groups) s.addMembership(g);
    s.on('message', (msgs) => {
      for (const m of msgs) onChange(m);
    });
    return () => s.socket.close();
  }
}
