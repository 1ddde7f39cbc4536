import { describe, expect, it } from 'vitest';
import { HdlcErrorCode, HdlcFramer } from '../../src/hdlc/index.js';
import { hex, refStuffedBody, toHex } from './support.js';

/** pppd's first LCP Configure-Request in interop/defaults/a-to-b.hex. */
const CONFREQ_INFO = hex('01 01 00 14 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02');
const CONFREQ_WIRE =
  '7e ff 7d 23 c0 21 7d 21 7d 21 7d 20 7d 34 7d 22 7d 26 7d 20 7d 20 7d 20 7d 20 7d 25 7d 26 4b da d8 97 7d 27 7d 22 7d 28 7d 22 65 a4 7e';

function frame(
  opts: ConstructorParameters<typeof HdlcFramer>[0],
  protocol: number,
  info: Uint8Array,
  ld = false,
): string {
  const f = new HdlcFramer(opts);
  expect(f.writeFrame(protocol, info, ld)).toBe(true);
  return toHex(f.take()!);
}

describe('HdlcFramer', () => {
  it("produces pppd's first LCP ConfReq byte for byte with linkDefaults", () => {
    expect(frame({}, 0xc021, CONFREQ_INFO, true)).toBe(CONFREQ_WIRE);
    // linkDefaults wins over negotiated ACCM 0, ACFC and PFC (RFC 1661 §6.5, §6.6).
    expect(frame({ accm: 0, acfc: true, pfc: true }, 0xc021, CONFREQ_INFO, true)).toBe(
      CONFREQ_WIRE,
    );
  });

  it('sends an Echo-Request with negotiated ACFC and ACCM 0 like ppp_async', () => {
    // interop/defaults/a-to-b.hex: `7e c0 21 09 00 00 08 4b da d8 97 08 87 7e` (flag shared there).
    expect(frame({ accm: 0, acfc: true, pfc: true }, 0xc021, hex('09 00 00 08 4b da d8 97'))).toBe(
      '7e c0 21 09 00 00 08 4b da d8 97 08 87 7e',
    );
  });

  it('compresses only protocols below 0x100 with PFC', () => {
    const o = { accm: 0, acfc: true, pfc: true };
    expect(frame(o, 0x21, hex('45'))).toMatch(/^7e 21 45 /);
    expect(frame(o, 0x8021, hex('01'))).toMatch(/^7e 80 21 01 /);
    expect(frame({ accm: 0, acfc: false, pfc: false }, 0xfd, hex('00'))).toMatch(
      /^7e ff 03 00 fd 00 /,
    );
  });

  it('escapes 7e, 7d, ACCM-mapped control characters and extra escapes, FCS included', () => {
    const info = Uint8Array.from([0x7e, 0x7d, 0x11, 0x13, 0x01, 0x20, 0x5d, 0x91, 0xff]);
    for (const opts of [
      { accm: 0, acfc: true, pfc: true },
      { accm: 0x000a0000, acfc: false, pfc: false },
      { accm: 0xffffffff, acfc: true, pfc: false, extra: [0x91, 0xff] },
    ]) {
      const want = toHex(Uint8Array.from([0x7e, ...refStuffedBody(0x21, info, opts), 0x7e]));
      expect(frame({ ...opts, extraEscapes: opts.extra }, 0x21, info)).toBe(want);
    }
    expect(frame({ accm: 0x000a0000 }, 0x21, hex('11 13 12'))).toContain('7d 31 7d 33 12');
  });

  it('escapes an FCS octet that is 7e (interop/defaults IPCP ConfAck ends `a0 7d 5e`)', () => {
    // Find a short payload whose FCS contains 0x7e, and check it goes out escaped.
    for (let v = 0; v < 65536; v++) {
      const info = Uint8Array.of(v >> 8, v & 0xff);
      const body = refStuffedBody(0x21, info, { accm: 0, acfc: true, pfc: true });
      if (body.includes(0x7d) && !info.includes(0x7e) && !info.includes(0x7d)) {
        expect(frame({ accm: 0, acfc: true, pfc: true }, 0x21, info)).toBe(
          toHex(Uint8Array.from([0x7e, ...body, 0x7e])),
        );
        return;
      }
    }
    throw new Error('no payload with an escaped FCS found');
  });

  it('shares one flag between back-to-back frames and opens each chunk with a flag', () => {
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
    f.writeFrame(0x21, hex('01'));
    f.writeFrame(0x21, hex('02'));
    const chunk = toHex(f.take()!);
    expect(chunk.startsWith('7e 21 01')).toBe(true);
    expect(chunk.split('7e').length - 1).toBe(3);
    expect(f.take()).toBeNull();
    f.writeFrame(0x21, hex('03'));
    expect(toHex(f.take()!).startsWith('7e 21 03')).toBe(true);
  });

  it('take() hands over a copy the caller owns and resets pending', () => {
    const f = new HdlcFramer({ accm: 0 });
    f.writeFrame(0x21, new Uint8Array(100));
    expect(f.pendingBytes).toBeGreaterThan(100);
    const a = f.take()!;
    const snapshot = toHex(a);
    expect(f.pendingBytes).toBe(0);
    f.writeFrame(0x21, new Uint8Array(100).fill(9));
    expect(toHex(a)).toBe(snapshot);
    expect(f.stats.frames).toBe(2);
  });

  it('frames many large payloads into one chunk beyond the initial capacity', () => {
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
    const info = new Uint8Array(1500).map((_, i) => i * 31);
    for (let i = 0; i < 100; i++) expect(f.writeFrame(0x21, info)).toBe(true);
    const body = refStuffedBody(0x21, info, { accm: 0, acfc: true, pfc: true });
    expect(f.take()!.length).toBe(1 + 100 * (body.length + 1));
  });

  it('refuses a frame that would exceed maxPending, counts the drop, and accepts again after take()', () => {
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true, maxPending: 1000 });
    const info = new Uint8Array(400).fill(1);
    expect(f.writeFrame(0x21, info)).toBe(true);
    expect(f.writeFrame(0x21, info)).toBe(true);
    expect(f.writeFrame(0x21, info)).toBe(false);
    expect(f.stats.drops).toBe(1);
    expect(f.pendingBytes).toBeLessThanOrEqual(1000);
    f.take();
    expect(f.writeFrame(0x21, info)).toBe(true);
  });

  it('fills up to exactly maxPending using the exact encoded size', () => {
    const info = new Uint8Array(50).fill(0x41);
    const size = 1 + refStuffedBody(0x21, info, { accm: 0, acfc: true, pfc: true }).length + 1;
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true, maxPending: size });
    expect(f.writeFrame(0x21, info)).toBe(true);
    expect(f.pendingBytes).toBe(size);
    const g = new HdlcFramer({ accm: 0, acfc: true, pfc: true, maxPending: size - 1 });
    expect(g.writeFrame(0x21, info)).toBe(false);
    expect(g.stats.drops).toBe(1);
  });

  it('throws ERR_HDLC_BAD_PROTOCOL for protocol numbers RFC 1661 §2 forbids', () => {
    const f = new HdlcFramer();
    for (const p of [0x20, 0x0100, 0x0121, 0x10021, -1, 1.5, Number.NaN]) {
      expect(() => f.writeFrame(p, new Uint8Array(0))).toThrow(
        expect.objectContaining({ code: HdlcErrorCode.BadProtocol }),
      );
    }
    expect(f.stats.frames).toBe(0);
  });

  it('throws ERR_HDLC_BAD_OPTION for bad ACCM, maxPending or escapes', () => {
    const bad = { code: HdlcErrorCode.BadOption };
    expect(() => new HdlcFramer({ accm: -1 })).toThrow(expect.objectContaining(bad));
    expect(() => new HdlcFramer({ accm: 2 ** 32 })).toThrow(expect.objectContaining(bad));
    expect(() => new HdlcFramer({ maxPending: 3 })).toThrow(expect.objectContaining(bad));
    expect(() => new HdlcFramer({ extraEscapes: [0x5e] })).toThrow(expect.objectContaining(bad));
    expect(() => new HdlcFramer({ extraEscapes: [0x20] })).toThrow(expect.objectContaining(bad));
    expect(() => new HdlcFramer({ extraEscapes: [256] })).toThrow(expect.objectContaining(bad));
    const f = new HdlcFramer({ accm: 0 });
    expect(() => f.configure({ accm: 0.5 })).toThrow(expect.objectContaining(bad));
    // A failed configure changes nothing.
    expect(frame({ accm: 0, acfc: true, pfc: true }, 0x21, hex('01'))).toBe(
      (() => {
        f.configure({ acfc: true, pfc: true });
        f.writeFrame(0x21, hex('01'));
        return toHex(f.take()!);
      })(),
    );
  });

  it('reads info views at any byte offset of a shared buffer', () => {
    const pool = new Uint8Array(4096).map((_, i) => (i * 7 + 3) & 0xff);
    const f = new HdlcFramer({ accm: 0, acfc: true, pfc: true });
    for (let off = 0; off < 9; off++) {
      const info = pool.subarray(off, off + 333);
      f.writeFrame(0x21, info);
      const want = toHex(
        Uint8Array.from([
          0x7e,
          ...refStuffedBody(0x21, info, { accm: 0, acfc: true, pfc: true }),
          0x7e,
        ]),
      );
      expect(toHex(f.take()!)).toBe(want);
    }
  });
});
