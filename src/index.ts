/**
 * ts-vpn as a library.
 *
 * ```ts
 * import { connect, loadPeerConfig } from 'ts-vpn';
 * const tunnel = await connect(await loadPeerConfig('peer.yaml'));   // resolves when the tunnel is up
 * console.log(tunnel.status());
 * await tunnel.close();
 * ```
 * The PPP engine alone is at `ts-vpn/engine`, the HDLC framing at `ts-vpn/hdlc`.
 */
import type { PeerConfig } from './config/index.js';
import { ClientTunnel, type ClientTunnelOptions } from './runtime/client.js';

export {
  ConfigError,
  describeConfig,
  loadPeerConfig,
  loadServerConfig,
  type PeerConfig,
  parsePeerConfig,
  parseServerConfig,
  type ServerConfig,
} from './config/index.js';
export {
  type EngineEvent,
  type EngineOptions,
  type EngineStats,
  PppEngine,
} from './engine/index.js';
export {
  type ByteStream,
  ClientTunnel,
  type ClientTunnelOptions,
  type FailureKind,
  LinkDriver,
  Logger,
  type ServeOptions,
  ServeSession,
  TunnelError,
  type TunnelExit,
  type TunnelPhase,
  type TunnelStatus,
} from './runtime/index.js';

/** Starts a tunnel and resolves once it carries traffic; rejects with a TunnelError (already cleaned up). */
export async function connect(
  config: PeerConfig,
  opts: ClientTunnelOptions = {},
): Promise<ClientTunnel> {
  const t = new ClientTunnel(config, opts);
  await t.start();
  return t;
}
