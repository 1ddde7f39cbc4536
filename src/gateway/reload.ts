/**
 * What a SIGHUP applies (`ts-vpn gateway` reads gateway.yaml again): the per-user part
 * — defaults, users, groups, unknown-users, max-sessions, PPP secrets, mru, echo,
 * offload, debug — for sessions that start from then on. Keys the daemon acted on at
 * start (socket, addresses and pools, the LAN side, forwarding, interface names, IPv6,
 * state dir, run-as) keep their running values until a restart, and are named. Sessions
 * already up keep the policy they started with. Pure: no I/O.
 */
import { type GatewayConfig, needsIpv6Forwarding, policiesOf } from '../config/gateway.js';

/**
 * Keys only a restart applies: the name a user knows, and the field of the config. A
 * reload compares each and keeps its running value.
 */
const RESTART_ONLY = [
  ['socket', 'socket'],
  ['local-address', 'localAddress'],
  ['pool/pools', 'pools'],
  ['lan-interface', 'lanInterface'],
  ['proxy-arp', 'proxyArp'],
  ['masquerade', 'masquerade'],
  ['forwarding', 'forwarding'],
  ['interface-name', 'interfaceName'],
  ['ipv6', 'ipv6'],
  ['state-dir', 'stateDir'],
  ['run-as', 'runAs'],
] as const satisfies ReadonlyArray<readonly [string, keyof GatewayConfig]>;

export type ReloadPlan =
  | {
      /** The config to serve new sessions with: `next`, restart-only keys as running. */
      cfg: GatewayConfig;
      /** Restart-only keys that differ in the file (not applied). */
      restartNeeded: string[];
    }
  | { error: string };

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
    ([, field]) => JSON.stringify(running[field]) !== JSON.stringify(next[field]),
  ).map(([key]) => key);
  const cfg: GatewayConfig = { ...next, source: running.source };
  for (const [, field] of RESTART_ONLY) Object.assign(cfg, { [field]: running[field] });
  const poolNames = new Set(running.pools.map((p) => p.name));
  for (const [where, p] of policiesOf(cfg)) {
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
