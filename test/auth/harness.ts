/** Runs an authenticatee and an authenticator against each other with a fake clock and a lossy link. */

import type { AuthPacket, AuthStep } from '../../src/auth/index.js';
import { seededRandom } from '../support/random.js';

export interface AuthMachine {
  start(nowMs: number): AuthStep;
  receive(pkt: AuthPacket, nowMs: number): AuthStep;
  handleTimeout(nowMs: number): AuthStep;
  nextDeadline(): number | null;
}

export interface RunResult {
  clientResults: NonNullable<AuthStep['result']>[];
  serverResults: NonNullable<AuthStep['result']>[];
  /** Every packet put on the link, with its direction and whether it was dropped. */
  wire: { from: 'client' | 'server'; pkt: AuthPacket; dropped: boolean; at: number }[];
  endMs: number;
}

/**
 * `drop(from, index)` decides whether the index-th packet sent by `from` is lost.
 * Delivery is immediate; timers fire in deadline order until both sides are idle.
 */
export function run(
  client: AuthMachine,
  server: AuthMachine,
  drop: (from: 'client' | 'server', index: number) => boolean = () => false,
  untilMs = 10 * 60_000,
): RunResult {
  const res: RunResult = { clientResults: [], serverResults: [], wire: [], endMs: 0 };
  const sentCount = { client: 0, server: 0 };
  const queue: { to: 'client' | 'server'; pkt: AuthPacket }[] = [];
  let now = 0;
  const apply = (who: 'client' | 'server', step: AuthStep) => {
    if (step.result) (who === 'client' ? res.clientResults : res.serverResults).push(step.result);
    for (const pkt of step.send) {
      const dropped = drop(who, sentCount[who]++);
      res.wire.push({ from: who, pkt, dropped, at: now });
      if (!dropped) queue.push({ to: who === 'client' ? 'server' : 'client', pkt });
    }
  };
  apply('server', server.start(now));
  apply('client', client.start(now));
  for (let guard = 0; guard < 10_000; guard++) {
    while (queue.length > 0) {
      const { to, pkt } = queue.shift() as { to: 'client' | 'server'; pkt: AuthPacket };
      apply(to, (to === 'client' ? client : server).receive(pkt, now));
    }
    const dl = [client.nextDeadline(), server.nextDeadline()].filter(
      (d): d is number => d !== null,
    );
    if (dl.length === 0) break;
    now = Math.min(...dl);
    if (now > untilMs) break;
    apply('client', client.handleTimeout(now));
    apply('server', server.handleTimeout(now));
  }
  res.endMs = now;
  return res;
}

/** Deterministic injected randomness (xorshift32). */
export const counter = (seed = 1): (() => number) => seededRandom(seed, 1);
