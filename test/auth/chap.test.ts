import { describe, expect, it } from 'vitest';
import {
  ChapClient,
  ChapCode,
  ChapServer,
  chapMd5Response,
  formatChap,
  md5,
} from '../../src/auth/index.js';
import { counter, run } from './harness.js';

const secretFor = (n: string) => (n === 'alice' ? 's3cret' : null);
const server = (extra: Partial<ConstructorParameters<typeof ChapServer>[0]> = {}) =>
  new ChapServer({ name: 'gw', secretFor, random32: counter(7), ...extra });

describe('CHAP-MD5', () => {
  it('authenticates a client with the right secret', () => {
    const r = run(new ChapClient({ name: 'alice', secret: 's3cret' }), server());
    expect(r.clientResults).toEqual([{ ok: true, message: 'Access granted' }]);
    expect(r.serverResults).toEqual([
      { ok: true, message: 'CHAP peer authentication succeeded for alice', peerName: 'alice' },
    ]);
    const [ch, rsp, ok] = r.wire.map((w) => w.pkt);
    expect(rsp.id).toBe(ch.id);
    expect(ok).toMatchObject({ code: ChapCode.Success, id: ch.id });
    expect(formatChap(rsp)).toMatch(/^Response id=0x[0-9a-f]+ <[0-9a-f]{32}>, name = "alice"$/);
  });

  it('fails a wrong secret with Failure "Access denied"', () => {
    const r = run(new ChapClient({ name: 'alice', secret: 'wrong' }), server());
    expect(r.clientResults).toEqual([{ ok: false, message: 'Access denied' }]);
    expect(r.serverResults[0]).toMatchObject({ ok: false, peerName: 'alice' });
  });

  it('fails a peer without a secret', () => {
    const r = run(new ChapClient({ name: 'bob', secret: 's3cret' }), server());
    expect(r.clientResults[0].ok).toBe(false);
    expect(r.serverResults[0]).toMatchObject({ ok: false, peerName: 'bob' });
  });

  it('drops a response with the wrong identifier', () => {
    const s = server();
    const ch = s.start(0).send[0];
    const value = chapMd5Response(
      ch.id,
      new TextEncoder().encode('s3cret'),
      ch.data.subarray(1, 17),
    );
    const data = new Uint8Array([16, ...value, ...new TextEncoder().encode('alice')]);
    expect(s.receive({ code: ChapCode.Response, id: (ch.id + 1) & 0xff, data }, 1)).toEqual({
      send: [],
    });
    expect(s.stats.ignored).toBe(1);
    expect(s.receive({ code: ChapCode.Response, id: ch.id, data }, 2).result?.ok).toBe(true);
  });

  it('rejects a response value of the wrong size even if it is a prefix of the right one', () => {
    const s = server();
    const ch = s.start(0).send[0];
    const value = chapMd5Response(
      ch.id,
      new TextEncoder().encode('s3cret'),
      ch.data.subarray(1, 17),
    );
    const data = new Uint8Array([
      15,
      ...value.subarray(0, 15),
      ...new TextEncoder().encode('alice'),
    ]);
    expect(s.receive({ code: ChapCode.Response, id: ch.id, data }, 1).result?.ok).toBe(false);
  });

  it('retransmits the same challenge when it is lost', () => {
    const r = run(
      new ChapClient({ name: 'alice', secret: 's3cret' }),
      server(),
      (from, i) => from === 'server' && i === 0,
    );
    expect(r.clientResults[0].ok).toBe(true);
    const challenges = r.wire.filter((w) => w.pkt.code === ChapCode.Challenge);
    expect(challenges.map((w) => w.at)).toEqual([0, 3000]);
    expect(challenges[1].pkt).toBe(challenges[0].pkt);
  });

  it('retransmits the challenge when the response is lost', () => {
    const r = run(
      new ChapClient({ name: 'alice', secret: 's3cret' }),
      server(),
      (from, i) => from === 'client' && i === 0,
    );
    expect(r.clientResults[0].ok).toBe(true);
    expect(r.serverResults.length).toBe(1);
  });

  it('repeats Success when it was lost and the client answers again', () => {
    const s = server();
    const c = new ChapClient({ name: 'alice', secret: 's3cret' });
    c.start(0);
    const ch = s.start(0).send[0];
    const rsp = c.receive(ch, 1).send[0];
    const first = s.receive(rsp, 2);
    expect(first.result?.ok).toBe(true);
    // Success lost; the client sees the same challenge again (e.g. a duplicate) and re-answers.
    const rsp2 = c.receive(ch, 3).send[0];
    const again = s.receive(rsp2, 4);
    expect(again.result).toBeUndefined();
    expect(again.send[0]).toMatchObject({ code: ChapCode.Success, id: ch.id });
    expect(c.receive(again.send[0], 5).result).toEqual({ ok: true, message: 'Access granted' });
  });

  it('gives up after 10 unanswered challenges (chap-max-challenge)', () => {
    const s = server();
    const r = run(
      new ChapClient({ name: 'alice', secret: 's3cret', timeoutMs: 0 }),
      s,
      (from) => from === 'server',
    );
    expect(r.wire.length).toBe(10);
    expect(r.serverResults).toEqual([
      { ok: false, message: 'Peer failed to respond to CHAP challenge' },
    ]);
    expect(r.endMs).toBe(30_000);
    expect(s.nextDeadline()).toBeNull();
  });

  it('client gives up when no verdict arrives within timeoutMs', () => {
    const c = new ChapClient({ name: 'alice', secret: 's3cret', timeoutMs: 1000 });
    c.start(0);
    expect(c.nextDeadline()).toBe(1000);
    expect(c.handleTimeout(1000).result).toEqual({
      ok: false,
      message: 'No CHAP success or failure received from peer',
    });
  });

  it('client answers re-challenges; server re-challenges every rechallengeMs', () => {
    const s = server({ rechallengeMs: 60_000 });
    const c = new ChapClient({ name: 'alice', secret: 's3cret' });
    const r = run(c, s, () => false, 200_000);
    expect(r.clientResults).toEqual([{ ok: true, message: 'Access granted' }]);
    expect(r.serverResults.length).toBe(1);
    const challenges = r.wire.filter((w) => w.pkt.code === ChapCode.Challenge);
    expect(challenges.map((w) => w.at)).toEqual([0, 60_000, 120_000, 180_000]);
    // New identifier and new value each time.
    expect(new Set(challenges.map((w) => w.pkt.id)).size).toBe(4);
    expect(r.wire.filter((w) => w.pkt.code === ChapCode.Success).length).toBe(4);
  });

  it('reports a failed re-challenge', () => {
    let secret = 's3cret';
    const s = new ChapServer({
      name: 'gw',
      secretFor: () => secret,
      random32: counter(3),
      rechallengeMs: 1000,
    });
    const c = new ChapClient({ name: 'alice', secret: 's3cret' });
    c.start(0);
    const ch1 = s.start(0).send[0];
    const ok = s.receive(c.receive(ch1, 0).send[0], 0);
    expect(c.receive(ok.send[0], 0).result?.ok).toBe(true);
    secret = 'rotated';
    const ch2 = s.handleTimeout(1000).send[0];
    expect(ch2.id).toBe((ch1.id + 1) & 0xff);
    const bad = s.receive(c.receive(ch2, 1000).send[0], 1000);
    expect(bad.result?.ok).toBe(false);
    expect(c.receive(bad.send[0], 1000).result).toEqual({ ok: false, message: 'Access denied' });
  });

  it('client ignores status packets for another id and packets before start', () => {
    const c = new ChapClient({ name: 'alice', secret: 's3cret' });
    expect(c.receive({ code: ChapCode.Challenge, id: 1, data: new Uint8Array([1, 0]) }, 0)).toEqual(
      { send: [] },
    );
    c.start(0);
    expect(c.receive({ code: ChapCode.Success, id: 1, data: new Uint8Array(0) }, 0)).toEqual({
      send: [],
    });
    expect(c.receive({ code: ChapCode.Challenge, id: 1, data: new Uint8Array([5, 1]) }, 0)).toEqual(
      { send: [] },
    );
    expect(c.receive({ code: 9, id: 1, data: new Uint8Array(0) }, 0)).toEqual({ send: [] });
    expect(c.stats).toMatchObject({ received: 4, ignored: 3, malformed: 1 });
  });

  it('computes MD5(id ‖ secret ‖ challenge)', () => {
    const ch = new Uint8Array([1, 2, 3]);
    expect(chapMd5Response(0x42, new Uint8Array([9]), ch)).toEqual(
      md5(new Uint8Array([0x42, 9, 1, 2, 3])),
    );
  });
});
