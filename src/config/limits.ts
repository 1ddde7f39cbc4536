/** Ranges the config files share (peer.yaml, server.yaml, gateway.yaml). */
import { ENGINE_RANGES } from '../engine/defaults.js';

/**
 * `mru` in every config file. The engine (ENGINE_RANGES.mru) takes up to 65535, the
 * largest value the LCP option can carry; the config stops at 16384 on purpose, as
 * pppd does (its MAXMRU is 16384), so a file that pppd would refuse is refused here
 * too and a typo such as 65000 is caught rather than negotiated.
 */
export const CONFIG_MRU_RANGE = Object.freeze({ min: ENGINE_RANGES.mru.min, max: 16384 });
