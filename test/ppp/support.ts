/** A minimal policy and a recording host for driving the automaton in tests. */

import type { Fsm, FsmHost } from '../../src/ppp/fsm.js';
import type { ParsedOption, RawOption } from '../../src/ppp/options.js';
import { optionTable } from '../../src/ppp/options.js';
import type { FsmPolicy, OptionVerdict } from '../../src/ppp/policy.js';
import { ACK } from '../../src/ppp/policy.js';

export interface Sent {
  code: number;
  id: number;
  data: Uint8Array;
}

/** Records everything the automaton does. */
export class RecordingHost implements FsmHost {
  sent: Sent[] = [];
  calls: string[] = [];
  finishedReasons: string[] = [];
  send(_fsm: Fsm, code: number, id: number, data: Uint8Array): void {
    this.sent.push({ code, id, data: Uint8Array.from(data) });
  }
  thisLayerUp(): void {
    this.calls.push('tlu');
  }
  thisLayerDown(): void {
    this.calls.push('tld');
  }
  thisLayerStarted(): void {
    this.calls.push('tls');
  }
  thisLayerFinished(_fsm: Fsm, reason: string): void {
    this.calls.push('tlf');
    this.finishedReasons.push(reason);
  }
  clear(): void {
    this.sent = [];
    this.calls = [];
  }
}

/** A policy with scripted answers: requests `own`, judges peer options with `judge`. */
export class ScriptPolicy implements FsmPolicy {
  readonly protocol = 0x8021;
  readonly printer = { name: 'TEST', options: optionTable([]), maxCode: 7 };
  own: RawOption[] = [];
  judge: (type: number, data: Uint8Array) => OptionVerdict = () => ACK;
  naks: RawOption[][] = [];
  rejects: RawOption[][] = [];
  acks = 0;
  resets = 0;
  resetNegotiation(): void {
    this.resets++;
  }
  ownOptions(): RawOption[] {
    return this.own;
  }
  beginPeerRequest(): void {}
  onPeerOption(o: ParsedOption): OptionVerdict {
    return this.judge(o.type, o.data);
  }
  onAck(): void {
    this.acks++;
  }
  onNak(options: ParsedOption[]): boolean {
    this.naks.push(options.map(({ type, data }) => ({ type, data })));
    return true;
  }
  onReject(options: ParsedOption[]): boolean {
    this.rejects.push(options.map(({ type, data }) => ({ type, data })));
    return true;
  }
}
