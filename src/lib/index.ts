/**
 * ts-vpn as a library.
 *
 * - {@link PppLink}: a PPP session over any Node Duplex (socket, ssh2 channel,
 *   child process stdio via {@link joinStreams}/{@link childStream}, serial port):
 *   IP packets in and out, typed events, `await link.ready`, `link.packets()`.
 * - {@link connect}: what `ts-vpn up` does, from a peer.yaml (path or parsed config).
 * - The sans-IO engine ({@link PppEngine}, {@link HdlcFramer}, {@link HdlcDeframer})
 *   for programs that drive I/O and time themselves (see docs/LIBRARY.md).
 *
 * @packageDocumentation
 */

// ---- PppLink ---------------------------------------------------------------------------------
export {
  PppLink,
  type PppLinkDownReason,
  type PppLinkEvents,
  type PppLinkInfo,
  type PppLinkState,
  type PppLinkStats,
} from './link.js';
export { type PppAuthOptions, type PppLinkOptions, type PppRole, cryptoRandom32 } from './options.js';
export { type AddressFilter, type AddressPredicate, addressMatcher } from './cidr.js';
export { PacketIterator, type PppPacket } from './packet-queue.js';
export { childStream, joinStreams } from './stream.js';
export { PppLinkError, type PppLinkErrorCode, isPppLinkError } from './errors.js';
export { secretsEqual } from '../auth/packet.js';

// ---- connect() -------------------------------------------------------------------------------
export {
  connect,
  type ConnectHandle,
  type ConnectOptions,
  type ConnectStatus,
  type ConnectTunnel,
  type ConnectTunnelEvents,
} from './connect.js';
export type { TunnelExit, TunnelPhase, TunnelStatus, TrafficCounters } from '../runtime/client.js';
export type { FailureKind } from '../runtime/errors.js';
export {
  ConfigError,
  type ConfigEnv,
  type ConfigIssue,
  type LoadOptions,
  loadPeerConfig,
  type PeerConfig,
  parsePeerConfig,
  type Resolver,
  Secret,
} from '../config/index.js';

// ---- sans-IO engine --------------------------------------------------------------------------
export {
  type AuthOptions,
  type CountedProtocol,
  type EngineEvent,
  type EngineOptions,
  type EngineStats,
  formatFrame,
  type FsmStats,
  type IpcpOptions,
  type Ipv6cpOptions,
  type LcpOptions,
  type LinkPhase,
  PppEngine,
  PppError,
  type PppErrorCode,
  Protocol,
  ProtocolCounters,
  protocolName,
} from '../engine/index.js';
export {
  type DeframerOptions,
  type DeframerStats,
  FCS16_GOOD,
  FCS16_INIT,
  FCS32_GOOD,
  FCS32_INIT,
  fcs16,
  fcs32,
  type FrameHandler,
  type FramerOptions,
  type FramerStats,
  HdlcDeframer,
  HdlcError,
  HdlcErrorCode,
  HdlcFramer,
} from '../hdlc/index.js';
