/**
 * The network side of `ts-vpn up`: the TUN device and its data path, the
 * addresses, the routes (kept across reconnects, renewed when the far end changes
 * the addresses), the DNS servers the far end gave us. Interface changes run one
 * at a time (events may arrive faster than netlink answers).
 */
import type { PeerConfig } from '../config/index.js';
import type { LinkSession } from '../link/index.js';
import { DataPath } from './data-path.js';
import { PeerDns } from './dns.js';
import { dropTunnelPrivileges } from './drop-privileges.js';
import type { TunnelInterface } from './interface.js';
import type { Logger } from './logger.js';
import { SerialQueue } from './serial.js';

export class ClientNetwork {
  readonly data: DataPath;
  /** DNS servers of the current link (IPCP). */
  dns: string[] = [];
  /** The configured routes are on the interface. */
  routesAdded = false;
  private peerDns: PeerDns | null = null;
  private readonly dnsExitHandler = () => this.peerDns?.restoreSync();
  private readonly changes = new SerialQueue();

  constructor(
    private readonly config: PeerConfig,
    private readonly log: Logger,
    /** Where the original resolv.conf is kept while ours is in place. */
    private readonly backupDir: string,
    /** Drop privileges once the device exists (src/runtime/drop-privileges.ts). */
    private readonly dropPrivileges: boolean,
    onDeviceError: (err: Error) => void,
  ) {
    this.data = new DataPath({ log, onDeviceError });
  }

  get iface(): TunnelInterface | null {
    return this.data.iface;
  }

  /** The resolv.conf we wrote, if any (recorded in the state file). */
  get resolvConf(): string | null {
    return this.peerDns?.writtenFile ?? null;
  }

  /** Runs `fn` after every earlier interface change. */
  serialize(fn: () => Promise<void>): Promise<void> {
    return this.changes.run(fn);
  }

  /**
   * IPCP opened: device (once), addresses and MTU, routes, DNS. Returns the MTU in
   * use, or null when `stillWanted()` turned false while netlink answered.
   */
  async configure4(
    session: LinkSession,
    serverAddr: string | null,
    v4: { local: string; peer: string; dns: string[] },
    stillWanted: () => boolean,
  ): Promise<number | null> {
    const cfg = this.config;
    const mtu = cfg.tunnel.mtu ?? session.mtu;
    const fresh = this.data.iface === null;
    const iface = await this.data.open(cfg.tunnel.interface, session.gso);
    // The device exists: from here on CAP_NET_ADMIN is all we need (docs/SECURITY.md).
    if (fresh && this.dropPrivileges)
      dropTunnelPrivileges({
        ...cfg.tunnel,
        stateDir: this.backupDir,
        readLater: [...cfg.ssh.identityFiles, ...cfg.ssh.hostKey.knownHostsFiles],
        log: this.log,
      });
    if (fresh && cfg.ppp.usePeerDns) {
      this.peerDns = new PeerDns({
        name: cfg.name,
        ifname: iface.name,
        writeTo: cfg.dns.writeTo,
        backupDir: this.backupDir,
        resolved: false,
        domains: cfg.defaultRoute ? ['~.'] : [],
        log: this.log,
      });
      process.on('exit', this.dnsExitHandler);
    }
    // Old routes go with old addresses (the far end changed them): added again below.
    if (await this.data.configure4(v4.local, v4.peer, mtu, session.gso)) this.routesAdded = false;
    if (!this.routesAdded) {
      await iface.addRoutes({
        routes: cfg.routes,
        defaultRoute: cfg.defaultRoute,
        server: serverAddr ?? undefined,
        metric: cfg.tunnel.metric,
      });
      this.routesAdded = true;
    }
    this.dns = v4.dns;
    if (this.peerDns) await this.peerDns.apply(v4.dns);
    return stillWanted() ? mtu : null;
  }

  /** Restores DNS, then removes the device and its routes (logged). */
  async close(): Promise<void> {
    this.data.stop();
    if (this.peerDns) await this.peerDns.restore();
    process.off('exit', this.dnsExitHandler);
    const iface = this.data.iface;
    if (!iface) return;
    const name = iface.name;
    const routes = iface.routes;
    await iface.close().then(
      () =>
        this.log.info(`removed ${name}${routes.length ? ` and routes ${routes.join(', ')}` : ''}`),
      (err) => this.log.warn(`closing ${name}: ${(err as Error).message}`),
    );
    this.data.iface = null;
  }
}
