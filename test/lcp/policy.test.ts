/** LCP policy decisions (RFC 1661 §6) and the echo keepalive. */

import { describe, expect, it } from 'vitest';
import { EchoKeepalive } from '../../src/lcp/echo.js';
import { LcpOpt } from '../../src/lcp/options.js';
import { LcpPolicy, MIN_PEER_MRU } from '../../src/lcp/policy.js';
import { fromHex } from '../../src/ppp/bytes.js';
import { Code } from '../../src/ppp/codes.js';
import { applyNak, applyReject, judgePeerOption } from '../../src/ppp/policy.js';

let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed;
};

function peer(p: LcpPolicy, type: number, hex: string) {
  p.beginPeerRequest();
  return judgePeerOption(p, { type: type, data: fromHex(hex) });
}

describe('LcpPolicy', () => {
  it('requests what pppd requests by default: asyncmap 0, magic, pcomp, accomp', () => {
    const p = new LcpPolicy({ random32: () => 0x4bdad897 });
    p.resetNegotiation();
    expect(p.ownOptions().map((o) => o.type)).toEqual([
      LcpOpt.ACCM,
      LcpOpt.MagicNumber,
      LcpOpt.PFC,
      LcpOpt.ACFC,
    ]);
  });

  it('requests the MRU only when it is not 1500, and auth when required', () => {
    const p = new LcpPolicy({ random32: rnd, mru: 296, requireAuth: 'chap' });
    p.resetNegotiation();
    expect(p.ownOptions().map((o) => o.type)).toEqual([
      LcpOpt.MRU,
      LcpOpt.ACCM,
      LcpOpt.AuthProtocol,
      LcpOpt.MagicNumber,
      LcpOpt.PFC,
      LcpOpt.ACFC,
    ]);
  });

  it(`Naks an MRU below ${MIN_PEER_MRU} with ${MIN_PEER_MRU} and acks larger ones`, () => {
    const p = new LcpPolicy({ random32: rnd });
    expect(peer(p, LcpOpt.MRU, '00 40')).toEqual({ kind: 'nak', data: fromHex('00 80') });
    expect(peer(p, LcpOpt.MRU, '01 28').kind).toBe('ack');
    expect(p.his.mru).toBe(296);
  });

  it('rejects Quality-Protocol, Callback, MRRU and unknown options', () => {
    const p = new LcpPolicy({ random32: rnd });
    for (const [t, d] of [
      [LcpOpt.QualityProtocol, 'c0 25 00 00 00 64'],
      [LcpOpt.Callback, '06'],
      [LcpOpt.MRRU, '05 dc'],
      [0x55, ''],
    ] as const) {
      expect(peer(p, t, d).kind).toBe('reject');
    }
  });

  it('rejects pcomp/accomp when disabled (pppd nopcomp/noaccomp)', () => {
    const p = new LcpPolicy({ random32: rnd, pfc: false, acfc: false });
    expect(peer(p, LcpOpt.PFC, '').kind).toBe('reject');
    expect(peer(p, LcpOpt.ACFC, '').kind).toBe('reject');
  });

  it('auth: acks PAP/CHAP-MD5 only with credentials, suggests what it can, else rejects', () => {
    const none = new LcpPolicy({ random32: rnd });
    expect(peer(none, LcpOpt.AuthProtocol, 'c0 23').kind).toBe('reject');
    const both = new LcpPolicy({ random32: rnd, canPap: true, canChap: true });
    expect(peer(both, LcpOpt.AuthProtocol, 'c0 23').kind).toBe('ack');
    expect(peer(both, LcpOpt.AuthProtocol, 'c2 23 05').kind).toBe('ack');
    expect(peer(both, LcpOpt.AuthProtocol, 'c2 23 81')).toEqual({
      kind: 'nak',
      data: fromHex('c2 23 05'),
    });
    const pap = new LcpPolicy({ random32: rnd, canPap: true });
    expect(peer(pap, LcpOpt.AuthProtocol, 'c2 23 05')).toEqual({
      kind: 'nak',
      data: fromHex('c0 23'),
    });
  });

  it('Naks a magic number equal to ours, or zero, with a different one (§6.4)', () => {
    const p = new LcpPolicy({ random32: rnd });
    p.resetNegotiation();
    const ours = p.got.magic;
    const hex = ours
      .toString(16)
      .padStart(8, '0')
      .replace(/(..)(?!$)/g, '$1 ');
    const v = peer(p, LcpOpt.MagicNumber, hex);
    expect(v.kind).toBe('nak');
    expect(v.kind === 'nak' && Array.from(v.data)).not.toEqual(Array.from(fromHex(hex)));
    expect(peer(p, LcpOpt.MagicNumber, '00 00 00 00').kind).toBe('nak');
  });

  it('declares loopback after loopbackFail Naks of our magic in a row', () => {
    const p = new LcpPolicy({ random32: rnd, loopbackFail: 3 });
    p.resetNegotiation();
    for (let i = 0; i < 3; i++)
      applyNak(p, [{ type: LcpOpt.MagicNumber, data: fromHex('01 02 03 04') }]);
    expect(p.takeFatal()).toBe('loopback');
  });

  it('follows Naks of MRU and ACCM, drops rejected options, fails when auth is refused', () => {
    const p = new LcpPolicy({ random32: rnd, mru: 1400, requireAuth: 'pap' });
    p.resetNegotiation();
    applyNak(p, [
      { type: LcpOpt.MRU, data: fromHex('04 00') },
      { type: LcpOpt.ACCM, data: fromHex('00 0a 00 00') },
    ]);
    expect(p.got.mru).toBe(1024);
    expect(p.got.accm).toBe(0xa0000);
    applyReject(p, [{ type: LcpOpt.PFC, data: new Uint8Array(0) }]);
    expect(p.got.pfc).toBe(false);
    applyReject(p, [{ type: LcpOpt.AuthProtocol, data: fromHex('c0 23') }]);
    expect(p.takeFatal()).toBe('peer refused to authenticate');
  });

  it('requests the GSO Vendor-Specific option, last, only with gso', () => {
    const off = new LcpPolicy({ random32: rnd });
    off.resetNegotiation();
    expect(off.ownOptions().some((o) => o.type === LcpOpt.Vendor)).toBe(false);
    const on = new LcpPolicy({ random32: rnd, gso: true });
    on.resetNegotiation();
    const own = on.ownOptions();
    expect(own.at(-1)).toEqual({ type: LcpOpt.Vendor, data: fromHex('02 54 56 01 ff ff') });
    expect(own.map((o) => o.type)).toEqual([
      LcpOpt.ACCM,
      LcpOpt.MagicNumber,
      LcpOpt.PFC,
      LcpOpt.ACFC,
      LcpOpt.Vendor,
    ]);
  });

  it("acks the peer's GSO option with gso and records its value; rejects it without", () => {
    const on = new LcpPolicy({ random32: rnd, gso: true });
    expect(peer(on, LcpOpt.Vendor, '02 54 56 01 ff ff').kind).toBe('ack');
    expect(on.his.gso).toBe(true);
    expect(on.his.gsoMaxPacket).toBe(65535);
    on.beginPeerRequest();
    // A peer taking smaller IP packets than we do: the kernel sizes super-packets, so no.
    expect(peer(on, LcpOpt.Vendor, '02 54 56 01 05 dc').kind).toBe('reject');
    expect(on.his.gso).toBe(false);
    on.beginPeerRequest();
    expect(on.his.gso).toBe(false);
    const off = new LcpPolicy({ random32: rnd });
    expect(peer(off, LcpOpt.Vendor, '02 54 56 01 ff ff').kind).toBe('reject');
    expect(off.his.gso).toBe(false);
  });

  it('rejects other OUIs and kinds, and a malformed GSO option (RFC 2153 §2.1)', () => {
    const p = new LcpPolicy({ random32: rnd, gso: true });
    for (const hex of [
      '00 00 0c 01 ff ff', // another OUI
      '02 54 56 02 ff ff', // another kind of ours
      '02 54 56 01', // no value
      '02 54 56 01 ff ff ff', // value too long
      '02 54', // shorter than OUI + Kind
      '',
    ]) {
      expect(peer(p, LcpOpt.Vendor, hex).kind, hex).toBe('reject');
      expect(p.his.gso).toBe(false);
    }
  });

  it('a Nak or a Reject of our GSO option makes us stop asking for it', () => {
    for (const how of ['nak', 'reject'] as const) {
      const p = new LcpPolicy({ random32: rnd, gso: true });
      p.resetNegotiation();
      // A Nak suggesting another vendor's option is ignored.
      expect(applyNak(p, [{ type: LcpOpt.Vendor, data: fromHex('00 00 0c 01 00 01') }])).toBe(true);
      expect(p.got.gso).toBe(true);
      const data = how === 'nak' ? fromHex('02 54 56 01 05 dc') : fromHex('02 54 56 01 ff ff');
      const ok =
        how === 'nak'
          ? applyNak(p, [{ type: LcpOpt.Vendor, data }])
          : applyReject(p, [{ type: LcpOpt.Vendor, data }]);
      expect(ok).toBe(true);
      expect(p.got.gso).toBe(false);
      expect(p.ownOptions().some((o) => o.type === LcpOpt.Vendor)).toBe(false);
      expect(p.takeFatal()).toBeNull();
      // A new negotiation asks again.
      p.resetNegotiation();
      expect(p.got.gso).toBe(true);
    }
  });

  it('answers Echo-Request with our magic and the data unchanged', () => {
    const p = new LcpPolicy({ random32: () => 0x11223344 });
    p.resetNegotiation();
    const r = p.onRxr({ code: Code.EchoReq, id: 9, data: fromHex('aa bb cc dd 01 02') }, 0)!;
    expect(r.code).toBe(Code.EchoRep);
    expect(r.id).toBe(9);
    expect(Array.from(r.data)).toEqual([0x11, 0x22, 0x33, 0x44, 1, 2]);
  });
});

describe('EchoKeepalive', () => {
  it('sends at once, then every interval, and fails after `failures` unanswered', () => {
    const e = new EchoKeepalive(5000, 3);
    e.start(0);
    expect(e.poll(0)).toEqual({ kind: 'send', id: 0 });
    expect(e.poll(4999)).toBeNull();
    expect(e.poll(5000)).toEqual({ kind: 'send', id: 1 });
    expect(e.poll(10000)).toEqual({ kind: 'send', id: 2 });
    expect(e.poll(15000)).toEqual({ kind: 'fail' });
  });

  it('a reply resets the failure count and gives the RTT', () => {
    const e = new EchoKeepalive(5000, 2);
    e.start(0);
    e.poll(0);
    expect(e.onReply(0, 42)).toBe(42);
    expect(e.onReply(0, 50)).toBeNull(); // duplicate
    e.poll(5000);
    e.poll(10000);
    expect(e.poll(15000)).toEqual({ kind: 'fail' });
  });
});
