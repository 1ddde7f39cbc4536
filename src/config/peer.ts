/**
 * `peer.yaml`: the client side (`ts-vpn up`). YAML keys are kebab-case (like
 * pppd and OpenSSH option names); the typed result is camelCase with every
 * default filled in and durations converted to milliseconds (`…Ms` fields).
 * See docs/CONFIG.md for the reference.
 *
 * The work is split by job: peer-types.ts (the typed result), peer-defaults.ts,
 * peer-checks.ts (leaf checks), peer-schema.ts, remote-kind.ts, peer-build.ts
 * (cross-field checks and defaults). This module parses and re-exports them.
 */
import type { ConfigEnv } from './env.js';
import { type Cidr, parseCidr } from './net.js';
import { buildPeer } from './peer-build.js';
import { peerSchema } from './peer-schema.js';
import type { PeerConfig } from './peer-types.js';
import { configParser } from './validate.js';

export { nameFromSource, SYSTEM_RESOLV_CONF, systemResolverWarning } from './peer-build.js';
export { PEER_DEFAULTS, SSH_SETTING_KEYS, SUPPORTED_CIPHERS } from './peer-defaults.js';
export { type PeerYaml, peerSchema } from './peer-schema.js';
export type { PeerConfig, SshHop } from './peer-types.js';
export { detectRemoteKind, detectWrappedKind } from './remote-kind.js';

/**
 * Parses and validates peer.yaml text (no file access: secret files are checked
 * and read by loadPeerConfig). Throws ConfigError listing every problem.
 */
export const parsePeerConfig: (text: string, sourceName: string, env?: ConfigEnv) => PeerConfig =
  configParser(peerSchema, buildPeer);

/** Re-parses a route list for the loader's host checks. */
export function routesAsCidrs(cfg: PeerConfig): Cidr[] {
  return cfg.routes.map((r) => (parseCidr(r) as { value: Cidr }).value);
}
