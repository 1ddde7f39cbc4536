/**
 * The RFC 1661 §4.1 state transition table, as data.
 *
 * Rows are events, columns the ten states; each cell is the list of actions
 * (in order) and the next state, or null for an illegal event ("-").
 * Footnotes: `p` (passive, TO- → Stopped without waiting) and `x` (crossed
 * connection) do not change the cell; `r` (restart option) is not implemented,
 * so Open in Stopped/Closing/Stopping/Opened just goes where the table says.
 */

/** The ten automaton states (RFC 1661 §4.2), numbered as in the table. */
export const FsmState = {
  Initial: 0,
  Starting: 1,
  Closed: 2,
  Stopped: 3,
  Closing: 4,
  Stopping: 5,
  ReqSent: 6,
  AckRcvd: 7,
  AckSent: 8,
  Opened: 9,
} as const;

/** A state number 0-9. */
export type FsmStateId = (typeof FsmState)[keyof typeof FsmState];

/** State names as the RFC writes them. */
export const FSM_STATE_NAMES: readonly string[] = [
  'Initial',
  'Starting',
  'Closed',
  'Stopped',
  'Closing',
  'Stopping',
  'Req-Sent',
  'Ack-Rcvd',
  'Ack-Sent',
  'Opened',
];

/** Events (RFC 1661 §4.3). */
export type FsmEvent =
  | 'Up'
  | 'Down'
  | 'Open'
  | 'Close'
  | 'TO+'
  | 'TO-'
  | 'RCR+'
  | 'RCR-'
  | 'RCA'
  | 'RCN'
  | 'RTR'
  | 'RTA'
  | 'RUC'
  | 'RXJ+'
  | 'RXJ-'
  | 'RXR';

/** All events in table order. */
export const FSM_EVENTS: readonly FsmEvent[] = [
  'Up',
  'Down',
  'Open',
  'Close',
  'TO+',
  'TO-',
  'RCR+',
  'RCR-',
  'RCA',
  'RCN',
  'RTR',
  'RTA',
  'RUC',
  'RXJ+',
  'RXJ-',
  'RXR',
];

/** Actions (RFC 1661 §4.4). */
export type FsmAction =
  | 'tlu'
  | 'tld'
  | 'tls'
  | 'tlf'
  | 'irc'
  | 'zrc'
  | 'scr'
  | 'sca'
  | 'scn'
  | 'str'
  | 'sta'
  | 'scj'
  | 'ser';

/** One table cell. */
export interface FsmTransition {
  readonly actions: readonly FsmAction[];
  readonly next: FsmStateId;
}

/** Compact cell notation as in the RFC: `irc,scr/6`, `2`, `-`. */
const ROWS: Record<FsmEvent, readonly string[]> = {
  //        0        1            2        3                4        5        6            7            8            9
  Up: ['2', 'irc,scr/6', '-', '-', '-', '-', '-', '-', '-', '-'],
  Down: ['-', '-', '0', 'tls/1', '0', '1', '1', '1', '1', 'tld/1'],
  Open: ['tls/1', '1', 'irc,scr/6', '3', '5', '5', '6', '7', '8', '9'],
  Close: ['0', 'tlf/0', '2', '2', '4', '4', 'irc,str/4', 'irc,str/4', 'irc,str/4', 'tld,irc,str/4'],
  'TO+': ['-', '-', '-', '-', 'str/4', 'str/5', 'scr/6', 'scr/6', 'scr/8', '-'],
  'TO-': ['-', '-', '-', '-', 'tlf/2', 'tlf/3', 'tlf/3', 'tlf/3', 'tlf/3', '-'],
  'RCR+': [
    '-',
    '-',
    'sta/2',
    'irc,scr,sca/8',
    '4',
    '5',
    'sca/8',
    'sca,tlu/9',
    'sca/8',
    'tld,scr,sca/8',
  ],
  'RCR-': [
    '-',
    '-',
    'sta/2',
    'irc,scr,scn/6',
    '4',
    '5',
    'scn/6',
    'scn/7',
    'scn/6',
    'tld,scr,scn/6',
  ],
  RCA: ['-', '-', 'sta/2', 'sta/3', '4', '5', 'irc/7', 'scr/6', 'irc,tlu/9', 'tld,scr/6'],
  RCN: ['-', '-', 'sta/2', 'sta/3', '4', '5', 'irc,scr/6', 'scr/6', 'irc,scr/8', 'tld,scr/6'],
  RTR: ['-', '-', 'sta/2', 'sta/3', 'sta/4', 'sta/5', 'sta/6', 'sta/6', 'sta/6', 'tld,zrc,sta/5'],
  RTA: ['-', '-', '2', '3', 'tlf/2', 'tlf/3', '6', '6', '8', 'tld,scr/6'],
  RUC: ['-', '-', 'scj/2', 'scj/3', 'scj/4', 'scj/5', 'scj/6', 'scj/7', 'scj/8', 'scj/9'],
  'RXJ+': ['-', '-', '2', '3', '4', '5', '6', '6', '8', '9'],
  'RXJ-': [
    '-',
    '-',
    'tlf/2',
    'tlf/3',
    'tlf/2',
    'tlf/3',
    'tlf/3',
    'tlf/3',
    'tlf/3',
    'tld,irc,str/5',
  ],
  RXR: ['-', '-', '2', '3', '4', '5', '6', '7', '8', 'ser/9'],
};

function parseCell(cell: string): FsmTransition | null {
  if (cell === '-') return null;
  const slash = cell.lastIndexOf('/');
  const actions = slash < 0 ? [] : (cell.slice(0, slash).split(',') as FsmAction[]);
  const next = Number(slash < 0 ? cell : cell.slice(slash + 1)) as FsmStateId;
  return { actions, next };
}

/** `TABLE[event][state]`: the cell, or null when the RFC marks it illegal. */
export const FSM_TABLE: Readonly<Record<FsmEvent, readonly (FsmTransition | null)[]>> = (() => {
  const t = {} as Record<FsmEvent, (FsmTransition | null)[]>;
  for (const ev of FSM_EVENTS) t[ev] = ROWS[ev].map(parseCell);
  return t;
})();
