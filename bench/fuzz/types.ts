/** Shapes shared by the fuzz targets, the harness and the runner. */
import type { Rng } from './rng.js';

/** One fuzz input: bytes for wire parsers, text for file parsers. */
export type FuzzInput = Uint8Array | string;

/** Per-run state of one target (engines, machines, deframers). */
export interface FuzzRunner {
  /** Generates the next input (may also rebuild state; not timed). */
  next(rng: Rng): FuzzInput;
  /** Feeds one input. Throws on a bug: an exception in the code under test or a broken invariant. */
  run(input: FuzzInput): void;
}

/** A parser reachable from the wire (or from a file the user edits). */
export interface FuzzTarget {
  name: string;
  /** What it feeds, for the table. */
  what: string;
  create(seed: number): FuzzRunner;
}

/** Thrown by a runner when an invariant (not the code under test) fails. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/**
 * Peer text that reaches a log line or an event must not carry control
 * characters: no C0/C1 controls, DEL or Unicode line separators (no forged log
 * lines, no terminal escapes). Printable non-ASCII is fine.
 */
export function assertPrintable(s: string, where: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      throw new InvariantError(
        `${where}: non-printable char 0x${c.toString(16)} in log text ${JSON.stringify(s.slice(0, 200))}`,
      );
    }
  }
}
