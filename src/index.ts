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
  ClientTunnel,
  type ClientTunnelOptions,
  type TunnelExit,
  type TunnelPhase,
  type TunnelStatus,
  ServeSession,
  type ServeOptions,
  TunnelError,
  type FailureKind,
  Logger,
  LinkDriver,
  type ByteStream,
} from './runtime/index.js';
export {
  ConfigError,
  type PeerConfig,
  type ServerConfig,
  loadPeerConfig,
  loadServerConfig,
  parsePeerConfig,
  parseServerConfig,
  describeConfig,
} from './config/index.js';
export { PppEngine, type EngineOptions, type EngineEvent, type EngineStats } from './engine/index.js';

/** Starts a tunnel and resolves once it carries traffic; rejects with a TunnelError (already cleaned up). */
export async function connect(config: PeerConfig, opts: ClientTunnelOptions = {}): Promise<ClientTunnel> {
  const t = new ClientTunnel(config, opts);
  await t.start();
  return t;
}
