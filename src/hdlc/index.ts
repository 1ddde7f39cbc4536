/**
 * RFC 1662 HDLC-like framing for PPP in asynchronous (octet-stuffed) mode: FCS-16/FCS-32,
 * ACCM escaping, a bounded coalescing framer and a streaming deframer. Sans-IO: no Node
 * APIs, runs anywhere a Uint8Array does.
 */
export { ALL_STATIONS, DEFAULT_ACCM, ESCAPE, ESCAPE_XOR, FLAG, UI } from './constants.js';
export {
  type DeframerOptions,
  type DeframerStats,
  type FrameHandler,
  HdlcDeframer,
} from './deframer.js';
export { HdlcError, HdlcErrorCode } from './errors.js';
export { FCS16_GOOD, FCS16_INIT, fcs16 } from './fcs16.js';
export { FCS32_GOOD, FCS32_INIT, fcs32 } from './fcs32.js';
export { type FramerOptions, type FramerStats, HdlcFramer } from './framer.js';
