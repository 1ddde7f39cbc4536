/**
 * A scripted peer speaking raw PPP through the real framer/deframer, for
 * tests that need a peer behaving unlike our engine (pppd-like, rejecting
 * everything, Nak-looping…). `react` decides the answers.
 */

import { formatFrame } from '../../../src/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../../src/hdlc/index.js';
import { emitOptions, parseOptions, type RawOption } from '../../../src/ppp/options.js';
import {
  type ControlPacket,
  emitControlPacket,
  parseControlPacket,
} from '../../../src/ppp/packet.js';
import { Protocol } from '../../../src/ppp/protocols.js';

export type Reaction = (
  peer: ScriptedPeer,
  protocol: number,
  pkt: ControlPacket | null,
  info: Uint8Array,
) => void;

export class ScriptedPeer {
  readonly framer = new HdlcFramer({});
  readonly received: { protocol: number; info: Uint8Array }[] = [];
  readonly log: string[] = [];
  private readonly deframer: HdlcDeframer;
  private readonly react: Reaction;
  ids = new Map<number, number>();

  constructor(react: Reaction) {
    this.react = react;
    this.deframer = new HdlcDeframer(
      (protocol, info) => {
        const copy = Uint8Array.from(info);
        this.received.push({ protocol, info: copy });
        this.log.push(`rcvd ${formatFrame(protocol, copy) ?? `data ${protocol.toString(16)}`}`);
        const r = protocol >= 0x8000 ? parseControlPacket(copy) : null;
        this.react(this, protocol, r?.ok ? r.packet : null, copy);
      },
      { accm: 0, maxInfo: 1600 },
    );
  }

  push(bytes: Uint8Array): void {
    this.deframer.push(bytes);
  }

  take(): Uint8Array | null {
    return this.framer.take();
  }

  nextId(protocol: number): number {
    const id = ((this.ids.get(protocol) ?? 0) + 1) & 0xff;
    this.ids.set(protocol, id);
    return id;
  }

  send(protocol: number, code: number, id: number, data: Uint8Array): void {
    const pkt = emitControlPacket(code, id, data);
    this.log.push(`sent ${formatFrame(protocol, pkt)}`);
    this.framer.writeFrame(protocol, pkt, protocol === Protocol.LCP && code <= 7);
  }

  sendOptions(protocol: number, code: number, id: number, options: RawOption[]): void {
    this.send(protocol, code, id, emitOptions(options));
  }

  /** Configures the framer as pppd does after LCP opens with ACCM 0, PFC, ACFC. */
  negotiated(accm = 0, pfc = true, acfc = true): void {
    this.framer.configure({ accm, pfc, acfc });
  }
}

export function options(data: Uint8Array): RawOption[] {
  return parseOptions(data) ?? [];
}
