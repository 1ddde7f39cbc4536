/**
 * What a SIGHUP applies (`ts-vpn gateway` reads gateway.yaml again): the per-user part
 * — defaults, users, groups, unknown-users, max-sessions, PPP secrets, mru, echo,
 * offload, debug — for sessions that start from then on. Keys the daemon acted on at
 * start (socket, addresses and pools, the LAN side, forwarding, interface names, IPv6,
 * state dir, run-as) keep their running values until a restart, and are named. Sessions
 * already up keep the policy they started with. Pure: no I/O.
 */
import type { GatewayConfig, GatewayPolicy } from '../config/gateway.js';

/** Keys only a restart applies, each with how to read it from a config. */
const RESTART_ONLY: ReadonlyArray<readonly [string, (c: GatewayConfig) => unknown]> = [
  ['socket', (c) => c.socket],
  ['local-address', (c) => c.localAddress],
  ['pool/pools', (c) => c.pools.map((p) => [p.name, p.text])],
  ['lan-interface', (c) => c.lanInterface],
  ['proxy-arp', (c) => c.proxyArp],
  ['masquerade', (c) => c.masquerade],
  ['forwarding', (c) => c.forwarding],
  ['interface-name', (c) => c.interfaceName],
  ['ipv6', (c) => c.ipv6],
  ['state-dir', (c) => c.stateDir],
  ['run-as', (c) => c.runAs],
];

export type ReloadPlan =
  | {
      /** The config to serve new sessions with: `next`, restart-only keys as running. */
      cfg: GatewayConfig;
      /** Restart-only keys that differ in the file (not applied). */
      restartNeeded: string[];
    }
  | { error: string };

function policies(c: GatewayConfig): Array<[string, GatewayPolicy]> {
  return [
    ['defaults', c.defaults],
    ...[...c.users].map(([n, p]): [string, GatewayPolicy] => [`users.${n}`, p]),
    ...[...c.groups].map(([n, p]): [string, GatewayPolicy] => [`groups.${n}`, p]),
  ];
}

/** True when some policy routes an IPv6 prefix (IPv6 forwarding is checked at start then). */
export function needsIpv6Forwarding(c: GatewayConfig): boolean {
  return policies(c).some(([, p]) => p.routes.some((r) => r.includes(':')));
}

/**
 * Merges a re-read `next` into the `running` config, or says why it cannot be served
 * without a restart (a policy naming a pool or fixed address the running pools cannot
 * give, IPv6 routes when IPv6 forwarding was not checked at start).
 */
export function planReload(
  running: GatewayConfig,
  next: GatewayConfig,
  ipv6ForwardingChecked: boolean,
): ReloadPlan {
  const restartNeeded = RESTART_ONLY.filter(
    ([, get]) => JSON.stringify(get(running)) !== JSON.stringify(get(next)),
  ).map(([key]) => key);
  const cfg: GatewayConfig = {
    ...next,
    source: running.source,
    socket: running.socket,
    localAddress: running.localAddress,
    pools: running.pools,
    lanInterface: running.lanInterface,
    proxyArp: running.proxyArp,
    masquerade: running.masquerade,
    forwarding: running.forwarding,
    interfaceName: running.interfaceName,
    ipv6: running.ipv6,
    stateDir: running.stateDir,
    runAs: running.runAs,
  };
  const poolNames = new Set(running.pools.map((p) => p.name));
  for (const [where, p] of policies(cfg)) {
    if (p.address === null && !poolNames.has(p.pool))
      return {
        error: `${where}.pool: pool ${p.pool} exists only in the file, not in the running gateway (pools change on restart)`,
      };
    if (p.address === running.localAddress)
      return {
        error: `${where}.address: ${p.address} is the running gateway's own address (local-address changes on restart)`,
      };
  }
  if (needsIpv6Forwarding(cfg) && !ipv6ForwardingChecked)
    return {
      error:
        'routes to IPv6 prefixes need IPv6 forwarding, which is checked only at start: restart the gateway to apply this file',
    };
  return { cfg, restartNeeded };
}

/** Every fixed client address of a config's policies (kept out of the pools). */
export function fixedAddresses(c: GatewayConfig): string[] {
  return policies(c).flatMap(([, p]) => (p.address !== null ? [p.address] : []));
}
