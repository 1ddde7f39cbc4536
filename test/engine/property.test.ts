/** Property tests: peer input never throws, whatever it is and whatever state we are in. */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFrame, PppEngine } from '../../src/engine/index.js';
import { HdlcFramer } from '../../src/hdlc/index.js';
import { LCP_OPTIONS } from '../../src/lcp/options.js';
import { IPCP_OPTIONS } from '../../src/ncp/ipcp-options.js';
import { IPV6CP_OPTIONS } from '../../src/ncp/ipv6cp-options.js';
import { CCP_OPTIONS } from '../../src/ppp/ccp.js';
import { formatOption } from '../../src/ppp/options.js';
import { Link } from './support/link.js';

const PROTOCOLS = [
  0xc021, 0x8021, 0x8057, 0x80fd, 0xc023, 0xc223, 0x0021, 0x0057, 0x00fd, 0x8281, 0x002d, 0x2a21,
];

/** An engine in a given phase: fresh, negotiating, fully up, or up with GSO frames on. */
function engineIn(stage: number): { e: PppEngine; now: number } {
  if (stage === 3) {
    const l = new Link(
      { gso: true, ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } },
      { gso: true, ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } },
    );
    l.start(1000);
    expect(l.a.engine.gsoEnabled).toBe(true);
    return { e: l.a.engine, now: l.now };
  }
  if (stage === 0) return { e: new PppEngine({ random32: () => 0x12345678 }), now: 0 };
  if (stage === 1) {
    const e = new PppEngine({ random32: () => 0x12345678, auth: { user: 'u', password: 'p' } });
    e.open(0);
    return { e, now: 0 };
  }
  const l = new Link(
    { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' }, lcp: { echoIntervalMs: 1000 } },
    {
      ipcp: { local: '10.0.0.2', peer: '10.0.0.1' },
      auth: { require: 'chap', secretFor: () => 'x' },
    },
  );
  l.start(1000);
  return { e: l.a.engine, now: l.now };
}

function framed(protocol: number, info: Uint8Array, negotiated: boolean): Uint8Array {
  const f = new HdlcFramer(negotiated ? { accm: 0, pfc: true, acfc: true } : {});
  f.writeFrame(protocol, info);
  return f.take()!;
}

/** A control packet with a plausible header and random body. */
const controlInfo = fc
  .tuple(
    fc.integer({ min: 0, max: 15 }),
    fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.integer({ min: -3, max: 3 }),
  )
  .map(([code, id, body, skew]) => {
    const len = Math.max(0, 4 + body.length + skew);
    const b = new Uint8Array(4 + body.length);
    b[0] = code;
    b[1] = id;
    b[2] = len >>> 8;
    b[3] = len & 0xff;
    b.set(body, 4);
    return b;
  });

describe('never throws on peer input', () => {
  for (const stage of [0, 1, 2, 3]) {
    it(`random bytes into receive() (stage ${stage})`, () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (chunks) => {
          const { e, now } = engineIn(stage);
          for (const c of chunks) e.receive(c, now);
          e.handleTimeout(now + 100_000);
          e.takeOutput();
          e.takeEvents();
        }),
        { numRuns: 150 },
      );
    });

    it(`well-framed random control packets (stage ${stage})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...PROTOCOLS), controlInfo, fc.boolean()), {
            maxLength: 12,
          }),
          (frames) => {
            const { e, now } = engineIn(stage);
            let t = now;
            for (const [p, info, neg] of frames) {
              e.receive(framed(p, info, neg), t);
              t += 500;
              e.handleTimeout(t);
            }
            const out = e.takeOutput();
            expect(out === null || out.length > 0).toBe(true);
            expect(e.stats().phase).toBeTypeOf('string');
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('formatters and option codecs accept anything', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROTOCOLS), fc.uint8Array({ maxLength: 80 }), (p, info) => {
        formatFrame(p, info);
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 20 }),
        (type, data) => {
          for (const t of [LCP_OPTIONS, IPCP_OPTIONS, IPV6CP_OPTIONS, CCP_OPTIONS]) {
            const s = formatOption(t, type, data);
            expect(s.startsWith(' <')).toBe(true);
            const c = t.get(type);
            if (c !== undefined) c.parse(data);
          }
        },
      ),
    );
  });
});

describe('sans-IO rules', () => {
  it('src/hdlc, src/ppp, src/lcp, src/ncp, src/auth, src/engine use no node:*, timers, clock or Math.random', () => {
    const root = join(import.meta.dirname, '../../src');
    for (const dir of ['hdlc', 'ppp', 'lcp', 'ncp', 'auth', 'engine']) {
      for (const f of readdirSync(join(root, dir))) {
        if (!f.endsWith('.ts')) continue;
        const text = readFileSync(join(root, dir, f), 'utf8');
        for (const bad of [
          /from 'node:/,
          /require\(/,
          /setTimeout|setInterval|setImmediate/,
          /Date\.now|performance\.now/,
          /Math\.random/,
        ]) {
          expect(bad.test(text), `${dir}/${f} matches ${bad}`).toBe(false);
        }
      }
    }
  });
});
