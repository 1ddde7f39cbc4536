/**
 * Drives the automaton through every (state, event) pair of the RFC 1661
 * §4.1 table and checks the actions and the resulting state. The expected
 * table is written out here again, as printed in the RFC, independently of
 * src/ppp/fsm-table.ts.
 */

import { describe, expect, it } from 'vitest';
import { Code } from '../../src/ppp/codes.js';
import { Fsm } from '../../src/ppp/fsm.js';
import { FSM_EVENTS, FSM_TABLE, type FsmEvent, FsmState } from '../../src/ppp/fsm-table.js';
import { RecordingHost, ScriptPolicy } from './support.js';

const RFC_TABLE = `
      |    0         1         2         3         4         5          6         7         8           9
Events| Initial   Starting  Closed    Stopped   Closing   Stopping   Req-Sent  Ack-Rcvd  Ack-Sent    Opened
 Up   |    2     irc,scr/6     -         -         -         -          -         -         -           -
 Down |    -         -         0       tls/1       0         1          1         1         1         tld/1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r         6         7         8           9r
 Close|    0       tlf/0       2         2         4         4      irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
  TO+ |    -         -         -         -       str/4     str/5      scr/6     scr/6     scr/8         -
  TO- |    -         -         -         -       tlf/2     tlf/3      tlf/3p    tlf/3p    tlf/3p        -
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5        sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5        scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |    -         -       sta/2     sta/3       4         5        irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |    -         -       sta/2     sta/3       4         5      irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5      sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3        6         6         8       tld,scr/6
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5      scj/6     scj/7     scj/8       scj/9
 RXJ+ |    -         -         2         3         4         5          6         6         8           9
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3      tlf/3     tlf/3     tlf/3   tld,irc,str/5
 RXR  |    -         -         2         3         4         5          6         7         8         ser/9
`;

interface Cell {
  actions: string[];
  next: number;
}

function parseRfc(): Map<string, (Cell | null)[]> {
  const m = new Map<string, (Cell | null)[]>();
  for (const line of RFC_TABLE.split('\n')) {
    const bar = line.indexOf('|');
    if (bar < 0) continue;
    const ev = line.slice(0, bar).trim();
    if (ev === '' || ev === 'Events') continue;
    const cells = line
      .slice(bar + 1)
      .trim()
      .split(/\s+/)
      .map((c): Cell | null => {
        if (c === '-') return null;
        const clean = c.replace(/[prx]$/, '');
        const slash = clean.lastIndexOf('/');
        return {
          actions: slash < 0 ? [] : clean.slice(0, slash).split(','),
          next: Number(slash < 0 ? clean : clean.slice(slash + 1)),
        };
      });
    m.set(ev, cells);
  }
  return m;
}

const PKT = { code: Code.ConfReq, id: 0x42, data: new Uint8Array(0) };

/** Event sequences that lead from Initial to each state. */
const PATHS: FsmEvent[][] = [
  [],
  ['Open'],
  ['Up'],
  ['Open', 'Up', 'TO-'],
  ['Open', 'Up', 'Close'],
  ['Open', 'Up', 'RCR+', 'RCA', 'RTR'],
  ['Open', 'Up'],
  ['Open', 'Up', 'RCA'],
  ['Open', 'Up', 'RCR+'],
  ['Open', 'Up', 'RCA', 'RCR+'],
];

function fsmIn(state: number): { fsm: Fsm; host: RecordingHost } {
  const host = new RecordingHost();
  const fsm = new Fsm(new ScriptPolicy(), host);
  for (const ev of PATHS[state]) fsm.signal(ev, 0, PKT);
  expect(fsm.state).toBe(state);
  host.clear();
  return { fsm, host };
}

/** The packet codes each sending action puts on the wire. */
const SENDS: Record<string, number> = {
  scr: Code.ConfReq,
  sca: Code.ConfAck,
  str: Code.TermReq,
  sta: Code.TermAck,
  scj: Code.CodeRej,
};

const rfc = parseRfc();

describe('RFC 1661 §4.1 state transition table', () => {
  it('src table equals the RFC text', () => {
    for (const ev of FSM_EVENTS) {
      const ours = FSM_TABLE[ev].map((c) =>
        c === null ? null : { actions: [...c.actions], next: c.next },
      );
      expect(ours, ev).toEqual(rfc.get(ev));
    }
  });

  for (const ev of FSM_EVENTS) {
    for (let state = 0; state < 10; state++) {
      const cell = rfc.get(ev)?.[state] ?? null;
      const label = cell === null ? 'illegal' : `${cell.actions.join(',') || '-'}/${cell.next}`;
      it(`${ev} in state ${state}: ${label}`, () => {
        const { fsm, host } = fsmIn(state);
        const illegalBefore = fsm.stats.illegalEvents;
        fsm.signal(ev, 1000, PKT);
        if (cell === null) {
          expect(fsm.state).toBe(state);
          expect(fsm.lastActions).toEqual([]);
          expect(fsm.stats.illegalEvents).toBe(illegalBefore + 1);
          expect(host.sent).toEqual([]);
          return;
        }
        expect(fsm.lastActions).toEqual(cell.actions);
        expect(fsm.state).toBe(cell.next);
        // Side effects match the actions.
        const expectedSends = cell.actions
          .filter((a) => a in SENDS || a === 'scn')
          .map((a) => (a === 'scn' ? -1 : SENDS[a]));
        expect(host.sent.map((s) => s.code).filter((c) => c !== 0)).toEqual(
          expectedSends.filter((c) => c !== -1),
        );
        const layer = cell.actions.filter((a) => a.startsWith('tl'));
        expect([...host.calls].sort()).toEqual([...layer].sort());
        // The restart timer runs only in Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent.
        const running = [
          FsmState.Closing,
          FsmState.Stopping,
          FsmState.ReqSent,
          FsmState.AckRcvd,
          FsmState.AckSent,
        ];
        if (!running.includes(cell.next as 4 | 5 | 6 | 7 | 8))
          expect(fsm.nextDeadline()).toBeNull();
        if (
          cell.actions.includes('scr') ||
          cell.actions.includes('str') ||
          cell.actions.includes('zrc')
        ) {
          expect(fsm.nextDeadline()).toBe(1000 + fsm.config.restartMs);
        }
      });
    }
  }
});
