/**
 * The system side of one tunnel: the TUN device, its addresses, MTU and routes,
 * configured from engine events and removed again exactly (RouteTracker).
 * Used by both `ts-vpn up` and `ts-vpn serve`.
 */
import { NetConfig, type RouteHandle, RouteTracker, TunDevice } from '../tun/index.js';
import { validateVnetFrame } from '../wire/vnet-hdr.js';
import type { Logger } from './logger.js';

export interface InterfaceRoutes {
  /** Prefixes routed through the tunnel. */
  routes: readonly string[];
  /** Split default route (0.0.0.0/1 + 128.0.0.0/1) plus a host route to `server`. */
  defaultRoute?: boolean;
  /** The SSH server's address, kept outside the tunnel when defaultRoute is on. */
  server?: string;
  metric?: number | null;
}

export class TunnelInterface {
  readonly tun: TunDevice;
  private readonly net: NetConfig;
  private readonly tracker: RouteTracker;
  private readonly log: Logger;
  local4: string | null = null;
  peer4: string | null = null;
  local6: string | null = null;
  peer6: string | null = null;
  mtu: number | null = null;
  /** GSO frames from the far end refused by validateVnetFrame (never written to the kernel). */
  badGsoFrames = 0;
  /** Why the last one was refused (for the debug log and status). */
  lastBadGso: string | null = null;
  private closed = false;
  private readonly handles: RouteHandle[] = [];

  private constructor(tun: TunDevice, net: NetConfig, log: Logger) {
    this.tun = tun;
    this.net = net;
    this.tracker = new RouteTracker(net);
    this.log = log;
  }

  /**
   * Creates the TUN device (down, no addresses) with kernel IPv6 autoconfiguration off.
   * `vnetHdr`: vnet mode, for links with GSO frames (see setOffload).
   */
  static async open(
    name: string,
    log: Logger,
    opts: { vnetHdr?: boolean } = {},
  ): Promise<TunnelInterface> {
    const tun = TunDevice.open({ name, vnetHdr: opts.vnetHdr === true });
    const net = new NetConfig();
    try {
      await net.disableIpv6AutoAddress(tun.ifindex);
    } catch (err) {
      // IPv6 disabled in this namespace/host: not fatal, IPv6CP just has nowhere to go.
      log.debug(`${tun.name}: cannot disable IPv6 auto address: ${(err as Error).message}`);
    }
    return new TunnelInterface(tun, net, log);
  }

  get name(): string {
    return this.tun.name;
  }

  /** Point-to-point IPv4 address, MTU, link up. Replaces a previous address (after a reconnect). */
  async configure4(local: string, peer: string, mtu: number): Promise<void> {
    const ifx = this.tun.ifindex;
    if (this.mtu !== mtu) {
      await this.net.setMtu(ifx, mtu);
      this.mtu = mtu;
    }
    if (this.local4 !== null && (this.local4 !== local || this.peer4 !== peer)) {
      await this.net.removeAddress(ifx, this.local4, 32, this.peer4 ?? undefined);
    }
    await this.net.setAddress4(ifx, local, peer);
    this.local4 = local;
    this.peer4 = peer;
    await this.net.setUp(ifx);
  }

  /** True when the device carries virtio_net_hdr frames (opened with vnetHdr). */
  get vnetHdr(): boolean {
    return this.tun.vnetHdr;
  }

  /**
   * Kernel TCP segmentation offload on the device: on while the link carries GSO
   * frames, off otherwise (a vnet-mode device then reads plain packets). No-op
   * without vnet mode.
   */
  setOffload(on: boolean): void {
    if (this.tun.vnetHdr && this.tun.offload !== on) this.tun.setOffload(on);
  }

  /** An IP packet from the link into the device (a zero header in front in vnet mode). */
  writeIp(packet: Uint8Array): boolean {
    return this.tun.vnetHdr ? this.tun.writeIp(packet) : this.tun.write(packet);
  }

  /**
   * A GSO frame from the link (virtio_net_hdr + IP packet). The header comes from
   * the network: checked (validateVnetFrame) before the kernel sees it; a bad one
   * is dropped and counted.
   */
  writeGsoFrame(frame: Uint8Array): boolean {
    const bad = this.tun.vnetHdr ? validateVnetFrame(frame) : 'device not in vnet mode';
    if (bad !== null) {
      this.badGsoFrames++;
      this.lastBadGso = bad;
      return false;
    }
    return this.tun.write(frame);
  }

  /** IPv6CP link-local addresses: ours on fe80::/64, so fe80::<peer id>%dev is reachable. */
  async configure6(local: string, peer: string): Promise<void> {
    const ifx = this.tun.ifindex;
    if (this.local6 !== null && this.local6 !== local)
      await this.net.removeAddress(ifx, this.local6, 64);
    await this.net.addAddress6(ifx, local, 64);
    this.local6 = local;
    this.peer6 = peer;
  }

  /** Installs the routes (tracked: teardown removes exactly these). */
  async addRoutes(r: InterfaceRoutes): Promise<void> {
    const dev = this.tun.ifindex;
    const metric = r.metric ?? undefined;
    if (r.defaultRoute) {
      this.handles.push(
        ...(await this.tracker.addDefaultVia({ dev, server: r.server, mode: 'split', metric })),
      );
    }
    for (const dst of r.routes) {
      this.handles.push(await this.tracker.add({ dst, dev, metric }));
    }
  }

  /** Removes the routes we installed (the device and its addresses stay). */
  async removeRoutes(): Promise<void> {
    this.handles.length = 0;
    await this.tracker.removeAll();
  }

  /** Routes we installed, as the kernel takes them (`ip route` notation). */
  get routes(): string[] {
    return this.tracker.installed.map((rt) =>
      rt.dev === this.tun.ifindex ? rt.dst : `${rt.dst} via ${rt.gateway ?? 'link'}`,
    );
  }

  /** Exactly what state.json needs to undo our routes after a crash. */
  routeHandles(): RouteHandle[] {
    return this.handles.slice();
  }

  /** Removes our routes, then the device (its addresses go with it). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.handles.length = 0;
      await this.tracker.removeAll();
    } catch (err) {
      this.log.warn(`removing routes: ${(err as Error).message}`);
    }
    await this.tun.close();
    this.net.close();
  }
}

/** Undoes the routes a crashed run recorded in state.json. Returns what was removed. */
export async function removeStaleRoutes(handles: RouteHandle[]): Promise<string[]> {
  const net = new NetConfig();
  const removed: string[] = [];
  try {
    for (const h of handles.slice().reverse()) {
      try {
        if (await net.removeRoute(h)) removed.push(h.route.dst);
      } catch {
        /* gone or not ours any more */
      }
    }
  } finally {
    net.close();
  }
  return removed;
}
