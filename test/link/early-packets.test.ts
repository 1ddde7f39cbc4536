import { describe, expect, it } from 'vitest';
import { EarlyPackets } from '../../src/link/index.js';

describe('EarlyPackets', () => {
  it('holds copies in order and flushes them once', () => {
    const q = new EarlyPackets();
    const buf = new Uint8Array([1, 2, 3]);
    expect(q.hold(buf)).toBe(true);
    buf[0] = 9; // the caller reuses its buffer
    q.hold(new Uint8Array([4]));
    const out: number[][] = [];
    expect(q.flush((p) => out.push([...p]))).toBe(2);
    expect(out).toEqual([[1, 2, 3], [4]]);
    expect(q.flush(() => out.push([]))).toBe(0);
  });

  it('drops and counts beyond the packet and byte bounds', () => {
    const q = new EarlyPackets(2, 10);
    expect(q.hold(new Uint8Array(4))).toBe(true);
    expect(q.hold(new Uint8Array(7))).toBe(false); // 11 bytes > 10
    expect(q.hold(new Uint8Array(6))).toBe(true);
    expect(q.hold(new Uint8Array(1))).toBe(false); // 3 packets > 2
    expect(q.dropped).toBe(2);
    expect(q.length).toBe(2);
    q.discard();
    expect(q.length).toBe(0);
    expect(q.dropped).toBe(4);
  });
});
