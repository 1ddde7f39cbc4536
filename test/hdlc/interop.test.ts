/**
 * Golden vectors from real pppd 2.4.9 captures (test/fixtures/pppd, README there): every
 * frame of all 12 files decodes with a good FCS, and re-framing the decoded frames with
 * the options each side used reproduces the capture byte for byte, flags included.
 */
import { describe, expect, it } from 'vitest';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import {
  collector,
  type Direction,
  readCapture,
  requireInterop,
  SCENARIOS,
  type Scenario,
  splitWire,
  toHex,
} from './support.js';

/** The README's table: bytes and frames (control + data) per file. */
const TABLE: Record<Scenario, Record<Direction, { bytes: number; frames: number }>> = {
  defaults: { 'a-to-b.hex': { bytes: 445, frames: 18 }, 'b-to-a.hex': { bytes: 435, frames: 18 } },
  rejects: { 'a-to-b.hex': { bytes: 483, frames: 11 }, 'b-to-a.hex': { bytes: 465, frames: 11 } },
  'mru-accm': {
    'a-to-b.hex': { bytes: 430, frames: 15 },
    'b-to-a.hex': { bytes: 445, frames: 15 },
  },
  pap: { 'a-to-b.hex': { bytes: 449, frames: 9 }, 'b-to-a.hex': { bytes: 434, frames: 9 } },
  chap: { 'a-to-b.hex': { bytes: 456, frames: 9 }, 'b-to-a.hex': { bytes: 468, frames: 10 } },
  'ask-address': {
    'a-to-b.hex': { bytes: 439, frames: 15 },
    'b-to-a.hex': { bytes: 422, frames: 15 },
  },
};

/** The ACCM each sender used once LCP was up (its peer's receive ACCM). */
function txAccm(scenario: Scenario, file: Direction): number {
  return scenario === 'mru-accm' && file === 'b-to-a.hex' ? 0x000a0000 : 0;
}

const FILES = SCENARIOS.flatMap((s) =>
  (['a-to-b.hex', 'b-to-a.hex'] as const).map((f) => [s, f] as const),
);

describe('pppd interop captures', () => {
  it('reads the captures from test/fixtures/pppd inside the repository', () => {
    expect(requireInterop()).toMatch(/test[/\\]fixtures[/\\]pppd[/\\]$/);
  });

  it.each(FILES)('%s/%s decodes to the README frame count with no bad frame', (scenario, file) => {
    const bytes = readCapture(scenario, file);
    expect(bytes.length).toBe(TABLE[scenario][file].bytes);
    const c = collector();
    const d = new HdlcDeframer(c.onFrame, { accm: 0 });
    d.push(bytes);
    expect(d.stats).toEqual({
      framesOk: TABLE[scenario][file].frames,
      badFcs: 0,
      tooLong: 0,
      tooShort: 0,
      aborted: 0,
      badHeader: 0,
    });
    // Same frames as an independent split, whatever the chunking.
    const ref = splitWire(bytes);
    const c2 = collector();
    const d2 = new HdlcDeframer(c2.onFrame, { accm: 0 });
    for (let i = 0; i < bytes.length; i += 7) d2.push(bytes.subarray(i, i + 7));
    expect(c2.frames).toEqual(c.frames);
    expect(ref).toHaveLength(c.frames.length);
  });

  it.each(FILES)('%s/%s is reproduced byte for byte by HdlcFramer', (scenario, file) => {
    const bytes = readCapture(scenario, file);
    const c = collector();
    new HdlcDeframer(c.onFrame, { accm: 0 }).push(bytes);
    const wire = splitWire(bytes);
    const framer = new HdlcFramer({ accm: txAccm(scenario, file) });
    const chunks: Uint8Array[] = [];
    c.frames.forEach(({ protocol, info }, k) => {
      const raw = wire[k].raw;
      const lcpLink = protocol === 0xc021 && info[0] >= 1 && info[0] <= 7;
      const hasAc = raw[0] === 0xff && raw[1] === 0x03;
      const shortProto = (raw[hasAc ? 2 : 0] & 1) === 1;
      // A frame with its own opening flag started a new write in ppp_async.
      if (wire[k].ownFlag) {
        const out = framer.take();
        if (out) chunks.push(out);
      }
      framer.configure({ acfc: !hasAc, pfc: shortProto });
      expect(framer.writeFrame(protocol, info, lcpLink)).toBe(true);
    });
    chunks.push(framer.take()!);
    expect(toHex(Uint8Array.from(chunks.flatMap((x) => [...x])))).toBe(toHex(bytes));
  });

  it('decodes mru-accm B→A with the receive ACCM A asked for (0x000a0000)', () => {
    const d = new HdlcDeframer(() => {}, { accm: 0x000a0000 });
    d.push(readCapture('mru-accm', 'b-to-a.hex'));
    expect(d.stats.framesOk).toBe(15);
    expect(d.stats.badFcs).toBe(0);
  });

  it('fails with the default receive ACCM once pppd sends raw control characters (shows why the engine must switch)', () => {
    const d = new HdlcDeframer(() => {}, {});
    d.push(readCapture('defaults', 'a-to-b.hex'));
    expect(d.stats.badFcs).toBeGreaterThan(0);
  });

  it('decodes all 155 frames with the FCS residue 0xf0b8', () => {
    let total = 0;
    for (const [s, f] of FILES) {
      const d = new HdlcDeframer(() => {}, { accm: 0 });
      d.push(readCapture(s, f));
      total += d.stats.framesOk;
      expect(d.stats.badFcs).toBe(0);
    }
    expect(total).toBe(155);
  });
});
