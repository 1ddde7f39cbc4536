/** The runtime: where transports, the PPP engine and the TUN device meet. */

export { type ByteStream, type Clock, LinkDriver, monotonicMs } from '../link/index.js';
export { AddressPool } from './address-pool.js';
export {
  ClientTunnel,
  type ClientTunnelOptions,
  type TrafficCounters,
  type TunnelExit,
  type TunnelPhase,
  type TunnelStatus,
} from './client.js';
export { type ControlRequest, ControlServer, controlRequest } from './control.js';
export { clientEngineOptions, serverEngineOptions } from './engine-options.js';
export { type FailureKind, TunnelError, toTunnelError } from './errors.js';
export { TunnelInterface } from './interface.js';
export { type LogFormat, Logger, type LoggerOptions, type LogLevel } from './logger.js';
export { type ServeOptions, ServeSession } from './server.js';
export { DEFAULT_STATE_ROOT, listTunnels, StateError, TunnelStateDir } from './state-dir.js';
