import { describe, expect, it } from 'vitest';
import { deframerWithoutWasm } from '../../src/hdlc/deframer.js';
import {
  type DeframerOptions,
  type FrameHandler,
  HdlcDeframer,
  HdlcErrorCode,
  HdlcFramer,
} from '../../src/hdlc/index.js';
import { collector, hex, refStuffedBody, toHex } from './support.js';

const CONFREQ_WIRE = hex(
  '7e ff 7d 23 c0 21 7d 21 7d 21 7d 20 7d 34 7d 22 7d 26 7d 20 7d 20 7d 20 7d 20 7d 25 7d 26 4b da d8 97 7d 27 7d 22 7d 28 7d 22 65 a4 7e',
);
const CONFREQ_INFO = '01 01 00 14 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02';

/** A stuffed frame body (no flags) built by the reference encoder. */
function body(protocol: number, info: Uint8Array, acfc = true, pfc = true, accm = 0): number[] {
  return refStuffedBody(protocol, info, { accm, acfc, pfc });
}

/** Both implementations run every test: the WebAssembly kernel (default) and the JS fallback. */
const IMPLS: [string, (onFrame: FrameHandler, opts?: DeframerOptions) => HdlcDeframer][] = [
  ['wasm kernel', (onFrame, opts) => new HdlcDeframer(onFrame, opts)],
  ['JS fallback', deframerWithoutWasm],
];

describe.each(IMPLS)('HdlcDeframer (%s)', (_impl, mk) => {
  it("decodes pppd's first LCP ConfReq to c021 and its information field", () => {
    const c = collector();
    const d = mk(c.onFrame);
    d.push(CONFREQ_WIRE);
    expect(c.frames).toHaveLength(1);
    expect(c.frames[0].protocol).toBe(0xc021);
    expect(toHex(c.frames[0].info)).toBe(CONFREQ_INFO);
    expect(d.stats).toEqual({
      framesOk: 1,
      badFcs: 0,
      tooLong: 0,
      tooShort: 0,
      aborted: 0,
      badHeader: 0,
    });
  });

  it('accepts the same frames split at every possible point and one octet at a time', () => {
    const two = Uint8Array.from([
      ...CONFREQ_WIRE,
      ...body(0x21, new Uint8Array(40).fill(0x7e)),
      0x7e,
    ]);
    for (let cut = 0; cut <= two.length; cut++) {
      const c = collector();
      const d = mk(c.onFrame, { accm: 0 });
      d.push(two.subarray(0, cut));
      d.push(two.subarray(cut));
      expect(c.frames.map((f) => f.protocol)).toEqual([0xc021, 0x21]);
    }
    const c = collector();
    const d = mk(c.onFrame, { accm: 0 });
    for (const b of two) d.push(Uint8Array.of(b));
    expect(c.frames).toHaveLength(2);
    expect(c.frames[1].info).toEqual(new Uint8Array(40).fill(0x7e));
  });

  it('accepts ff 03 present or absent and 1- or 2-byte protocols on one link', () => {
    const info = hex('45 00 00 54');
    const wire = Uint8Array.from([
      0x7e,
      ...body(0x21, info, false, false),
      0x7e,
      ...body(0x21, info, true, true),
      0x7e,
      ...body(0x8021, info, true, false),
      0x7e,
      ...body(0x57, info, false, true),
      0x7e,
    ]);
    const c = collector();
    mk(c.onFrame, { accm: 0 }).push(wire);
    expect(c.frames.map((f) => f.protocol)).toEqual([0x21, 0x21, 0x8021, 0x57]);
    for (const f of c.frames) expect(toHex(f.info)).toBe('45 00 00 54');
  });

  it('ignores empty frames and repeated flags silently', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0 });
    d.push(hex('7e 7e 7e'));
    d.push(Uint8Array.from([0x7e, 0x7e, ...body(0x21, hex('01')), 0x7e, 0x7e, 0x7e]));
    expect(c.frames).toHaveLength(1);
    expect(d.stats).toEqual({
      framesOk: 1,
      badFcs: 0,
      tooLong: 0,
      tooShort: 0,
      aborted: 0,
      badHeader: 0,
    });
  });

  it('drops a frame ended by the abort sequence 7d 7e and counts it (RFC 1662 §4.3)', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0 });
    const good = body(0x21, hex('01 02'));
    d.push(Uint8Array.from([0x7e, ...good.slice(0, 3), 0x7d, 0x7e, ...good, 0x7e]));
    expect(c.frames).toHaveLength(1);
    expect(d.stats.aborted).toBe(1);
    expect(d.stats.badFcs).toBe(0);
  });

  it('counts and drops a frame with a bad FCS', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0 });
    const bad = body(0x21, hex('01 02 03'));
    bad[2] ^= 0x01;
    d.push(Uint8Array.from([0x7e, ...bad, 0x7e]));
    expect(c.frames).toHaveLength(0);
    expect(d.stats.badFcs).toBe(1);
  });

  it('counts runts: under 4 octets, or no complete protocol field', () => {
    const d = mk(() => {}, { accm: 0 });
    d.push(hex('7e 21 7e 7e 21 01 02 7e'));
    expect(d.stats.tooShort).toBe(2);
    // ff 03 + good FCS and nothing else; ff 03 + half a 2-byte protocol + good FCS.
    d.push(
      Uint8Array.from([
        0x7e,
        ...refFramed([0xff, 0x03]),
        0x7e,
        ...refFramed([0xff, 0x03, 0x80]),
        0x7e,
      ]),
    );
    expect(d.stats.tooShort).toBe(4);
    expect(d.stats.badFcs).toBe(0);
  });

  it('counts a bad address/control or an even protocol low byte as badHeader (RFC 1661 §2)', () => {
    const d = mk(() => {}, { accm: 0 });
    d.push(Uint8Array.from([0x7e, ...refFramed([0xff, 0x13, 0x00, 0x21, 0x01]), 0x7e]));
    d.push(Uint8Array.from([0x7e, ...refFramed([0x80, 0x20, 0x01]), 0x7e]));
    d.push(Uint8Array.from([0x7e, ...refFramed([0xff, 0x03, 0x00, 0x22, 0x01]), 0x7e]));
    expect(d.stats.badHeader).toBe(3);
    expect(d.stats.framesOk).toBe(0);
  });

  it('discards unescaped control characters set in the receive ACCM, before the FCS check (§4.2)', () => {
    const frameBody = body(0x21, hex('41 42 43'));
    const noisy = [0x11, ...frameBody.slice(0, 2), 0x13, 0x11, ...frameBody.slice(2), 0x00];
    const c = collector();
    const d = mk(c.onFrame, { accm: 0x000a0001 });
    d.push(Uint8Array.from([0x7e, ...noisy, 0x7e]));
    expect(toHex(c.frames[0].info)).toBe('41 42 43');
    // With ACCM 0 the same octets are data, so the FCS fails.
    const e = mk(() => {}, { accm: 0 });
    e.push(Uint8Array.from([0x7e, ...noisy, 0x7e]));
    expect(e.stats.badFcs).toBe(1);
  });

  it('keeps the escape pending across a discarded control character (like Linux ppp_async)', () => {
    const plain = [0x21, 0x7e];
    const stuffed = body(0x21, hex('7e'));
    expect(stuffed.slice(0, 3)).toEqual([plain[0], 0x7d, 0x5e]);
    const c = collector();
    mk(c.onFrame).push(Uint8Array.from([0x7e, 0x21, 0x7d, 0x11, 0x5e, ...stuffed.slice(3), 0x7e]));
    expect(toHex(c.frames[0].info)).toBe('7e');
  });

  it('reads 7d 7d as an escaped 0x5d, as Linux ppp_async does', () => {
    const c = collector();
    const stuffed = refStuffedBody(0x21, hex('5d 41'), {
      accm: 0,
      acfc: true,
      pfc: true,
      extra: [0x5d],
    });
    expect(stuffed.slice(0, 3)).toEqual([0x21, 0x7d, 0x7d]);
    mk(c.onFrame, { accm: 0 }).push(Uint8Array.from([0x7e, ...stuffed, 0x7e]));
    expect(toHex(c.frames[0].info)).toBe('5d 41');
  });

  it('drops over-long frames without buffering them and resynchronises at the next flag', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0, maxInfo: 100 });
    const ok = Uint8Array.from([...body(0x21, new Uint8Array(100).fill(1)), 0x7e]);
    const long = Uint8Array.from([...body(0x21, new Uint8Array(101).fill(2)), 0x7e]);
    const huge = new Uint8Array(200_000).fill(0x41);
    d.push(Uint8Array.of(0x7e));
    d.push(ok);
    d.push(long);
    d.push(huge);
    d.push(huge);
    d.push(Uint8Array.of(0x7e));
    d.push(ok);
    expect(c.frames.map((f) => f.info.length)).toEqual([100, 100]);
    expect(d.stats.tooLong).toBe(2);
  });

  it('bounds info by maxInfo whatever the header form (no ff 03, 1-byte protocol)', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0, maxInfo: 10 });
    d.push(Uint8Array.from([0x7e, ...body(0x21, new Uint8Array(13), true, true), 0x7e]));
    d.push(Uint8Array.from([0x7e, ...body(0x21, new Uint8Array(10), true, true), 0x7e]));
    expect(c.frames.map((f) => f.info.length)).toEqual([10]);
    expect(d.stats.tooLong).toBe(1);
  });

  it('hands out a view into its buffer that the next frame overwrites', () => {
    const views: Uint8Array[] = [];
    const d = mk((_p, info) => views.push(info), { accm: 0 });
    d.push(
      Uint8Array.from([0x7e, ...body(0x21, hex('aa bb')), 0x7e, ...body(0x21, hex('cc dd')), 0x7e]),
    );
    expect(views[0].buffer).toBe(views[1].buffer);
  });

  it('reset() forgets a partial frame; called from the handler it drops the rest of the chunk', () => {
    const c = collector();
    const d = mk(c.onFrame, { accm: 0 });
    const f = body(0x21, hex('01 02 03'));
    d.push(Uint8Array.from([0x7e, ...f.slice(0, 4)]));
    d.reset();
    d.push(Uint8Array.from([...f.slice(4), 0x7e, ...f, 0x7e]));
    expect(c.frames).toHaveLength(1);
    expect(d.stats.badFcs + d.stats.tooShort).toBe(1);

    let n = 0;
    const e = mk(
      () => {
        n++;
        e.reset();
      },
      { accm: 0 },
    );
    e.push(Uint8Array.from([0x7e, ...f, 0x7e, ...f, 0x7e]));
    expect(n).toBe(1);
    e.push(Uint8Array.from([0x7e, ...f, 0x7e]));
    expect(n).toBe(2);
  });

  it('throws ERR_HDLC_REENTRANT when the handler calls push()', () => {
    const d: HdlcDeframer = mk(() => d.push(hex('7e')), { accm: 0 });
    expect(() => d.push(Uint8Array.from([0x7e, ...body(0x21, hex('01')), 0x7e]))).toThrow(
      expect.objectContaining({ code: HdlcErrorCode.Reentrant }),
    );
    // The deframer still works afterwards.
    const c = collector();
    const ok = mk(c.onFrame, { accm: 0 });
    ok.push(Uint8Array.from([0x7e, ...body(0x21, hex('01')), 0x7e]));
    expect(c.frames).toHaveLength(1);
  });

  it('applies configure() from inside the handler (ACCM at once, bigger maxInfo after the push)', () => {
    const seen: number[] = [];
    const d: HdlcDeframer = mk((p, info) => {
      seen.push(info.length);
      if (p === 0xc021) d.configure({ accm: 0, maxInfo: 3000 });
    });
    const lcp = Uint8Array.from([
      0x7e,
      ...body(0xc021, hex('02 01 00 04'), false, false, 0xffffffff),
      0x7e,
    ]);
    const raw = new Uint8Array(2500).fill(0x01); // raw control characters: data once ACCM is 0
    d.push(lcp);
    d.push(Uint8Array.from([...body(0x21, raw), 0x7e]));
    expect(seen).toEqual([4, 2500]);
  });

  it('lets an exception from the handler propagate and starts afresh', () => {
    let calls = 0;
    const d = mk(
      () => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
      },
      { accm: 0 },
    );
    const f = body(0x21, hex('01'));
    expect(() => d.push(Uint8Array.from([0x7e, ...f, 0x7e, ...f.slice(0, 2)]))).toThrow(
      'handler bug',
    );
    d.push(Uint8Array.from([0x7e, ...f, 0x7e]));
    expect(calls).toBe(2);
  });

  it('round-trips frames written by HdlcFramer, several per chunk', () => {
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
    // (An empty info with ACFC and PFC makes a 3-octet frame: a runt by RFC 1662 §4.3.)
    const infos = [1, 2, 7, 8, 9, 63, 64, 1500].map((n) =>
      new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff),
    );
    for (const info of infos) f.writeFrame(0x21, info);
    const c = collector();
    mk(c.onFrame, { accm: 0 }).push(f.take()!);
    expect(c.frames.map((x) => x.info)).toEqual(infos);
  });

  it('rejects bad options with ERR_HDLC_BAD_OPTION', () => {
    expect(() => mk(() => {}, { maxInfo: -1 })).toThrow(
      expect.objectContaining({ code: HdlcErrorCode.BadOption }),
    );
    expect(() => mk(() => {}, { maxInfo: 70000 })).toThrow(
      expect.objectContaining({ code: HdlcErrorCode.BadOption }),
    );
    expect(() => mk(() => {}, { accm: -1 })).toThrow(
      expect.objectContaining({ code: HdlcErrorCode.BadOption }),
    );
  });
});

/** Plain octets + their FCS, stuffed with ACCM 0 (no header logic: for malformed headers). */
function refFramed(plain: number[]): number[] {
  let c = 0xffff;
  for (const b of plain) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  }
  const f = c ^ 0xffff;
  const out: number[] = [];
  for (const b of [...plain, f & 0xff, f >> 8]) {
    if (b === 0x7e || b === 0x7d) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return out;
}
