/** Golden vectors: the PAP and CHAP packets of the pppd 2.4.9 captures in test/fixtures/pppd. */
import { describe, expect, it } from 'vitest';
import {
  CHAP_PROTOCOL,
  ChapClient,
  ChapServer,
  decodeAuthPacket,
  encodeAuthPacket,
  formatChap,
  formatPap,
  PAP_PROTOCOL,
  PapClient,
  PapServer,
} from '../../src/auth/index.js';
import { hex, readCapture, sentLines } from './capture.js';

function authPackets(scenario: string, file: 'a-to-b.hex' | 'b-to-a.hex', protocol: number) {
  return readCapture(scenario, file)
    .filter((f) => f.protocol === protocol)
    .map((f) => {
      const p = decodeAuthPacket(f.info);
      if (p === null) throw new Error('capture packet does not decode');
      return { raw: f.info, pkt: p };
    });
}

describe('PAP capture (test/fixtures/pppd/pap)', () => {
  const aToB = authPackets('pap', 'a-to-b.hex', PAP_PROTOCOL);
  const bToA = authPackets('pap', 'b-to-a.hex', PAP_PROTOCOL);

  it('holds one AuthReq from A and one AuthAck from B', () => {
    expect(aToB.length).toBe(1);
    expect(bToA.length).toBe(1);
    expect(hex(aToB[0].raw)).toBe(
      `01010011 05${hex(new TextEncoder().encode('alice'))}06${hex(new TextEncoder().encode('s3cret'))}`.replace(
        / /g,
        '',
      ),
    );
  });

  it('formats like pppd (password hidden instead of show-password)', () => {
    const aSent = sentLines('pap', 'a.log', 'PAP');
    const bSent = sentLines('pap', 'b.log', 'PAP');
    expect(aSent).toEqual(['AuthReq id=0x1 user="alice" password="s3cret"']);
    expect(formatPap(aToB[0].pkt)).toBe('AuthReq id=0x1 user="alice" password=<hidden>');
    expect(formatPap(bToA[0].pkt)).toBe(bSent[0]);
    expect(formatPap(bToA[0].pkt)).toBe('AuthAck id=0x1 "Login ok"');
  });

  it('PapClient sends the captured AuthReq byte for byte', () => {
    const c = new PapClient({ user: 'alice', password: 's3cret' });
    const step = c.start(0);
    expect(hex(encodeAuthPacket(step.send[0]))).toBe(hex(aToB[0].raw));
  });

  it('PapServer answers the captured AuthReq with the captured AuthAck', () => {
    const s = new PapServer({ verify: (u, p) => u === 'alice' && p === 's3cret' });
    s.start(0);
    const step = s.receive(aToB[0].pkt, 10);
    expect(hex(encodeAuthPacket(step.send[0]))).toBe(hex(bToA[0].raw));
    expect(step.result).toEqual({
      ok: true,
      message: 'PAP peer authentication succeeded for alice',
      peerName: 'alice',
    });
  });

  it('PapClient accepts the captured AuthAck', () => {
    const c = new PapClient({ user: 'alice', password: 's3cret' });
    c.start(0);
    expect(c.receive(bToA[0].pkt, 5).result).toEqual({ ok: true, message: 'Login ok' });
  });
});

describe('CHAP capture (test/fixtures/pppd/chap)', () => {
  const aToB = authPackets('chap', 'a-to-b.hex', CHAP_PROTOCOL);
  const bToA = authPackets('chap', 'b-to-a.hex', CHAP_PROTOCOL);
  const [challenge, success] = [bToA[0], bToA[1]];
  const response = aToB[0];

  it('holds Challenge and Success from B, Response from A', () => {
    expect(bToA.map((p) => p.pkt.code)).toEqual([1, 3]);
    expect(aToB.map((p) => p.pkt.code)).toEqual([2]);
  });

  it('formats every packet exactly like the pppd logs', () => {
    expect(sentLines('chap', 'b.log', 'CHAP')).toEqual([
      formatChap(challenge.pkt),
      formatChap(success.pkt),
    ]);
    expect(sentLines('chap', 'a.log', 'CHAP')).toEqual([formatChap(response.pkt)]);
    expect(formatChap(challenge.pkt)).toBe(
      'Challenge id=0xc0 <ec3ea8cbaf862afe64f0e64aeb233339>, name = "pppd-vm"',
    );
    expect(formatChap(response.pkt)).toBe(
      'Response id=0xc0 <d93e58505cfde6159051556398b62b4e>, name = "alice"',
    );
    expect(formatChap(success.pkt)).toBe('Success id=0xc0 "Access granted"');
  });

  it('ChapClient answers the captured Challenge with the captured Response', () => {
    const c = new ChapClient({ name: 'alice', secret: 's3cret' });
    c.start(0);
    const step = c.receive(challenge.pkt, 1);
    expect(hex(encodeAuthPacket(step.send[0]))).toBe(hex(response.raw));
    expect(c.receive(success.pkt, 2).result).toEqual({ ok: true, message: 'Access granted' });
  });

  it('ChapServer reproduces the captured Challenge and accepts the captured Response', () => {
    // random32 #1 → id 0xc0; #2..#5 → challenge bytes, little-endian per word.
    const words = [0xc0, 0xcba83eec, 0xfe2a86af, 0x4ae6f064, 0x393323eb];
    const s = new ChapServer({
      name: 'pppd-vm',
      secretFor: (n) => (n === 'alice' ? 's3cret' : null),
      random32: () => words.shift() as number,
    });
    const start = s.start(0);
    expect(hex(encodeAuthPacket(start.send[0]))).toBe(hex(challenge.raw));
    const step = s.receive(response.pkt, 50);
    expect(hex(encodeAuthPacket(step.send[0]))).toBe(hex(success.raw));
    expect(step.result).toEqual({
      ok: true,
      message: 'CHAP peer authentication succeeded for alice',
      peerName: 'alice',
    });
  });
});
