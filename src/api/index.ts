/**
 * ts-vpn as a library.
 *
 * - {@link PppLink}: a PPP session over any Node Duplex (socket, ssh2 channel,
 *   child process stdio via {@link joinStreams}/{@link childStream}, serial port):
 *   IP packets in and out, typed events, `await link.ready`, `link.packets()`.
 * - connect() (exported beside this by the package root, from src/connect.ts): what
 *   `ts-vpn up` does, from a peer.yaml. It is the client runtime, which this folder
 *   does not import.
 * - The sans-IO engine ({@link PppEngine}, {@link HdlcFramer}, {@link HdlcDeframer})
 *   for programs that drive I/O and time themselves (see docs/LIBRARY.md).
 *
 * @packageDocumentation
 */

export { secretsEqual } from '../auth/packet.js';
export {
  type ConfigEnv,
  ConfigError,
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
  type FsmStats,
  formatFrame,
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
  type FrameHandler,
  type FramerOptions,
  type FramerStats,
  fcs16,
  fcs32,
  HdlcDeframer,
  HdlcError,
  HdlcErrorCode,
  HdlcFramer,
} from '../hdlc/index.js';
export { type AddressFilter, type AddressPredicate, addressMatcher } from './cidr.js';

export { isPppLinkError, PppLinkError, type PppLinkErrorCode } from './errors.js';
// ---- PppLink ---------------------------------------------------------------------------------
export {
  PppLink,
  type PppLinkDownReason,
  type PppLinkEvents,
  type PppLinkInfo,
  type PppLinkState,
  type PppLinkStats,
} from './link.js';
export {
  cryptoRandom32,
  type PppAuthOptions,
  type PppLinkOptions,
  type PppRole,
} from './options.js';
export { PacketIterator, type PppPacket } from './packet-queue.js';
export { childStream, joinStreams } from './stream.js';
