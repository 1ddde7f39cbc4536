/**
 * The link floor: one PPP link over one byte stream, between the sans-IO engine
 * and its owners (the library's PppLink, `ts-vpn up`, `ts-vpn serve`, the gateway).
 * May import the core (engine, ppp, hdlc) and pure wire formats; never runtime,
 * config, tun devices or the public API.
 */
export {
  type ByteStream,
  type Clock,
  LinkDriver,
  type LinkDriverEvents,
  monotonicMs,
} from './driver.js';
export { EarlyPackets } from './early-packets.js';
export {
  GATEWAY_REFUSAL,
  isRefusal,
  type LinkEndFacts,
  LinkSession,
  type LinkSessionEvents,
  type LinkSessionOptions,
} from './session.js';
