/** A scripted hostile peer for one PppEngine: decode what it sends, answer with chosen packets. */

import {
  type BuiltEngine,
  buildEngine,
  type EngineState,
  type Role,
} from '../../bench/fuzz/engines.js';
import type { EngineEvent, EngineOptions, PppEngine } from '../../src/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { emitControlPacket } from '../../src/ppp/packet.js';

export interface Pkt {
  protocol: number;
  code: number;
  id: number;
  data: Uint8Array;
}

export const LCP = 0xc021;
export const IPCP = 0x8021;
export const IPV6CP = 0x8057;
export const PAP = 0xc023;
export const CHAP = 0xc223;

export class Peer {
  readonly log: string[] = [];
  readonly events: EngineEvent[] = [];
  readonly ip: Uint8Array[] = [];
  readonly b: BuiltEngine;
  private readonly framer = new HdlcFramer({ maxPending: 64 << 20 });
  private readonly rx: Pkt[] = [];
  private readonly deframer = new HdlcDeframer(
    (p, i) =>
      this.rx.push({
        protocol: p,
        code: i[0] ?? -1,
        id: i[1] ?? -1,
        data: Uint8Array.from(i.subarray(4)),
      }),
    { accm: 0, maxInfo: 65535 },
  );

  constructor(
    role: Role,
    state: EngineState,
    tweak?: (o: EngineOptions) => void,
    require: 'pap' | 'chap' = 'chap',
  ) {
    const b = buildEngine(
      role,
      state,
      99,
      (l) => this.log.push(l),
      (_v, p) => this.ip.push(Uint8Array.from(p)),
      require,
      tweak,
    );
    if (b === null) throw new Error(`could not bring the ${role} engine to ${state}`);
    this.b = b;
    this.events.push(...b.events);
    this.take();
  }

  get engine(): PppEngine {
    return this.b.engine;
  }

  get now(): number {
    return this.b.now;
  }

  /** Everything the engine sent since the last call, decoded. */
  take(): Pkt[] {
    const out = this.b.engine.takeOutput();
    if (out !== null) this.deframer.push(out);
    this.events.push(...this.b.engine.takeEvents());
    return this.rx.splice(0);
  }

  /** Frames and feeds one packet (raw info when `raw` is given). */
  send(
    protocol: number,
    code: number,
    id: number,
    data: Uint8Array | number[] = [],
    raw?: Uint8Array,
  ): void {
    this.framer.writeFrame(
      protocol,
      raw ?? emitControlPacket(code, id, Uint8Array.from(data)),
      true,
    );
    this.b.engine.receive(this.framer.take()!, this.b.now);
  }

  /** Runs the clock (restart timer) until the engine sends `code` of `protocol`; at most 5 s. */
  waitFor(protocol: number, code: number): Pkt | undefined {
    for (let i = 0; i < 10; i++) {
      const hit = lastOf(this.take(), protocol, code);
      if (hit !== undefined) return hit;
      this.advance(500);
    }
    return undefined;
  }

  /** Feeds raw line bytes. */
  sendRaw(bytes: Uint8Array): void {
    this.b.engine.receive(bytes, this.b.now);
  }

  /** Advances the clock by `ms`, firing deadlines on the way. */
  advance(ms: number): void {
    const until = this.b.now + ms;
    for (let i = 0; i < 10_000; i++) {
      const d = this.b.engine.nextDeadline();
      if (d === null || d > until) break;
      this.b.now = Math.max(this.b.now, d);
      this.b.engine.handleTimeout(this.b.now);
    }
    this.b.now = until;
  }

  eventsOf<T extends EngineEvent['type']>(type: T): Extract<EngineEvent, { type: T }>[] {
    this.take();
    return this.events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  }
}

/** Options TLVs → bytes. */
export function opts(...o: [number, ...number[]][]): number[] {
  const out: number[] = [];
  for (const [t, ...d] of o) out.push(t, d.length + 2, ...d);
  return out;
}

export function lastOf(pkts: Pkt[], protocol: number, code: number): Pkt | undefined {
  for (let i = pkts.length - 1; i >= 0; i--)
    if (pkts[i].protocol === protocol && pkts[i].code === code) return pkts[i];
  return undefined;
}
