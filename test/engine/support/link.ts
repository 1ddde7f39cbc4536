/**
 * Two engines (or an engine and a scripted peer) over an in-memory link with
 * a fake clock, and optional per-frame fault injection.
 */

import { type EngineEvent, type EngineOptions, PppEngine } from '../../../src/engine/index.js';

import { seededRandom } from '../../support/random.js';

export { seededRandom };

/** Splits coalesced output into single frames, each `7e … 7e`. */
export function splitFrames(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x7e) continue;
    if (start >= 0 && i > start + 1) {
      const f = new Uint8Array(i - start + 1);
      f.set(bytes.subarray(start, i + 1));
      out.push(f);
    }
    start = i;
  }
  return out;
}

/** Decides what happens to one frame in flight: [] drops it, two entries duplicate it. */
export type Fault = (dir: 'ab' | 'ba', frame: Uint8Array) => Uint8Array[];

export interface Side {
  engine: PppEngine;
  log: string[];
  events: EngineEvent[];
  ip: { version: 4 | 6; packet: Uint8Array }[];
  /** GSO frames received (copies). */
  gso: { version: 4 | 6; frame: Uint8Array }[];
}

export function makeSide(
  opts: Partial<EngineOptions> & { seed?: number },
  name: string,
  clockLog?: string[],
): Side {
  const log: string[] = [];
  const ip: Side['ip'] = [];
  const gso: Side['gso'] = [];
  const engine = new PppEngine(
    {
      random32: seededRandom(opts.seed ?? name.charCodeAt(0) * 7919),
      ...opts,
      log: (l) => {
        log.push(l);
        clockLog?.push(`${name}: ${l}`);
      },
    },
    (version, packet) => ip.push({ version, packet: Uint8Array.from(packet) }),
    (frame, version) => gso.push({ version, frame: Uint8Array.from(frame) }),
  );
  return { engine, log, events: [], ip, gso };
}

/** Two engines joined back to back. */
export class Link {
  now = 0;
  readonly a: Side;
  readonly b: Side;
  fault: Fault | null = null;
  /** Interleaved log of both sides. */
  readonly trace: string[] = [];
  /** Set false to cut the wire (frames vanish). */
  connected = true;

  constructor(
    aOpts: Partial<EngineOptions> & { seed?: number },
    bOpts: Partial<EngineOptions> & { seed?: number },
  ) {
    this.a = makeSide({ seed: 1, ...aOpts }, 'A', this.trace);
    this.b = makeSide({ seed: 2, ...bOpts }, 'B', this.trace);
  }

  /** Moves bytes both ways until nothing is left (bounded). */
  pump(): void {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      moved = this.transfer(this.a, this.b, 'ab') || moved;
      moved = this.transfer(this.b, this.a, 'ba') || moved;
      this.collect();
      if (!moved) return;
    }
    throw new Error('link did not settle');
  }

  private transfer(from: Side, to: Side, dir: 'ab' | 'ba'): boolean {
    const out = from.engine.takeOutput();
    if (out === null) return false;
    if (!this.connected) return true;
    if (this.fault === null) {
      to.engine.receive(out, this.now);
      return true;
    }
    for (const f of splitFrames(out))
      for (const g of this.fault(dir, f)) to.engine.receive(g, this.now);
    return true;
  }

  collect(): void {
    this.a.events.push(...this.a.engine.takeEvents());
    this.b.events.push(...this.b.engine.takeEvents());
  }

  /** Advances the fake clock to `untilMs`, firing every deadline on the way. */
  runUntil(untilMs: number): void {
    this.pump();
    for (let i = 0; i < 100000; i++) {
      const da = this.a.engine.nextDeadline();
      const db = this.b.engine.nextDeadline();
      let next = Number.POSITIVE_INFINITY;
      if (da !== null) next = Math.min(next, da);
      if (db !== null) next = Math.min(next, db);
      if (next > untilMs) break;
      this.now = Math.max(this.now, next);
      this.a.engine.handleTimeout(this.now);
      this.b.engine.handleTimeout(this.now);
      this.pump();
    }
    this.now = Math.max(this.now, untilMs);
    this.collect();
  }

  /** Opens both ends (A first) and runs for `ms`. */
  start(ms = 30_000): void {
    this.a.engine.open(this.now);
    this.b.engine.open(this.now);
    this.runUntil(this.now + ms);
  }
}

/** Events of one type. */
export function eventsOf<T extends EngineEvent['type']>(
  s: Side,
  type: T,
): Extract<EngineEvent, { type: T }>[] {
  return s.events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
}
