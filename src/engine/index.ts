/**
 * Public surface of the sans-IO PPP engine: {@link PppEngine}, its options,
 * events and stats, the RFC 1661 automaton and the pppd-style formatters.
 */

export { LCP_PRINTER } from '../lcp/printer.js';
export { IPCP_PRINTER, IPV6CP_PRINTER } from '../ncp/printers.js';
export { CCP_PRINTER } from '../ppp/ccp.js';
export { Code } from '../ppp/codes.js';
export { PppError, type PppErrorCode } from '../ppp/errors.js';
export { formatControlPacket, type PacketPrinter } from '../ppp/format.js';
export {
  DEFAULT_FSM_CONFIG,
  Fsm,
  type FsmConfig,
  type FsmHost,
  type FsmStats,
} from '../ppp/fsm.js';
export {
  FSM_EVENTS,
  FSM_STATE_NAMES,
  FSM_TABLE,
  type FsmAction,
  type FsmEvent,
  FsmState,
  type FsmStateId,
  type FsmTransition,
} from '../ppp/fsm-table.js';
export { DEFAULT_MRU, MAX_MRU, MIN_MRU } from '../ppp/mru.js';
export { type ControlPacket, emitControlPacket, parseControlPacket } from '../ppp/packet.js';
export type { FsmPolicy, OptionVerdict } from '../ppp/policy.js';
export { Protocol, protocolLongName, protocolName } from '../ppp/protocols.js';
export {
  cryptoRandom32,
  defaultNegotiationTimeoutMs,
  ENGINE_DEFAULTS,
  ENGINE_RANGES,
  type IntRange,
  PPPD_IPCP_MAX_FAILURE,
} from './defaults.js';
export { type GsoFrameHandler, PppEngine } from './engine.js';
export type { EngineEvent, FinishCause, LinkPhase } from './events.js';
export { formatFrame } from './format-frame.js';
export { GSO_MAX_PACKET, GsoCounters, gsoInnerVersion, VNET_HDR_LEN } from './gso.js';
export { type NcpKind, NO_NETWORK_PROTOCOLS, type RequiredNetwork } from './network-phase.js';
export type {
  AuthOptions,
  AuthSettings,
  EngineOptions,
  EngineSettings,
  IpcpOptions,
  IpcpSettings,
  Ipv6cpOptions,
  Ipv6cpSettings,
  LcpOptions,
  LcpSettings,
  PeerKind,
} from './settings.js';
export { type CountedProtocol, type EngineStats, ProtocolCounters } from './stats.js';
