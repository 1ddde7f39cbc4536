/**
 * ts-vpn as a library: everything of `src/api` (PppLink, the sans-IO engine and
 * framing; see docs/LIBRARY.md), connect() (`src/connect.ts`: the client runtime for programs), plus the runtime pieces `ts-vpn` itself
 * is built from, for programs that drive a tunnel more closely.
 *
 * ```ts
 * import { connect, PppLink } from 'ts-vpn';
 * const vpn = await connect('/etc/ts-vpn/office.yaml');   // resolves when the tunnel is up
 * console.log(vpn.status());
 * await vpn.close();
 * ```
 * The PPP engine alone is at `ts-vpn/engine`, the HDLC framing at `ts-vpn/hdlc`.
 */

export * from './api/index.js';
export {
  describeConfig,
  loadServerConfig,
  parseServerConfig,
  type ServerConfig,
} from './config/index.js';
export {
  type ConnectHandle,
  type ConnectOptions,
  type ConnectStatus,
  type ConnectTunnel,
  type ConnectTunnelEvents,
  connect,
} from './connect.js';
export type { TrafficCounters, TunnelExit, TunnelPhase, TunnelStatus } from './runtime/client.js';
export type { FailureKind } from './runtime/errors.js';
export {
  type ByteStream,
  ClientTunnel,
  type ClientTunnelOptions,
  LinkDriver,
  Logger,
  type ServeOptions,
  ServeSession,
  TunnelError,
} from './runtime/index.js';
export {
  type CauseCounters,
  formatStatusList,
  formatStatusTable,
} from './runtime/status-format.js';
