import { describe, expect, it } from 'vitest';
import { AuthError, formatPap, PapClient, PapCode, PapServer } from '../../src/auth/index.js';
import { run } from './harness.js';

const users: Record<string, string> = { alice: 's3cret' };
const verify = (u: string, p: string) => users[u] === p;

describe('PAP', () => {
  it('authenticates a client with the right password', () => {
    const r = run(new PapClient({ user: 'alice', password: 's3cret' }), new PapServer({ verify }));
    expect(r.clientResults).toEqual([{ ok: true, message: 'Login ok' }]);
    expect(r.serverResults).toEqual([
      { ok: true, message: 'PAP peer authentication succeeded for alice', peerName: 'alice' },
    ]);
    expect(r.wire.map((w) => formatPap(w.pkt))).toEqual([
      'AuthReq id=0x1 user="alice" password=<hidden>',
      'AuthAck id=0x1 "Login ok"',
    ]);
  });

  it('rejects a wrong password with AuthNak "Login incorrect"', () => {
    const r = run(new PapClient({ user: 'alice', password: 'nope' }), new PapServer({ verify }));
    expect(r.clientResults).toEqual([{ ok: false, message: 'Login incorrect' }]);
    expect(r.serverResults[0].ok).toBe(false);
    expect(r.serverResults[0].peerName).toBe('alice');
    expect(r.wire[1].pkt.code).toBe(PapCode.AuthNak);
  });

  it('rejects an unknown user', () => {
    const r = run(
      new PapClient({ user: 'mallory', password: 's3cret' }),
      new PapServer({ verify }),
    );
    expect(r.clientResults[0].ok).toBe(false);
    expect(r.serverResults[0].ok).toBe(false);
  });

  it('retransmits a lost AuthReq after 3 s with a new id', () => {
    const r = run(
      new PapClient({ user: 'alice', password: 's3cret' }),
      new PapServer({ verify }),
      (from, i) => from === 'client' && i === 0,
    );
    expect(r.clientResults).toEqual([{ ok: true, message: 'Login ok' }]);
    const reqs = r.wire.filter((w) => w.from === 'client');
    expect(reqs.map((w) => [w.pkt.id, w.at])).toEqual([
      [1, 0],
      [2, 3000],
    ]);
  });

  it('repeats the verdict when the AuthAck was lost', () => {
    const server = new PapServer({ verify });
    const r = run(
      new PapClient({ user: 'alice', password: 's3cret' }),
      server,
      (from, i) => from === 'server' && i === 0,
    );
    expect(r.clientResults).toEqual([{ ok: true, message: 'Login ok' }]);
    expect(r.serverResults.length).toBe(1); // the repeat does not re-report
    expect(r.wire.filter((w) => w.from === 'server').map((w) => w.pkt.id)).toEqual([1, 2]);
  });

  it('gives up after 10 unanswered requests (pap-max-authreq)', () => {
    const client = new PapClient({ user: 'alice', password: 's3cret' });
    const r = run(client, new PapServer({ verify, timeoutMs: 0 }), (from) => from === 'client');
    expect(r.wire.filter((w) => w.from === 'client').length).toBe(10);
    expect(r.clientResults).toEqual([
      { ok: false, message: 'No response to PAP authenticate-requests' },
    ]);
    expect(r.endMs).toBe(30_000);
    expect(client.nextDeadline()).toBeNull();
    expect(client.stats.retransmits).toBe(9);
  });

  it('honours restartMs and maxRequests', () => {
    const client = new PapClient({ user: 'a', password: 'b', restartMs: 500, maxRequests: 2 });
    const r = run(client, new PapServer({ verify, timeoutMs: 0 }), (from) => from === 'client');
    expect(r.wire.map((w) => w.at)).toEqual([0, 500]);
    expect(r.endMs).toBe(1000);
  });

  it('server fails when no request arrives within timeoutMs', () => {
    const s = new PapServer({ verify, timeoutMs: 5000 });
    expect(s.start(100).send).toEqual([]);
    expect(s.nextDeadline()).toBe(5100);
    expect(s.handleTimeout(5099)).toEqual({ send: [] });
    const step = s.handleTimeout(5100);
    expect(step.result?.ok).toBe(false);
    expect(s.nextDeadline()).toBeNull();
  });

  it('ignores stale and unexpected replies', () => {
    const c = new PapClient({ user: 'alice', password: 's3cret' });
    c.start(0);
    expect(c.receive({ code: PapCode.AuthAck, id: 9, data: new Uint8Array([0]) }, 1)).toEqual({
      send: [],
    });
    expect(c.receive({ code: PapCode.AuthReq, id: 1, data: new Uint8Array([0, 0]) }, 1)).toEqual({
      send: [],
    });
    expect(c.receive({ code: PapCode.AuthAck, id: 1, data: new Uint8Array([5, 1]) }, 1)).toEqual({
      send: [],
    }); // short message
    expect(c.stats).toMatchObject({ received: 3, ignored: 2, malformed: 1 });
    // pppd takes an Ack without Msg-Length as an empty message.
    expect(c.receive({ code: PapCode.AuthAck, id: 1, data: new Uint8Array(0) }, 2).result?.ok).toBe(
      true,
    );
    expect(c.receive({ code: PapCode.AuthAck, id: 1, data: new Uint8Array(0) }, 3)).toEqual({
      send: [],
    });
  });

  it('server ignores requests before start and malformed requests', () => {
    const s = new PapServer({ verify });
    const good = { code: PapCode.AuthReq, id: 1, data: new Uint8Array([1, 0x61, 1, 0x62]) };
    expect(s.receive(good, 0)).toEqual({ send: [] });
    s.start(0);
    expect(s.receive({ code: PapCode.AuthReq, id: 1, data: new Uint8Array([3, 0x61]) }, 0)).toEqual(
      { send: [] },
    );
    expect(s.stats).toMatchObject({ ignored: 1, malformed: 1 });
  });

  it('treats a verify callback that throws as a failed login', () => {
    const s = new PapServer({
      verify: () => {
        throw new Error('db down');
      },
    });
    s.start(0);
    const step = s.receive(
      { code: PapCode.AuthReq, id: 7, data: new Uint8Array([1, 0x61, 1, 0x62]) },
      0,
    );
    expect(step.send[0]).toMatchObject({ code: PapCode.AuthNak, id: 7 });
    expect(step.result?.ok).toBe(false);
  });

  it('rejects invalid user options locally with a typed error', () => {
    expect(() => new PapClient({ user: 'x'.repeat(256), password: '' })).toThrow(AuthError);
    try {
      new PapClient({ user: 'a', password: 'p'.repeat(300) });
    } catch (e) {
      expect((e as AuthError).code).toBe('AUTH_INVALID_OPTION');
    }
  });
});
