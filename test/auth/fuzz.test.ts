/** Property tests: no peer packet makes any auth machine throw, and formatters always return text. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuthPacket,
  ChapClient,
  ChapServer,
  decodeAuthPacket,
  encodeAuthPacket,
  formatChap,
  formatPap,
  PapClient,
  PapServer,
} from '../../src/auth/index.js';
import { counter } from './harness.js';

const packet = fc.record({
  code: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 300 }),
});
const events = fc.array(
  fc.oneof(
    packet.map((p) => ({ kind: 'pkt' as const, p })),
    fc.integer({ min: 0, max: 100_000 }).map((dt) => ({ kind: 'time' as const, dt })),
  ),
  { maxLength: 60 },
);

function machines() {
  return [
    new PapClient({ user: 'alice', password: 's3cret' }),
    new PapServer({ verify: (u, p) => u === 'alice' && p === 's3cret' }),
    new ChapClient({ name: 'alice', secret: 's3cret' }),
    new ChapServer({
      name: 'gw',
      secretFor: () => 's3cret',
      random32: counter(5),
      rechallengeMs: 20_000,
    }),
  ];
}

describe('auth fuzz', () => {
  it('random packets and timer firings never throw, and deadlines never go backwards past now', () => {
    fc.assert(
      fc.property(events, (evs) => {
        for (const m of machines()) {
          let now = 0;
          m.start(now);
          for (const e of evs) {
            if (e.kind === 'pkt') {
              const step = m.receive(e.p as AuthPacket, now);
              expect(Array.isArray(step.send)).toBe(true);
            } else {
              now += e.dt;
              m.handleTimeout(now);
              const d = m.nextDeadline();
              if (d !== null) expect(d).toBeGreaterThan(now);
            }
          }
          expect(m.stats.received).toBe(evs.filter((e) => e.kind === 'pkt').length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('formatters and the packet decoder never throw', () => {
    fc.assert(
      fc.property(packet, fc.uint8Array({ maxLength: 64 }), (p, raw) => {
        expect(typeof formatPap(p)).toBe('string');
        expect(typeof formatChap(p)).toBe('string');
        const d = decodeAuthPacket(raw);
        if (d !== null) expect(encodeAuthPacket(d)).toEqual(raw.subarray(0, 4 + d.data.length));
      }),
      { numRuns: 1000 },
    );
  });

  it('a passing CHAP exchange survives any prefix of junk packets to the client', () => {
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 20 }), (junk) => {
        const c = new ChapClient({ name: 'alice', secret: 's3cret' });
        const s = new ChapServer({ name: 'gw', secretFor: () => 's3cret', random32: counter(9) });
        c.start(0);
        for (const j of junk) if (j.code !== 1 && j.code !== 3 && j.code !== 4) c.receive(j, 0);
        const ch = s.start(0).send[0];
        const verdict = s.receive(c.receive(ch, 0).send[0], 0);
        expect(verdict.result?.ok).toBe(true);
        expect(c.receive(verdict.send[0], 0).result?.ok).toBe(true);
      }),
    );
  });
});
