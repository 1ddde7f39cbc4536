/** Two engines over a faulty link: lost, duplicated, reordered, corrupted frames. */

import { describe, expect, it } from 'vitest';
import { eventsOf, type Fault, Link, seededRandom } from './support/link.js';

const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } };
const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } };

/** Both ends end up fully open. Lost Acks may legitimately cause renegotiations (RCR in Opened). */
function upBoth(l: Link): void {
  for (const s of [l.a, l.b]) {
    expect(s.engine.stats().states, s === l.a ? 'A' : 'B').toEqual({
      lcp: 'Opened',
      ipcp: 'Opened',
      ipv6cp: 'Opened',
    });
    const ups = eventsOf(s, 'ipv4-up').length;
    expect(ups).toBeGreaterThanOrEqual(1);
    expect(eventsOf(s, 'ipv4-down')).toHaveLength(ups - 1);
    expect(eventsOf(s, 'finished')).toHaveLength(0);
  }
}

describe('faulty link', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`comes up despite 30% frame loss (seed ${seed})`, () => {
      const r = seededRandom(seed * 977);
      const l = new Link({ ...A, seed }, { ...B, seed: seed + 100 });
      l.fault = (_d, f) => (r() % 100 < 30 ? [] : [f]);
      l.start(60_000);
      upBoth(l);
    });
  }

  it('comes up when every frame is duplicated', () => {
    const l = new Link(A, B);
    l.fault = (_d, f) => [f, f];
    l.start(30_000);
    upBoth(l);
    expect(
      l.a.engine.stats().fsm.lcp.staleReplies + l.b.engine.stats().fsm.lcp.staleReplies,
    ).toBeGreaterThan(0);
  });

  it('comes up when frames are reordered', () => {
    let held: Uint8Array | null = null;
    const reorder: Fault = (_d, f) => {
      if (held === null) {
        held = f;
        return [];
      }
      const out = [f, held];
      held = null;
      return out;
    };
    const l = new Link(A, B);
    l.fault = reorder;
    l.start(60_000);
    // A held frame may be stuck at the very end; flush it.
    l.fault = null;
    l.runUntil(l.now + 30_000);
    upBoth(l);
  });

  for (const seed of [11, 12, 13]) {
    it(`comes up with 20% corrupted frames, which are counted as bad FCS (seed ${seed})`, () => {
      const r = seededRandom(seed);
      const l = new Link({ ...A, seed }, { ...B, seed: seed + 1 });
      let corrupted = 0;
      l.fault = (_d, f) => {
        if (r() % 100 >= 20 || f.length < 4) return [f];
        corrupted++;
        const g = Uint8Array.from(f);
        const i = 1 + (r() % (g.length - 2));
        g[i] ^= 1 << (r() % 8);
        if (g[i] === 0x7e || g[i] === 0x7d) g[i] ^= 0x40;
        return [g];
      };
      l.start(60_000);
      upBoth(l);
      const rx = [l.a.engine.stats().framing.rx, l.b.engine.stats().framing.rx];
      const bad = rx.reduce((n, s) => n + s.badFcs + s.tooShort + s.badHeader + s.aborted, 0);
      expect(bad).toBe(corrupted);
    });
  }

  it('gives up after Max-Configure requests when the peer never answers', () => {
    const l = new Link(A, B);
    l.connected = false;
    l.start(60_000);
    expect(eventsOf(l.a, 'finished')).toEqual([
      {
        type: 'finished',
        reason: 'LCP: no reply to 10 Configure-Requests',
        cause: 'lcp-failed',
      },
    ]);
    expect(l.a.log.filter((x) => x.startsWith('sent [LCP ConfReq'))).toHaveLength(10);
  });
});
