/** gateway.yaml + one user's policy → PppEngine options for that user's session. */
import type { GatewayConfig, GatewayPolicy } from '../config/gateway.js';
import type { EngineOptions } from '../engine/index.js';
import { random32, serverEngineOptions } from '../runtime/engine-options.js';

export function gatewayEngineOptions(
  cfg: GatewayConfig,
  policy: GatewayPolicy,
  log: (line: string) => void,
  peer: string,
  acceptPeer: (addr: string) => boolean,
): EngineOptions {
  // The same engine as `ts-vpn serve`, with this user's DNS and PPP authentication.
  return {
    ...serverEngineOptions(
      {
        ...cfg,
        dns: policy.dns,
        auth: { require: policy.pppAuth, name: cfg.auth.name, users: cfg.auth.users },
      },
      log,
      peer,
      acceptPeer,
    ),
    gso: cfg.offload,
  };
}

/** Options for a session that is only opened to be refused (LCP, then Terminate-Request). */
export function refusalEngineOptions(
  cfg: GatewayConfig,
  log: (line: string) => void,
): EngineOptions {
  return {
    random32,
    log,
    lcp: { mru: cfg.mru },
    ipcp: { local: cfg.localAddress, peer: null, acceptPeer: () => false },
    ipv6cp: false,
  };
}
