/**
 * GcPacer: a young-generation GC after every few MB a tunnel end forwards.
 *
 * Why: the Buffers of the data path that we do not own (ssh2's packets and the socket's
 * reads at `up`; Node's stream internals) die young, but their memory lives outside the JS
 * heap, so V8 does not collect them until its young generation fills with small JS objects
 * (rarely, at MB/s of large Buffers) or the external memory passes its soft limit (64 MB).
 * Until then glibc's heap holds them: 35-45 MB of `[heap]` at full load
 * (bench/tunnel/RESULTS.md, "RSS / idle RTT"). A scavenge is cheap (it visits only live
 * young objects: ~0.1-0.5 ms here) and frees those buffers, so glibc reuses the same
 * memory and the heap stays small.
 *
 * Paced by bytes forwarded, not by a timer: an idle tunnel does nothing. The GC function
 * is V8's own (`--expose-gc`, turned on at run time just long enough to fetch `gc` from a
 * fresh context); when that is not possible the pacer does nothing.
 * `TSVPN_GC_PACE_MB` sets the pace (default 2; 0 turns it off).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => unknown;

/** MB forwarded between two young-generation GCs by default. */
export const DEFAULT_GC_PACE_MB = 2;

let gcFn: GcFunction | null | undefined;

/** V8's gc(), or null when this runtime does not give it. */
export function v8Gc(): GcFunction | null {
  if (gcFn !== undefined) return gcFn;
  gcFn = null;
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === 'function') gcFn = existing as GcFunction;
    else {
      setFlagsFromString('--expose-gc');
      const fn = runInNewContext('typeof gc === "function" ? gc : null') as GcFunction | null;
      setFlagsFromString('--no-expose-gc');
      gcFn = fn;
    }
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** The pace from `TSVPN_GC_PACE_MB` (bytes; 0 = off), else the default. */
export function gcPaceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TSVPN_GC_PACE_MB;
  const mb = raw === undefined || raw.trim() === '' ? DEFAULT_GC_PACE_MB : Number(raw);
  return Number.isFinite(mb) && mb > 0 ? Math.round(mb * 2 ** 20) : 0;
}

export class GcPacer {
  private due: number;
  /** Young-generation GCs run. */
  runs = 0;

  constructor(
    private readonly paceBytes: number = gcPaceFromEnv(),
    private readonly gc: GcFunction | null = paceBytes > 0 ? v8Gc() : null,
  ) {
    this.due = paceBytes;
  }

  /** `bytes` more were forwarded; runs a young-generation GC when the pace is reached. */
  account(bytes: number): void {
    this.due -= bytes;
    if (this.due > 0) return;
    this.due = this.paceBytes;
    if (this.gc === null || this.paceBytes <= 0) return;
    this.runs++;
    this.gc({ type: 'minor' });
  }
}
