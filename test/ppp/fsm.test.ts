/** Automaton behaviour beyond single table cells: timers, ids, stale replies, loops. */

import { describe, expect, it } from 'vitest';
import { Code } from '../../src/ppp/codes.js';
import { Fsm } from '../../src/ppp/fsm.js';
import { FsmState } from '../../src/ppp/fsm-table.js';
import { emitOptions } from '../../src/ppp/options.js';
import { nak, REJECT } from '../../src/ppp/policy.js';
import { RecordingHost, ScriptPolicy } from './support.js';

function setup(config = {}) {
  const host = new RecordingHost();
  const policy = new ScriptPolicy();
  policy.own = [{ type: 3, data: Uint8Array.of(10, 0, 0, 1) }];
  const fsm = new Fsm(policy, host, config);
  return { host, policy, fsm };
}

const own = () => emitOptions([{ type: 3, data: Uint8Array.of(10, 0, 0, 1) }]);

describe('Fsm', () => {
  it('retransmits the Configure-Request with the same id, Max-Configure times, then finishes', () => {
    const { host, fsm } = setup();
    fsm.open(0);
    fsm.up(0);
    for (let t = 1; t <= 12; t++) fsm.handleTimeout(t * 3000);
    const reqs = host.sent.filter((s) => s.code === Code.ConfReq);
    expect(reqs).toHaveLength(10);
    expect(new Set(reqs.map((r) => r.id))).toEqual(new Set([1]));
    expect(fsm.state).toBe(FsmState.Stopped);
    expect(host.calls).toContain('tlf');
    expect(host.finishedReasons[0]).toMatch(/no reply to 10 Configure-Requests/);
    expect(fsm.nextDeadline()).toBeNull();
  });

  it('does not fire the timer before its deadline', () => {
    const { host, fsm } = setup();
    fsm.open(0);
    fsm.up(0);
    fsm.handleTimeout(2999);
    expect(host.sent).toHaveLength(1);
    expect(fsm.nextDeadline()).toBe(3000);
  });

  it('passive: stays in Stopped without tlf after the requests time out', () => {
    const { host, fsm } = setup({ passive: true });
    fsm.open(0);
    fsm.up(0);
    for (let t = 1; t <= 12; t++) fsm.handleTimeout(t * 3000);
    expect(fsm.state).toBe(FsmState.Stopped);
    expect(host.calls).not.toContain('tlf');
  });

  it('silent: waits in Stopped for the peer, then answers with request and ack', () => {
    const { host, fsm } = setup({ silent: true });
    fsm.open(0);
    fsm.up(0);
    expect(fsm.state).toBe(FsmState.Stopped);
    expect(host.sent).toEqual([]);
    fsm.receive({ code: Code.ConfReq, id: 7, data: new Uint8Array(0) }, 5);
    expect(host.sent.map((s) => [s.code, s.id])).toEqual([
      [Code.ConfReq, 1],
      [Code.ConfAck, 7],
    ]);
    expect(fsm.state).toBe(FsmState.AckSent);
  });

  it('drops replies with a stale id, duplicates, and Acks that differ from the request', () => {
    const { fsm } = setup();
    fsm.open(0);
    fsm.up(0);
    fsm.receive({ code: Code.ConfAck, id: 9, data: own() }, 1);
    expect(fsm.stats.staleReplies).toBe(1);
    fsm.receive(
      {
        code: Code.ConfAck,
        id: 1,
        data: emitOptions([{ type: 3, data: Uint8Array.of(10, 0, 0, 9) }]),
      },
      1,
    );
    expect(fsm.stats.staleReplies).toBe(2);
    expect(fsm.state).toBe(FsmState.ReqSent);
    fsm.receive({ code: Code.ConfAck, id: 1, data: own() }, 1);
    expect(fsm.state).toBe(FsmState.AckRcvd);
    fsm.receive({ code: Code.ConfAck, id: 1, data: own() }, 1); // duplicate
    expect(fsm.stats.staleReplies).toBe(3);
    expect(fsm.state).toBe(FsmState.AckRcvd);
  });

  it('a Nak leads to a new request with a new id', () => {
    const { host, fsm, policy } = setup();
    fsm.open(0);
    fsm.up(0);
    fsm.receive(
      {
        code: Code.ConfNak,
        id: 1,
        data: emitOptions([{ type: 3, data: Uint8Array.of(10, 0, 0, 7) }]),
      },
      1,
    );
    expect(policy.naks).toHaveLength(1);
    expect(host.sent.map((s) => s.id)).toEqual([1, 2]);
  });

  it('rejects a Configure-Reject that is not a subset of our request', () => {
    const { fsm, policy } = setup();
    fsm.open(0);
    fsm.up(0);
    fsm.receive(
      {
        code: Code.ConfRej,
        id: 1,
        data: emitOptions([{ type: 3, data: Uint8Array.of(1, 2, 3, 4) }]),
      },
      1,
    );
    expect(policy.rejects).toHaveLength(0);
    expect(fsm.stats.badPackets).toBe(1);
    fsm.receive({ code: Code.ConfRej, id: 1, data: own() }, 1);
    expect(policy.rejects).toHaveLength(1);
  });

  it('turns Naks into Rejects after Max-Failure, and the reply holds only the most severe verdict', () => {
    const { host, fsm, policy } = setup({ maxFailure: 2 });
    policy.judge = (type) =>
      type === 1 ? nak(Uint8Array.of(0, 1)) : type === 9 ? REJECT : { kind: 'ack' };
    fsm.open(0);
    fsm.up(0);
    const req = (id: number, types: number[]) =>
      fsm.receive(
        {
          code: Code.ConfReq,
          id,
          data: emitOptions(types.map((t) => ({ type: t, data: Uint8Array.of(0, 9) }))),
        },
        1,
      );
    req(1, [1, 2]);
    req(2, [1, 2]);
    req(3, [1, 2]);
    req(4, [1, 2, 9]);
    const replies = host.sent
      .filter((s) => s.code !== Code.ConfReq)
      .map((s) => [s.code, Array.from(s.data)]);
    expect(replies).toEqual([
      [Code.ConfNak, [1, 4, 0, 1]],
      [Code.ConfNak, [1, 4, 0, 1]],
      [Code.ConfRej, [1, 4, 0, 9]],
      [Code.ConfRej, [1, 4, 0, 9, 9, 4, 0, 9]],
    ]);
  });

  it('Code-Rejects unknown codes with the packet, and RXJ- on a rejected ConfReq', () => {
    const { host, fsm } = setup();
    fsm.open(0);
    fsm.up(0);
    fsm.receive({ code: 0x33, id: 5, data: Uint8Array.of(1, 2) }, 1);
    const cj = host.sent.at(-1)!;
    expect(cj.code).toBe(Code.CodeRej);
    expect(Array.from(cj.data)).toEqual([0x33, 5, 0, 6, 1, 2]);
    fsm.receive({ code: Code.CodeRej, id: 1, data: Uint8Array.of(Code.ConfReq, 1, 0, 4) }, 2);
    expect(fsm.state).toBe(FsmState.Stopped);
    expect(host.calls).toContain('tlf');
  });

  it('Terminate: Max-Terminate requests, then Closed and tlf', () => {
    const { host, fsm } = setup();
    fsm.open(0);
    fsm.up(0);
    host.clear();
    fsm.close(10, 'bye');
    for (let t = 1; t <= 5; t++) fsm.handleTimeout(10 + t * 3000);
    const trs = host.sent.filter((s) => s.code === Code.TermReq);
    expect(trs).toHaveLength(2);
    expect(new TextDecoder().decode(trs[0].data)).toBe('bye');
    expect(fsm.state).toBe(FsmState.Closed);
    expect(host.finishedReasons).toEqual(['bye']);
  });

  it('closes with a reason when the peer keeps refusing our options', () => {
    const { host, fsm } = setup({ maxConfigure: 3 });
    fsm.open(0);
    fsm.up(0);
    for (let i = 0; i < 10 && fsm.state === FsmState.ReqSent; i++) {
      const id = host.sent.filter((s) => s.code === Code.ConfReq).at(-1)!.id;
      fsm.receive({ code: Code.ConfNak, id, data: own() }, 1);
    }
    expect(fsm.state).toBe(FsmState.Closing);
    expect(fsm.lastReason).toMatch(/peer keeps refusing our options/);
  });

  it('ids wrap at 255 and are shared with nextId()', () => {
    const { host, fsm } = setup();
    for (let i = 0; i < 254; i++) fsm.nextId();
    fsm.open(0);
    fsm.up(0);
    expect(host.sent[0].id).toBe(255);
    expect(fsm.nextId()).toBe(0);
  });
});
