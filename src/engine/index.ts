/**
 * Public surface of the sans-IO PPP engine: {@link PppEngine}, its options,
 * events and stats, the RFC 1661 automaton and the pppd-style formatters.
 */
export { PppEngine } from './engine.js';
export type { EngineEvent, LinkPhase } from './events.js';
export type { EngineOptions, LcpOptions, IpcpOptions, Ipv6cpOptions, AuthOptions } from './options.js';
export { ProtocolCounters, type EngineStats, type CountedProtocol } from './stats.js';
export {
  Fsm,
  type FsmConfig,
  type FsmHost,
  type FsmStats,
  DEFAULT_FSM_CONFIG,
} from '../ppp/fsm.js';
export {
  FsmState,
  FSM_STATE_NAMES,
  FSM_EVENTS,
  FSM_TABLE,
  type FsmStateId,
  type FsmEvent,
  type FsmAction,
  type FsmTransition,
} from '../ppp/fsm-table.js';
export type { FsmPolicy, OptionVerdict } from '../ppp/policy.js';
export { PppError, type PppErrorCode } from '../ppp/errors.js';
export { Protocol, protocolName, protocolLongName } from '../ppp/protocols.js';
export { Code } from '../ppp/codes.js';
export { formatControlPacket, type PacketPrinter } from '../ppp/format.js';
export { parseControlPacket, emitControlPacket, type ControlPacket } from '../ppp/packet.js';
export { formatFrame } from './format-frame.js';
export { LCP_PRINTER } from '../lcp/printer.js';
export { IPCP_PRINTER, IPV6CP_PRINTER } from '../ipcp/printers.js';
export { CCP_PRINTER } from '../ppp/ccp.js';
