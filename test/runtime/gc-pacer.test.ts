/**
 * GcPacer: one young-generation GC per `pace` bytes forwarded, none while idle, none when
 * off; v8Gc() finds V8's gc() without a node flag, and it frees dead Buffers' memory.
 */
import { describe, expect, it } from 'vitest';
import { GcPacer, gcPaceFromEnv, v8Gc } from '../../src/runtime/gc-pacer.js';

describe('GcPacer', () => {
  it('runs one minor GC each time the forwarded bytes reach the pace', () => {
    const calls: unknown[] = [];
    const p = new GcPacer(1000, (o) => calls.push(o));
    p.account(400);
    p.account(500);
    expect(calls).toHaveLength(0);
    p.account(100); // 1000
    expect(calls).toEqual([{ type: 'minor' }]);
    p.account(2500); // one call per crossing, not one per 1000 bytes owed
    expect(calls).toHaveLength(2);
    expect(p.runs).toBe(2);
  });

  it('does nothing when the pace is 0 or there is no gc()', () => {
    const calls: unknown[] = [];
    const off = new GcPacer(0, (o) => calls.push(o));
    for (let i = 0; i < 100; i++) off.account(1 << 20);
    const none = new GcPacer(1000, null);
    for (let i = 0; i < 100; i++) none.account(1 << 20);
    expect(calls).toHaveLength(0);
    expect(off.runs + none.runs).toBe(0);
  });

  it('reads TSVPN_GC_PACE_MB: default 2 MiB, 0 = off, junk = off', () => {
    expect(gcPaceFromEnv({})).toBe(2 * 2 ** 20);
    expect(gcPaceFromEnv({ TSVPN_GC_PACE_MB: '2' })).toBe(2 * 2 ** 20);
    expect(gcPaceFromEnv({ TSVPN_GC_PACE_MB: '0' })).toBe(0);
    expect(gcPaceFromEnv({ TSVPN_GC_PACE_MB: 'x' })).toBe(0);
  });
});

describe('v8Gc', () => {
  it('returns a gc() whose minor collection frees the memory of dead Buffers', () => {
    const gc = v8Gc();
    expect(typeof gc).toBe('function');
    gc!({ type: 'minor' });
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 200; i++) Buffer.allocUnsafeSlow(64 * 1024)[0] = i; // 12.5 MiB, dead at once
    const grown = process.memoryUsage().arrayBuffers;
    gc!({ type: 'minor' });
    const after = process.memoryUsage().arrayBuffers;
    expect(grown - before).toBeGreaterThan(8 << 20);
    expect(after - before).toBeLessThan(4 << 20);
  });
});
