/**
 * The RFC 2153 Vendor-Specific LCP option (ours: OUI 02:54:56, kind 1, GSO frames) fed
 * with random bytes: codec, printer, LcpPolicy with gso on and off, and a negotiating
 * engine. Nothing throws; the codec round-trips; only a well-formed option of ours is
 * ever acked, and only with gso on. (bench/fuzz's `lcp-options` target reaches type 0
 * through LCP_OPTIONS but builds its LcpPolicy without gso.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/engine/index.js';
import { HdlcFramer } from '../../src/hdlc/index.js';
import { gsoOptionValue, LCP_OPTIONS, LcpOpt, vendorCodec } from '../../src/lcp/options.js';
import { LcpPolicy } from '../../src/lcp/policy.js';
import { bytesEqual } from '../../src/ppp/bytes.js';
import { emitOptions, formatOption, parseOptions, type RawOption } from '../../src/ppp/options.js';
import { emitControlPacket } from '../../src/ppp/packet.js';
import { applyNak, applyReject, judgePeerOption } from '../../src/ppp/policy.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Vendor option data: fully random, or our OUI/kind (or a near miss) with a random tail. */
const vendorData = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom([0x02, 0x54, 0x56, 0x01], [0x02, 0x54, 0x56, 0x02], [0x00, 0x54, 0x56, 0x01]),
      fc.uint8Array({ maxLength: 6 }),
      fc.nat({ max: 4 }),
    )
    .map(([head, tail, cut]) => Uint8Array.from([...head, ...tail]).subarray(cut)),
);

/** An options list mixing vendor options with random other TLVs. */
const optionList = fc.array(
  fc.oneof(
    vendorData.map((data): RawOption => ({ type: LcpOpt.Vendor, data })),
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 8 }))
      .map(([type, data]): RawOption => ({ type, data })),
  ),
  { maxLength: 8 },
);

describe('LCP Vendor-Specific option: random input never throws', () => {
  it('codec and printer: round trip, printable text', () => {
    fc.assert(
      fc.property(vendorData, (data) => {
        const text = formatOption(LCP_OPTIONS, LcpOpt.Vendor, data);
        expect(text.startsWith(' <')).toBe(true);
        expect(text).not.toMatch(CONTROL);
        const v = vendorCodec.parse(data);
        expect(v === null).toBe(data.length < 4);
        if (v !== null) expect(bytesEqual(vendorCodec.emit(v), data)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  for (const gso of [true, false]) {
    it(`LcpPolicy with gso ${gso}: acks only a well-formed option of ours, Nak/Reject never throw`, () => {
      fc.assert(
        fc.property(optionList, fc.nat({ max: 2 }), (opts, step) => {
          const p = new LcpPolicy({ random32: () => 0x1234abcd, gso });
          p.resetNegotiation();
          p.beginPeerRequest();
          for (const o of opts) {
            const v = judgePeerOption(p, { type: o.type, data: o.data });
            if (o.type === LcpOpt.Vendor) {
              expect(v.kind).toBe(gso && gsoOptionValue(o.data) >= 65535 ? 'ack' : 'reject');
            }
          }
          expect(p.his.gso).toBe(
            gso && opts.some((o) => o.type === LcpOpt.Vendor && gsoOptionValue(o.data) >= 65535),
          );
          if (step === 0) applyNak(p, opts);
          else if (step === 1)
            applyReject(
              p,
              opts.filter((o) => o.type === LcpOpt.Vendor),
            );
          else p.onAck();
          const own = emitOptions(p.ownOptions());
          expect(parseOptions(own)).not.toBeNull();
          p.takeFatal();
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('a negotiating engine with gso takes random Configure-Requests/Naks/Rejects with vendor options', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(1, 2, 3, 4), fc.integer({ min: 0, max: 3 }), optionList),
          {
            maxLength: 6,
          },
        ),
        (packets) => {
          const e = new PppEngine(
            {
              random32: () => 0x5eed5eed,
              gso: true,
              ipcp: { local: '10.0.0.1', peer: '10.0.0.2' },
            },
            undefined,
            () => {},
          );
          e.open(0);
          let t = 0;
          for (const [code, id, opts] of packets) {
            const f = new HdlcFramer();
            f.writeFrame(0xc021, emitControlPacket(code, id, emitOptions(opts)), true);
            e.receive(f.take()!, t);
            t += 100;
            e.handleTimeout(t);
          }
          e.takeOutput();
          for (const ev of e.takeEvents())
            if (ev.type === 'lcp-up') expect(ev.gso).toBeTypeOf('boolean');
        },
      ),
      { numRuns: 400 },
    );
  });
});
