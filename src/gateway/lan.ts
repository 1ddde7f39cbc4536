/**
 * The gateway's LAN side: IP forwarding (checked, or enabled and put back),
 * proxy ARP entries for client addresses (pppd's `proxyarp`, as rtnetlink
 * neighbour proxy entries: `ip neigh add proxy ADDR dev LAN`), and optional
 * masquerading of the pools (nft table `ts_vpn_gateway`, else iptables rules).
 * Everything added is recorded and removed by `close()`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { CodedError } from '../coded-error.js';
import { type GatewayConfig, needsIpv6Forwarding } from '../config/gateway.js';
import { ipv4Bytes as ipv4BytesOf, parseIpv4 } from '../wire/ip.js';

const AF_INET = 2;
const NUD_PERMANENT = 0x80;
export const IPV4_FORWARD = '/proc/sys/net/ipv4/ip_forward';
export const IPV6_FORWARD = '/proc/sys/net/ipv6/conf/all/forwarding';

export class GatewaySetupError extends CodedError<'GATEWAY_SETUP'> {
  override readonly name = 'GatewaySetupError';
  constructor(message: string) {
    super('GATEWAY_SETUP', message);
  }
}

export interface LanLog {
  info(msg: string): void;
  warn(msg: string): void;
}

function readSysctl(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function sysctlName(path: string): string {
  return path.replace('/proc/sys/', '').replaceAll('/', '.');
}

function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(ipv4BytesOf(parseIpv4(addr) ?? 0));
}

function which(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      /* not here */
    }
  }
  return false;
}

export class LanSide {
  private readonly cfg: GatewayConfig;
  private readonly log: LanLog;
  private readonly restoreSysctls: { path: string; value: string }[] = [];
  private readonly proxies = new Set<string>();
  private masq: { tool: 'nft' | 'iptables'; rules: string[][] } | null = null;
  private nl: RtNetlinkSocket | null = null;
  private lanIndex = 0;
  private v6Checked = false;

  constructor(cfg: GatewayConfig, log: LanLog) {
    this.cfg = cfg;
    this.log = log;
  }

  /** Proxy ARP entries currently installed (for status and tests). */
  get proxyArpEntries(): string[] {
    return [...this.proxies];
  }

  /** True when start() checked (or enabled) IPv6 forwarding: a policy routes IPv6. */
  get ipv6ForwardingChecked(): boolean {
    return this.v6Checked;
  }

  /** Checks or enables forwarding, resolves the LAN interface, sets up masquerading. */
  async start(): Promise<void> {
    const cfg = this.cfg;
    this.forwarding(IPV4_FORWARD);
    if (needsIpv6Forwarding(cfg)) {
      this.forwarding(IPV6_FORWARD);
      this.v6Checked = true;
    }
    if (cfg.lanInterface !== null) {
      const { libc } = await import('../sys/libc.js');
      this.lanIndex = libc().ifNameToIndex(cfg.lanInterface);
      if (this.lanIndex === 0)
        throw new GatewaySetupError(
          `lan-interface ${cfg.lanInterface} does not exist here (see ip link); fix lan-interface in ${cfg.source}`,
        );
    }
    if (cfg.proxyArp) {
      this.nl = createRtNetlink();
      this.noProxyDelay(cfg.lanInterface!);
    }
    if (cfg.masquerade) this.startMasquerade();
  }

  private forwarding(path: string): void {
    const v = readSysctl(path);
    if (v === '1') return;
    const name = sysctlName(path);
    if (this.cfg.forwarding === 'check')
      throw new GatewaySetupError(
        `${name} is ${v ?? 'unreadable'}: clients could not reach the LAN. Run: sysctl -w ${name}=1 (and add "${name} = 1" to /etc/sysctl.d/90-ts-vpn.conf to keep it), or set forwarding: enable in ${this.cfg.source}`,
      );
    try {
      writeFileSync(path, '1');
    } catch (e) {
      throw new GatewaySetupError(
        `cannot set ${name}=1 (forwarding: enable): ${(e as Error).message}`,
      );
    }
    if (v !== null) this.restoreSysctls.push({ path, value: v });
    this.log.info(`gateway: set ${name}=1 (was ${v}; put back on stop)`);
  }

  /**
   * The kernel answers a broadcast ARP request for a proxied address after a random
   * delay of up to `proxy_delay` (default 0.8 s); the gateway is the only one
   * answering for its clients, so it answers at once (put back on stop).
   */
  private noProxyDelay(lan: string): void {
    const path = `/proc/sys/net/ipv4/neigh/${lan}/proxy_delay`;
    const v = readSysctl(path);
    if (v === null || v === '0') return;
    try {
      writeFileSync(path, '0');
      this.restoreSysctls.push({ path, value: v });
    } catch (e) {
      this.log.warn(`gateway: cannot set ${sysctlName(path)}=0: ${(e as Error).message}`);
    }
  }

  private startMasquerade(): void {
    const lan = this.cfg.lanInterface!;
    const ranges = this.cfg.pools.map((p) => `${p.first}-${p.last}`);
    if (which('nft')) {
      const rules = [
        ['add', 'table', 'ip', 'ts_vpn_gateway'],
        [
          'add',
          'chain',
          'ip',
          'ts_vpn_gateway',
          'postrouting',
          '{ type nat hook postrouting priority 100 ; }',
        ],
        ...ranges.map((r) => [
          'add',
          'rule',
          'ip',
          'ts_vpn_gateway',
          'postrouting',
          'oifname',
          lan,
          'ip',
          'saddr',
          r,
          'masquerade',
        ]),
      ];
      this.masq = { tool: 'nft', rules: [] };
      for (const r of rules) this.run('nft', r);
      this.masq.rules.push(['delete', 'table', 'ip', 'ts_vpn_gateway']);
    } else if (which('iptables')) {
      this.masq = { tool: 'iptables', rules: [] };
      for (const r of ranges) {
        const spec = [
          'POSTROUTING',
          '-o',
          lan,
          '-m',
          'iprange',
          '--src-range',
          r,
          '-j',
          'MASQUERADE',
        ];
        this.run('iptables', ['-t', 'nat', '-A', ...spec]);
        this.masq.rules.push(['-t', 'nat', '-D', ...spec]);
      }
    } else {
      throw new GatewaySetupError(
        `masquerade: true needs nft (nftables) or iptables, and neither is installed; install one, or set masquerade: false and route the pools on the LAN router`,
      );
    }
    this.log.info(`gateway: masquerading ${ranges.join(', ')} out of ${lan} (${this.masq.tool})`);
  }

  private run(cmd: string, args: string[]): void {
    try {
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
      throw new GatewaySetupError(
        `${cmd} ${args.join(' ')} failed: ${err || (e as Error).message}`,
      );
    }
  }

  /** Answers ARP for `addr` on the LAN interface (no-op without proxy-arp). */
  async addProxyArp(addr: string): Promise<void> {
    if (!this.nl || this.proxies.has(addr)) return;
    await this.nl.newNeighbor(
      {
        family: AF_INET,
        ifindex: this.lanIndex,
        state: NUD_PERMANENT as never,
        flags: { proxy: true },
      },
      { dst: ipv4Bytes(addr) },
      { flags: FlagsNew.CREATE | FlagsNew.REPLACE },
    );
    this.proxies.add(addr);
  }

  async removeProxyArp(addr: string): Promise<void> {
    if (!this.nl || !this.proxies.has(addr)) return;
    this.proxies.delete(addr);
    try {
      await this.nl.delNeighbor(
        { family: AF_INET, ifindex: this.lanIndex, flags: { proxy: true } },
        { dst: ipv4Bytes(addr) },
      );
    } catch (e) {
      this.log.warn(`gateway: removing proxy ARP entry ${addr}: ${(e as Error).message}`);
    }
  }

  /** Removes everything start() and addProxyArp() added, and puts sysctls back. */
  async close(): Promise<void> {
    for (const a of [...this.proxies]) await this.removeProxyArp(a);
    this.nl?.socket.close();
    this.nl = null;
    if (this.masq) {
      for (const r of this.masq.rules) {
        try {
          this.run(this.masq.tool, r);
        } catch (e) {
          this.log.warn(`gateway: ${(e as Error).message}`);
        }
      }
      this.masq = null;
    }
    for (const s of this.restoreSysctls.splice(0)) {
      try {
        writeFileSync(s.path, s.value);
      } catch (e) {
        this.log.warn(
          `gateway: putting back ${sysctlName(s.path)}=${s.value}: ${(e as Error).message}`,
        );
      }
    }
  }
}
