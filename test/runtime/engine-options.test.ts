/**
 * peer.yaml → engine settings for `ts-vpn up` (src/runtime/engine-options.ts): a far end
 * known to be stock pppd is not offered the private GSO option (issue 12: one wasted
 * LCP round trip per bring-up before).
 */
import { describe, expect, it } from 'vitest';
import { parsePeerConfig } from '../../src/config/index.js';
import { PppEngine } from '../../src/engine/index.js';
import { HdlcDeframer } from '../../src/hdlc/index.js';
import { hexSpaced } from '../../src/ppp/bytes.js';
import { clientEngineOptions } from '../../src/runtime/engine-options.js';
import { ENV } from '../config/fixtures.js';

/** The first LCP Configure-Request `ts-vpn up` would send for this peer.yaml (GSO on). */
function firstConfReq(yaml: string): string {
  const cfg = parsePeerConfig(yaml, 'peer.yaml', ENV);
  const e = new PppEngine(
    { ...clientEngineOptions(cfg, () => {}), random32: () => 0x4bdad897, gso: true },
    undefined,
    () => {},
  );
  e.open(0);
  const frames: Uint8Array[] = [];
  new HdlcDeframer((_p, info) => frames.push(Uint8Array.from(info)), { accm: 0 }).push(
    e.takeOutput() ?? new Uint8Array(0),
  );
  return hexSpaced(frames[0]);
}

describe('clientEngineOptions', () => {
  it('remote.kind pppd: the first Configure-Request has no GSO option; ts-vpn: it has', () => {
    const toPppd = firstConfReq(
      'ssh:\n  host: gw.example.com\nremote:\n  command: sudo pppd notty noauth\n',
    );
    expect(toPppd).toBe('01 01 00 14 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02');
    const toTsVpn = firstConfReq('ssh:\n  host: gw.example.com\n');
    expect(toTsVpn).toBe(
      '01 01 00 1c 02 06 00 00 00 00 05 06 4b da d8 97 07 02 08 02 00 08 02 54 56 01 ff ff',
    );
  });
});
