/**
 * What `ts-vpn status` shows for a client tunnel: traffic of every link the tunnel
 * had (LinkTotals adds up the links that ended; the current link's engine adds its
 * own), drops and errors by cause, interface, reconnect state. Pure assembly of
 * numbers the tunnel hands in: no I/O.
 */
import type { EngineStats } from '../engine/index.js';
import type { TunnelInterface } from './interface.js';
import type { ReconnectStats } from './reconnect-policy.js';
import type { TunnelPhase, TunnelStatus } from './status-format.js';

export type Causes = Record<string, number>;

export function addCauses(into: Causes, from: Causes): void {
  for (const [k, v] of Object.entries(from)) if (v) into[k] = (into[k] ?? 0) + v;
}

function total(c: Causes): number {
  let n = 0;
  for (const v of Object.values(c)) n += v;
  return n;
}

function memoryMb(): TunnelStatus['memory'] {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    arrayBuffersMb: mb(m.arrayBuffers),
  };
}

/** IP traffic, drops and errors of one link's engine, by cause. */
export function linkCounters(s: EngineStats | null): {
  tx: { packets: number; bytes: number };
  rx: { packets: number; bytes: number };
  drops: Causes;
  errors: Causes;
} {
  const v4 = s?.protocols.ipv4;
  const v6 = s?.protocols.ipv6;
  return {
    tx: {
      packets: (v4?.txPackets ?? 0) + (v6?.txPackets ?? 0),
      bytes: (v4?.txBytes ?? 0) + (v6?.txBytes ?? 0),
    },
    rx: {
      packets: (v4?.rxPackets ?? 0) + (v6?.rxPackets ?? 0),
      bytes: (v4?.rxBytes ?? 0) + (v6?.rxBytes ?? 0),
    },
    drops: {
      // The engine's per-protocol drops include the framer's queue-full drops of IP
      // packets: count those once, under queue-full.
      'link-down': Math.max(0, (v4?.drops ?? 0) + (v6?.drops ?? 0) - (s?.framing.tx.drops ?? 0)),
      'queue-full': s?.framing.tx.drops ?? 0,
    },
    errors: {
      'bad-fcs': s?.framing.rx.badFcs ?? 0,
      'too-long': s?.framing.rx.tooLong ?? 0,
      'bad-header': s?.framing.rx.badHeader ?? 0,
      // GSO frames longer than agreed (the device's own checks add to the same cause).
      'bad-gso-frame': s?.gso.rxOversize ?? 0,
      // Frames whose content the engine could not parse (e.g. a GSO frame without IP inside).
      'bad-packet': s?.protocols.other.bad ?? 0,
      // Frames of protocols we do not run, answered with a Protocol-Reject.
      'protocol-rejected': s?.protocolRejectsSent ?? 0,
    },
  };
}

/** Counters of the links that ended (the current link's engine adds its own). */
export class LinkTotals {
  readonly tx = { packets: 0, bytes: 0 };
  readonly rx = { packets: 0, bytes: 0 };
  readonly drops: Causes = {};
  readonly errors: Causes = {};
  echoSent = 0;
  echoAnswered = 0;

  /** A link ended: keep what its engine counted. */
  add(st: EngineStats): void {
    const c = linkCounters(st);
    this.tx.packets += c.tx.packets;
    this.tx.bytes += c.tx.bytes;
    this.rx.packets += c.rx.packets;
    this.rx.bytes += c.rx.bytes;
    addCauses(this.drops, c.drops);
    addCauses(this.errors, c.errors);
    this.echoSent += st.echo.sent;
    this.echoAnswered += st.echo.answered;
  }
}

/** Everything status() reads, gathered by the tunnel. */
export interface StatusInputs {
  name: string;
  phase: TunnelPhase;
  startedWall: Date;
  upSince: number | null;
  totals: LinkTotals;
  /** The current link's engine, if any. */
  engine: EngineStats | null;
  /** The current link carries GSO frames (null: no link). */
  gso: boolean | null;
  gsoDropped: number;
  linkDownDrops: number;
  iface: TunnelInterface | null;
  dns: string[];
  lastRttMs: number | null;
  policy: ReconnectStats;
  nextAttempt: { attempt: number; at: number } | null;
  ssh: TunnelStatus['ssh'];
}

export function tunnelStatus(t: StatusInputs, now: number): TunnelStatus {
  const st = t.engine;
  const cur = linkCounters(st);
  const i = t.iface;
  const tun = i?.tun.stats();
  const drops: Causes = { ...t.totals.drops };
  addCauses(drops, cur.drops);
  addCauses(drops, {
    'link-down': t.linkDownDrops,
    'tun-write': tun?.txDrops ?? 0,
    'tun-queue': tun?.rxDrops ?? 0,
    'tun-truncated': tun?.rxTruncated ?? 0,
    'gso-not-negotiated': t.gsoDropped,
  });
  const errors: Causes = { ...t.totals.errors };
  addCauses(errors, cur.errors);
  addCauses(errors, { tun: tun?.errors ?? 0, 'bad-gso-frame': i?.badGsoFrames ?? 0 });
  const ps = t.policy;
  const wallOf = (mono: number) => new Date(Date.now() - (now - mono)).toISOString();
  const reconnecting = t.phase === 'reconnecting' && t.nextAttempt !== null;
  const base = t.totals;
  return {
    name: t.name,
    phase: t.phase,
    pid: process.pid,
    startedAt: t.startedWall.toISOString(),
    upSince: t.upSince === null ? null : wallOf(t.upSince),
    uptimeMs: t.upSince === null ? 0 : Math.round(now - t.upSince),
    interface: i?.name ?? null,
    mtu: i?.mtu ?? null,
    offload: i?.vnetHdr
      ? {
          gso: t.gso === true,
          superPacketsOut: tun?.rxGsoPackets ?? 0,
          superPacketsIn: tun?.txGsoPackets ?? 0,
        }
      : undefined,
    memory: memoryMb(),
    local: i?.local4 ?? null,
    peer: i?.peer4 ?? null,
    ipv6: i?.local6 && i.peer6 ? { local: i.local6, peer: i.peer6 } : null,
    dns: t.dns,
    routes: i?.routes ?? [],
    tx: { packets: base.tx.packets + cur.tx.packets, bytes: base.tx.bytes + cur.tx.bytes },
    rx: { packets: base.rx.packets + cur.rx.packets, bytes: base.rx.bytes + cur.rx.bytes },
    drops: { total: total(drops), causes: drops },
    errors: { total: total(errors), causes: errors },
    echo: {
      lastRttMs: t.lastRttMs === null ? null : Math.round(t.lastRttMs * 10) / 10,
      sent: base.echoSent + (st?.echo.sent ?? 0),
      answered: base.echoAnswered + (st?.echo.answered ?? 0),
    },
    reconnect: {
      count: ps.reconnects,
      lastReason: ps.lastReason,
      lastAt: ps.lastFailureAt === null ? null : wallOf(ps.lastFailureAt),
      lastRecoverMs:
        ps.outageSince === null && ps.lastRecoverMs !== null ? Math.round(ps.lastRecoverMs) : null,
      attempt: reconnecting ? t.nextAttempt!.attempt : null,
      nextAttemptAt: reconnecting ? new Date(t.nextAttempt!.at).toISOString() : null,
    },
    ssh: t.ssh,
  };
}
