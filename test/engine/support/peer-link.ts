/** An engine and a scripted peer over an in-memory link with a fake clock. */

import type { EngineEvent, EngineOptions, PppEngine } from '../../../src/engine/index.js';
import { makeSide, type Side } from './link.js';
import type { ScriptedPeer } from './scripted-peer.js';

export class PeerLink {
  now = 0;
  readonly us: Side;
  readonly trace: string[] = [];
  constructor(
    opts: Partial<EngineOptions> & { seed?: number },
    readonly peer: ScriptedPeer,
  ) {
    this.us = makeSide(opts, 'us', this.trace);
  }

  get engine(): PppEngine {
    return this.us.engine;
  }

  pump(): void {
    for (let i = 0; i < 1000; i++) {
      let moved = false;
      const a = this.us.engine.takeOutput();
      if (a !== null) {
        moved = true;
        const before = this.peer.log.length;
        this.peer.push(a);
        for (const l of this.peer.log.slice(before)) this.trace.push(`peer: ${l}`);
      }
      const b = this.peer.take();
      if (b !== null) {
        moved = true;
        this.us.engine.receive(b, this.now);
      }
      this.us.events.push(...this.us.engine.takeEvents());
      if (!moved) return;
    }
    throw new Error('did not settle');
  }

  runUntil(t: number): void {
    this.pump();
    for (let i = 0; i < 100000; i++) {
      const d = this.us.engine.nextDeadline();
      if (d === null || d > t) break;
      this.now = Math.max(this.now, d);
      this.us.engine.handleTimeout(this.now);
      this.pump();
    }
    this.now = Math.max(this.now, t);
  }

  events<T extends EngineEvent['type']>(type: T): Extract<EngineEvent, { type: T }>[] {
    return this.us.events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  }
}
