/** The runtime: where transports, the PPP engine and the TUN device meet. */
export { ClientTunnel, type ClientTunnelOptions, type TunnelExit, type TunnelPhase, type TunnelStatus, type TrafficCounters } from './client.js';
export { ServeSession, type ServeOptions } from './server.js';
export { type FailureKind, TunnelError, toTunnelError } from './errors.js';
export { LinkDriver, type ByteStream, type Clock, monotonicMs } from './link-driver.js';
export { Logger, type LoggerOptions, type LogFormat, type LogLevel } from './logger.js';
export { TunnelStateDir, DEFAULT_STATE_ROOT, listTunnels, StateError } from './state-dir.js';
export { ControlServer, controlRequest, type ControlRequest } from './control.js';
export { AddressPool } from './address-pool.js';
export { TunnelInterface } from './interface.js';
export { clientEngineOptions, serverEngineOptions } from './engine-options.js';
