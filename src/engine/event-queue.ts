/** The engine's bounded event queue (habit 8): the oldest beyond the bound are dropped and counted. */

import type { EngineEvent } from './events.js';

/** Bound on queued events. */
const MAX_EVENTS = 1024;

/** Events waiting for the owner to drain them. */
export class EventQueue {
  private events: EngineEvent[] = [];
  /** Events dropped because the queue was full (owner not draining). */
  dropped = 0;

  push(e: EngineEvent): void {
    if (this.events.length >= MAX_EVENTS) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push(e);
  }

  /** Events since the last call. */
  take(): EngineEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}
