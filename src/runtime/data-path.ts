/**
 * DataPath: the TUN device ↔ PPP link forwarding of one tunnel end, shared by
 * `ts-vpn up` and `ts-vpn serve` (and the gateway).
 *
 *   TUN reader ──► onTun (packets or vnet frames) ──► LinkSession ──► stream
 *   stream ──► LinkSession ──► onLinkPacket / onLinkGsoFrame ──► TUN writer
 *
 * It opens the device in the right mode (vnet header when the link carries GSO
 * frames), configures the IPv4 addresses and MTU (again only when the far end
 * changed them), holds the far end's packets that beat the interface set-up
 * (EarlyPackets), applies an IPv6CP result that arrived before the device existed,
 * pauses the TUN reader while the stream pushes back, and counts what it drops.
 * The owner decides everything else (routes, DNS, hooks, when the link is up).
 */
import { EarlyPackets, type LinkSession } from '../link/index.js';
import { GcPacer } from './gc-pacer.js';
import type { TunnelInterface } from './interface.js';
import { loadInterfaceModule } from './interface-loader.js';
import type { Logger } from './logger.js';

export interface DataPathOptions {
  log: Logger;
  /** Prefix of the log lines (`serve: `), and who the far end is in them. */
  prefix?: string;
  farEnd?: string;
  /** The TUN device failed (read/write error): the owner ends the tunnel. */
  onDeviceError: (err: Error) => void;
}

export class DataPath {
  iface: TunnelInterface | null = null;
  /** The interface has its addresses: packets flow both ways. */
  ready = false;
  /** Packets dropped outside any engine: no link, no interface yet, early queue full. */
  drops = 0;
  private session: LinkSession | null = null;
  private closing = false;
  private readonly early = new EarlyPackets();
  private pending6: { local: string; peer: string } | null = null;
  private readonly opts: DataPathOptions;
  /** A young-generation GC every few MB forwarded, so dead Buffers do not pile up in glibc's heap. */
  readonly gc = new GcPacer();

  constructor(opts: DataPathOptions) {
    this.opts = opts;
  }

  /**
   * The link packets go to from now on (null: none, everything from the TUN is
   * dropped and counted). Its backpressure pauses the TUN reader.
   */
  attach(session: LinkSession | null): void {
    this.session = session;
    if (!session) return;
    session.driver.onBackpressure = (blocked) => {
      const tun = this.iface?.tun;
      if (!tun || this.session !== session) return;
      if (blocked) tun.pause();
      else tun.resume();
    };
  }

  /** The link ended: resume reading (dropping), forget packets held for the interface. */
  detach(session: LinkSession): void {
    if (this.session === session) this.session = null;
    // Its stream may have been pushing back: read (and count as dropped) again.
    this.iface?.tun.resume();
    this.drops += this.early.length;
    this.early.discard();
  }

  /** Shutting down: packets that arrive before the interface is ready are no longer held. */
  stop(): void {
    this.closing = true;
  }

  // ---- interface ---------------------------------------------------------------------------

  /** Opens the TUN device once (vnet mode when the link carries GSO frames). */
  async open(name: string, vnetHdr: boolean): Promise<TunnelInterface> {
    if (this.iface) return this.iface;
    const { TunnelInterface } = await loadInterfaceModule();
    const iface = await TunnelInterface.open(name, this.opts.log, { vnetHdr });
    this.iface = iface;
    const tun = iface.tun;
    const vnet = tun.vnetHdr;
    tun.onPackets((batch) => this.onTun(batch, vnet));
    tun.on('error', (err: Error) => this.opts.onDeviceError(err));
    return iface;
  }

  /**
   * IPCP opened: addresses and MTU on the interface (only when new or changed),
   * then the held packets. Returns true when the far end changed the addresses of
   * an interface already configured (its routes were removed: the owner adds them again).
   */
  async configure4(local: string, peer: string, mtu: number, gso: boolean): Promise<boolean> {
    const iface = this.iface;
    if (!iface) throw new Error('configure4 before open');
    // A renegotiation (a Configure-Request in Opened state) may change it.
    iface.setOffload(gso);
    const changed = iface.local4 !== null && (iface.local4 !== local || iface.peer4 !== peer);
    if (changed) {
      this.opts.log.warn(
        `${this.opts.prefix ?? ''}far end changed the addresses: ${iface.local4} → ${local}, peer ${iface.peer4} → ${peer}; reconfiguring ${iface.name}`,
      );
      // Old routes go with the old addresses; the owner adds them again.
      await iface.removeRoutes();
    }
    if (iface.local4 === null || changed || iface.mtu !== mtu)
      await iface.configure4(local, peer, mtu);
    this.ready = true;
    this.early.flush((p) => iface.writeIp(p));
    const p6 = this.pending6;
    this.pending6 = null;
    if (p6) await this.configure6(p6.local, p6.peer);
    return changed;
  }

  /** IPv6CP opened; applied later when the interface does not exist yet (IPv6CP often opens first). */
  async configure6(local: string, peer: string): Promise<void> {
    if (!this.iface) {
      this.pending6 = { local, peer };
      return;
    }
    try {
      await this.iface.configure6(local, peer);
    } catch (err) {
      this.opts.log.warn(
        `${this.opts.prefix ?? ''}IPv6 link-local address: ${(err as Error).message}`,
      );
    }
  }

  // ---- packets -----------------------------------------------------------------------------

  /**
   * TUN → link: plain IP packets, or in vnet mode frames with a virtio_net_hdr in front.
   * The reader's views are valid only during this call; the engine frames them synchronously.
   */
  private onTun(batch: Uint8Array[], vnet: boolean): void {
    const s = this.session;
    // Sent as soon as the interface is configured, not only once the whole bring-up
    // (routes, DNS, hooks) is done: an answer to a packet the far end sent early must
    // not be lost. The engine drops (and counts) whatever comes before IPCP is open.
    if (s === null || !this.ready) this.drops += batch.length;
    else if (vnet) s.sendTunFrames(batch);
    else s.sendPackets(batch);
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) bytes += batch[i]!.length;
    this.gc.account(bytes);
  }

  /** Link → TUN: a GSO frame (virtio_net_hdr + IP packet), checked before the kernel sees it. */
  onLinkGsoFrame(frame: Uint8Array): void {
    const iface = this.iface;
    if (iface === null || !this.ready) {
      this.drops++;
      return;
    }
    this.gc.account(frame.length);
    if (!iface.writeGsoFrame(frame) && iface.lastBadGso !== null) {
      this.opts.log.debug(
        `${this.opts.prefix ?? ''}dropped a GSO frame from the ${this.opts.farEnd ?? 'far end'}: ${iface.lastBadGso}`,
      );
      iface.lastBadGso = null;
    }
  }

  /** Link → TUN. */
  onLinkPacket(pkt: Uint8Array): void {
    const iface = this.iface;
    if (iface === null || !this.ready) {
      // The far end's IPCP may open (and send) before our interface is configured.
      if (this.closing || !this.early.hold(pkt)) this.drops++;
      return;
    }
    this.gc.account(pkt.length);
    iface.writeIp(pkt);
  }
}
