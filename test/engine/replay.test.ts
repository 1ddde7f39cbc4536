/**
 * Replays pppd A's bytes from each capture into an engine configured like
 * pppd B (options.txt), with B's random values injected, and checks that our
 * answers have B's shape. Where we differ from pppd B by design (we do not
 * do CCP or VJ) the expected lines say so.
 */

import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/engine/index.js';
import { interopAvailable, loadCapture, type Scenario, sentLines } from './support/interop.js';
import { replay, scriptedRandom } from './support/replay.js';

const B_ADDR = { local: '10.64.0.2', peer: '10.64.0.1' };

/** CHAP challenge words as random32 values (the server takes bytes low-first). */
function le(words: number[]): number[] {
  return words.map(
    (w) =>
      (((w & 0xff) << 24) |
        (((w >>> 8) & 0xff) << 16) |
        (((w >>> 16) & 0xff) << 8) |
        (w >>> 24)) >>>
      0,
  );
}

const config = (): Record<Scenario, Omit<EngineOptions, 'log'>> => ({
  defaults: {
    random32: scriptedRandom([0x3474dda3, 0x56c3beed, 0xc0234aeb]),
    lcp: { silent: true, echoIntervalMs: 5000, echoFailures: 3 },
    ipcp: B_ADDR,
  },
  rejects: {
    random32: scriptedRandom([0x941989d0, 0x366de8dd, 0x6041a9cb]),
    lcp: { silent: true },
    ipcp: B_ADDR,
  },
  'mru-accm': {
    random32: scriptedRandom([0x719373a9, 0x75111d23, 0xd577fe32]),
    lcp: { silent: true },
    ipcp: B_ADDR,
  },
  pap: {
    random32: scriptedRandom([0x0d08170b]),
    lcp: { silent: true },
    ipcp: B_ADDR,
    ipv6cp: false,
    auth: { require: 'pap', verify: (u, p) => u === 'alice' && p === 's3cret' },
  },
  chap: {
    random32: scriptedRandom([
      0x6e97982e,
      0xc0,
      ...le([0xec3ea8cb, 0xaf862afe, 0x64f0e64a, 0xeb233339]),
    ]),
    lcp: { silent: true },
    ipcp: B_ADDR,
    ipv6cp: false,
    auth: { require: 'chap', name: 'pppd-vm', secretFor: (n) => (n === 'alice' ? 's3cret' : null) },
  },
  'ask-address': {
    random32: scriptedRandom([0x5891c39c, 0xd0b63dfd, 0x370c4f55]),
    lcp: { silent: true },
    ipcp: { ...B_ADDR, dns: ['10.64.0.53'] },
  },
});

/** Our lines where pppd B's differ, by design. */
const CCP_PROTREJ = (id: number, ccpId: number) =>
  `[LCP ProtRej id=0x${id.toString(16)} 80 fd 0${ccpId} 01 00 0f 1a 04 78 00 18 04 78 00 15 03 2f]`;

const EXPECTED: Record<Scenario, string[]> = {
  pap: [],
  chap: [],
  defaults: [
    '[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0xc0234aeb> <pcomp> <accomp>]',
    '[LCP ConfAck id=0x1 <asyncmap 0x0> <magic 0x4bdad897> <pcomp> <accomp>]',
    '[LCP EchoReq id=0x0 magic=0xc0234aeb]',
    // pppd B: CCP ConfReq and IPCP with VJ; we do neither.
    '[IPCP ConfReq id=0x1 <addr 10.64.0.2>]',
    '[IPV6CP ConfReq id=0x1 <addr fe80::3474:dda3:56c3:beed>]',
    '[LCP EchoRep id=0x0 magic=0xc0234aeb]',
    CCP_PROTREJ(2, 1), // pppd B: CCP ConfAck
    '[IPCP ConfRej id=0x1 <compress VJ 0f 01>]', // pppd B: ConfAck with VJ
    '[IPV6CP ConfAck id=0x1 <addr fe80::704e:ddcc:e296:1078>]',
    CCP_PROTREJ(3, 2), // A (replayed) acks B's CCP request: unknown to us too
    '[LCP EchoRep id=0x1 magic=0xc0234aeb]',
    '[LCP TermAck id=0x2]',
  ],
  rejects: [
    '[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x6041a9cb> <pcomp> <accomp>]',
    '[LCP ConfAck id=0x1 <asyncmap 0x0> <magic 0x983bef03> <pcomp> <accomp>]',
    '[IPCP ConfReq id=0x1 <addr 10.64.0.2>]',
    '[IPV6CP ConfReq id=0x1 <addr fe80::9419:89d0:366d:e8dd>]',
    '[IPCP ConfAck id=0x1 <addr 10.64.0.1>]',
    '[LCP TermAck id=0x4]',
  ],
  'mru-accm': [
    '[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0xd577fe32> <pcomp> <accomp>]',
    '[LCP ConfAck id=0x1 <mru 296> <asyncmap 0xa0000> <magic 0xff6147e9>]',
    '[LCP ConfReq id=0x2 <asyncmap 0x0> <magic 0xd577fe32>]',
    '[IPCP ConfReq id=0x1 <addr 10.64.0.2>]',
    '[IPV6CP ConfReq id=0x1 <addr fe80::7193:73a9:7511:1d23>]',
    CCP_PROTREJ(3, 1),
    '[IPCP ConfRej id=0x1 <compress VJ 0f 01>]',
    '[IPV6CP ConfAck id=0x1 <addr fe80::5c60:b6c0:8473:4dc1>]',
    CCP_PROTREJ(4, 2),
    '[IPV6CP TermAck id=0x2]',
    '[LCP TermAck id=0x2]',
  ],
  'ask-address': [
    '[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x370c4f55> <pcomp> <accomp>]',
    '[LCP ConfAck id=0x1 <asyncmap 0x0> <magic 0xa5dcb42b> <pcomp> <accomp>]',
    '[IPCP ConfReq id=0x1 <addr 10.64.0.2>]',
    '[IPV6CP ConfReq id=0x1 <addr fe80::5891:c39c:d0b6:3dfd>]',
    CCP_PROTREJ(2, 1),
    // pppd B Naks addr and DNS here; the Reject of VJ takes precedence (RFC 1661 §5.4).
    '[IPCP ConfRej id=0x1 <compress VJ 0f 01>]',
    '[IPV6CP ConfAck id=0x1 <addr fe80::74c4:5e8f:966e:e7dc>]',
    CCP_PROTREJ(3, 2),
    '[IPCP ConfRej id=0x2 <compress VJ 0f 01>]',
    '[LCP TermAck id=0x2]',
  ],
};

describe.runIf(interopAvailable())('replaying pppd A into an engine configured like pppd B', () => {
  for (const name of Object.keys(config()) as Scenario[]) {
    it(`${name}: our answers have B's shape`, () => {
      const cap = loadCapture(name);
      const r = replay(cap.aToB, config()[name]);
      // Compressed datagrams (protocol fd) only exist because pppd A believed CCP was up.
      const ours = r.sent.map((l) => l.slice(5)).filter((l) => !l.includes(' 00 fd '));
      const expected = EXPECTED[name].length > 0 ? EXPECTED[name] : sentLines(cap.bLog);
      expect(ours).toEqual(expected);
    });
  }

  it('pap: authenticates alice and brings IPv4 up with the captured addresses', () => {
    const r = replay(loadCapture('pap').aToB, config().pap);
    expect(r.events.filter((e) => e.type === 'auth-ok')).toEqual([
      { type: 'auth-ok', peerName: 'alice' },
    ]);
    expect(r.events.filter((e) => e.type === 'ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.64.0.2', peer: '10.64.0.1', dns: [] },
    ]);
    expect(r.ip).toBe(3); // the three pings
  });

  it('chap: verifies the captured response', () => {
    const r = replay(loadCapture('chap').aToB, config().chap);
    expect(r.events.filter((e) => e.type === 'auth-ok')).toEqual([
      { type: 'auth-ok', peerName: 'alice' },
    ]);
    expect(r.ip).toBe(3);
  });

  it('mru-accm: LCP up with the peer MRU as our MTU', () => {
    const r = replay(loadCapture('mru-accm').aToB, config()['mru-accm']);
    expect(r.events.find((e) => e.type === 'lcp-up')).toMatchObject({
      mtu: 296,
      mru: 1500,
      peerMagic: 0xff6147e9,
    });
  });

  it('rejects: IPv6CP stops after the peer Protocol-Rejects it, IPCP carries on', () => {
    const r = replay(loadCapture('rejects').aToB, config().rejects);
    expect(r.log).toContain("Protocol-Reject for 'IPv6 Control Protocol' (0x8057) received");
    expect(r.engine.stats().protocolRejectsReceived).toBe(2);
  });
});

describe.runIf(interopAvailable())('replaying pppd B into an engine configured like pppd A', () => {
  it('pap: we authenticate as alice with PAP', () => {
    const cap = loadCapture('pap');
    const r = replay(cap.bToA, {
      random32: scriptedRandom([0xbfcc59e9]),
      ipcp: { local: '10.64.0.1', peer: '10.64.0.2' },
      ipv6cp: false,
      auth: { user: 'alice', password: 's3cret' },
    });
    // Our engine speaks first (not silent), so B's answers arrive as in the capture.
    expect(r.sent.map((l) => l.slice(5)).slice(0, 5)).toEqual(
      sentLines(cap.aLog)
        .map((l) => l.replace(/password="[^"]*"/, 'password=<hidden>'))
        .slice(0, 5),
    );
    expect(r.events.filter((e) => e.type === 'ipv4-up')).toHaveLength(1);
  });

  it('chap: we answer the captured challenge with the captured response', () => {
    const cap = loadCapture('chap');
    const r = replay(cap.bToA, {
      random32: scriptedRandom([0x96c27cff]),
      ipcp: { local: '10.64.0.1', peer: '10.64.0.2' },
      ipv6cp: false,
      auth: { user: 'alice', password: 's3cret' },
    });
    expect(r.sent).toContain(
      'sent [CHAP Response id=0xc0 <d93e58505cfde6159051556398b62b4e>, name = "alice"]',
    );
    expect(r.events.filter((e) => e.type === 'auth-ok')).toHaveLength(1);
  });
});
