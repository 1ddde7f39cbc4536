/** The engine's settings: defaults and ranges defined once (defaults.ts) and what they mean. */

import { describe, expect, it } from 'vitest';
import {
  cryptoRandom32,
  DEFAULT_MRU,
  defaultNegotiationTimeoutMs,
  ENGINE_DEFAULTS,
  ENGINE_RANGES,
  type EngineOptions,
  type EngineSettings,
  MAX_MRU,
  MIN_MRU,
  PppEngine,
} from '../../src/engine/index.js';

function firstOutput(settings: EngineSettings): Uint8Array | null {
  const e = new PppEngine(settings);
  e.open(0);
  return e.takeOutput();
}

describe('engine settings', () => {
  it('ENGINE_DEFAULTS are the defaults: spelling them out changes nothing on the wire', () => {
    const random32 = () => 0x4bdad897;
    expect(firstOutput({ random32, lcp: { ...ENGINE_DEFAULTS.lcp } })).toEqual(
      firstOutput({ random32 }),
    );
    expect(ENGINE_DEFAULTS.lcp).toMatchObject({
      mru: 1500,
      restartMs: 3000,
      maxConfigure: 10,
      maxTerminate: 2,
      maxFailure: 5,
    });
    expect(DEFAULT_MRU).toBe(1500);
  });

  it('the MRU range is the one the engine checks, with the range in the message', () => {
    expect(ENGINE_RANGES.mru).toEqual({ min: MIN_MRU, max: MAX_MRU });
    expect(() => new PppEngine({ random32: () => 1, lcp: { mru: MAX_MRU } })).not.toThrow();
    expect(() => new PppEngine({ random32: () => 1, lcp: { mru: MIN_MRU - 1 } })).toThrow(
      `lcp.mru must be an integer in ${MIN_MRU}..${MAX_MRU}, got ${MIN_MRU - 1}`,
    );
    expect(() => new PppEngine({ random32: () => 1, lcp: { mru: MAX_MRU + 1 } })).toThrow(
      expect.objectContaining({ code: 'ERR_PPP_BAD_OPTION' }),
    );
  });

  it('the negotiation deadline formula is 41 s with pppd defaults', () => {
    expect(defaultNegotiationTimeoutMs()).toBe(41_000);
    expect(defaultNegotiationTimeoutMs(1000, 5)).toBe(12_000);
  });

  it('cryptoRandom32 gives unsigned 32-bit numbers and feeds an engine', () => {
    const xs = Array.from({ length: 8 }, () => cryptoRandom32());
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x <= 0xffffffff).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(1);
    expect(firstOutput({ random32: cryptoRandom32 })).not.toBeNull();
  });

  it('EngineOptions stays a name for EngineSettings (deprecated alias)', () => {
    const o: EngineOptions = { random32: () => 1 };
    const s: EngineSettings = o;
    expect(() => new PppEngine(s)).not.toThrow();
  });
});
