/** gateway.yaml + one user's policy → PppEngine options for that user's session. */
import { secretsEqual } from '../auth/index.js';
import type { GatewayConfig, GatewayPolicy } from '../config/gateway.js';
import type { EngineOptions } from '../engine/index.js';
import { random32 } from '../runtime/engine-options.js';

export function gatewayEngineOptions(
  cfg: GatewayConfig,
  policy: GatewayPolicy,
  log: (line: string) => void,
  peer: string,
  acceptPeer: (addr: string) => boolean,
): EngineOptions {
  const secrets = new Map(cfg.auth.users.map((u) => [u.user, u.password?.reveal() ?? null]));
  return {
    random32,
    log,
    lcp: { mru: cfg.mru, echoIntervalMs: cfg.echoIntervalMs, echoFailures: cfg.echoFailures },
    ipcp: {
      local: cfg.localAddress,
      peer,
      acceptLocal: (a) => a === cfg.localAddress,
      acceptPeer,
      dns: policy.dns,
      maxFailure: 100,
    },
    ipv6cp: cfg.ipv6 ? {} : false,
    gso: cfg.offload,
    auth:
      policy.pppAuth === 'none'
        ? {}
        : {
            require: policy.pppAuth,
            name: cfg.auth.name,
            verify: (user, password) => {
              const want = secrets.get(user);
              return want !== undefined && want !== null && secretsEqual(want, password);
            },
            secretFor: (name) => secrets.get(name) ?? null,
          },
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
