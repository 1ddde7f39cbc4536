/** Builds the engine's {@link EngineStats} snapshot from its parts. */

import type { HdlcDeframer, HdlcFramer } from '../hdlc/index.js';
import type { EchoKeepalive } from '../lcp/echo.js';
import type { Fsm } from '../ppp/fsm.js';
import type { ControlIo } from './control-io.js';
import type { DataPath } from './data-path.js';
import type { LinkPhase } from './events.js';
import type { CountedProtocol, EngineStats, ProtocolCounters } from './stats.js';

/** The parts of one engine the snapshot reads. */
export interface StatsSources {
  phase: LinkPhase;
  lcp: Fsm;
  ipcp: Fsm | null;
  ipv6cp: Fsm | null;
  counters: Record<CountedProtocol, ProtocolCounters>;
  framer: HdlcFramer;
  deframer: HdlcDeframer;
  control: ControlIo;
  echo: EchoKeepalive;
  eventsDropped: number;
  data: DataPath;
}

/** Counter snapshot of one engine. */
export function statsSnapshot(s: StatsSources): EngineStats {
  const g = s.data.gsoCounters;
  return {
    phase: s.phase,
    states: {
      lcp: s.lcp.stateName,
      ipcp: s.ipcp?.stateName ?? null,
      ipv6cp: s.ipv6cp?.stateName ?? null,
    },
    protocols: s.counters,
    fsm: {
      lcp: s.lcp.stats,
      ipcp: s.ipcp?.stats ?? null,
      ipv6cp: s.ipv6cp?.stats ?? null,
    },
    framing: { tx: s.framer.stats, rx: s.deframer.stats },
    protocolRejectsSent: s.control.protRejSent,
    protocolRejectsReceived: s.control.protRejRcvd,
    echo: {
      sent: s.echo.sent,
      answered: s.echo.answered,
      lastRttMs: Number.isNaN(s.echo.lastRttMs) ? null : s.echo.lastRttMs,
    },
    eventsDropped: s.eventsDropped,
    gso: {
      enabled: s.data.gsoOn,
      peerMaxPacket: s.data.peerGsoMax,
      txFrames: g.txFrames,
      rxFrames: g.rxFrames,
      txDrops: g.txDrops,
      rxDrops: g.rxDrops,
      rxOversize: g.rxOversize,
    },
  };
}
