/** Replays one side of a pppd capture into an engine, frame by frame. */

import { type EngineEvent, type EngineOptions, PppEngine } from '../../../src/engine/index.js';
import { splitFrames } from './link.js';

/** random32 that returns `values` in order, then a fixed xorshift stream. */
export function scriptedRandom(values: number[]): () => number {
  let i = 0;
  let x = 0x2545f491;
  return () => {
    if (i < values.length) return values[i++] >>> 0;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export interface ReplayResult {
  log: string[];
  sent: string[];
  events: EngineEvent[];
  engine: PppEngine;
  ip: number;
}

/** Feeds `bytes` one frame at a time (10 ms apart) into a fresh engine. */
export function replay(bytes: Uint8Array, opts: Omit<EngineOptions, 'log'>): ReplayResult {
  const log: string[] = [];
  let ip = 0;
  const engine = new PppEngine({ ...opts, log: (l) => log.push(l) }, () => ip++);
  const events: EngineEvent[] = [];
  let now = 0;
  engine.open(now);
  for (const f of splitFrames(bytes)) {
    now += 10;
    engine.handleTimeout(now);
    engine.receive(f, now);
    engine.takeOutput();
    events.push(...engine.takeEvents());
  }
  events.push(...engine.takeEvents());
  return {
    log,
    sent: log.filter((l) => l.startsWith('sent [')),
    events,
    engine,
    get ip() {
      return ip;
    },
  };
}
