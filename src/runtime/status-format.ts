/**
 * `ts-vpn status`: the TunnelStatus a running tunnel reports over its control
 * socket, and its human rendering. `--json` prints the TunnelStatus as is (one
 * object for one tunnel, an array for several); the shape is documented in
 * docs/SERVICE.md and only grows (new fields), never changes meaning.
 *
 * All times are ISO 8601 UTC strings or millisecond counts; every field is
 * present (null when unknown), so scripts need no existence checks.
 */

export type TunnelPhase =
  | 'idle'
  | 'connecting'
  | 'negotiating'
  | 'up'
  | 'reconnecting'
  | 'closing'
  | 'closed';

export interface TrafficCounters {
  packets: number;
  bytes: number;
}

/** A total and its split by cause, e.g. { total: 3, causes: { 'link-down': 2, 'tun-write': 1 } }. */
export interface CauseCounters {
  total: number;
  causes: Record<string, number>;
}

export interface TunnelStatus {
  /** Tunnel name (config `name`). */
  name: string;
  phase: TunnelPhase;
  /** Process id of `ts-vpn up`. */
  pid: number;
  /** When the process started. */
  startedAt: string;
  /** When the current link came up; null while not up. */
  upSince: string | null;
  /** Milliseconds the current link has been up (0 while not up). */
  uptimeMs: number;
  /** TUN interface name, e.g. "tsvpn0"; null before it exists. */
  interface: string | null;
  mtu: number | null;
  /**
   * TCP segmentation offload: `gso` while the link carries GSO frames (both ends
   * ts-vpn with offload on), and the super-packets read from / written to the device.
   */
  offload?: { gso: boolean; superPacketsOut: number; superPacketsIn: number };
  /** Our IPv4 address and the peer's (IPCP). */
  local: string | null;
  peer: string | null;
  /** IPv6 link-local addresses (IPv6CP), null when IPv6 is not up. */
  ipv6: { local: string; peer: string } | null;
  /** DNS servers the peer gave (use-peer-dns). */
  dns: string[];
  /** Routes installed through the tunnel (CIDR). */
  routes: string[];
  /** IP packets/bytes from the tunnel to the far end (out) and back (in), over the process lifetime. */
  tx: TrafficCounters;
  rx: TrafficCounters;
  /** Packets dropped, by cause (e.g. link-down, queue-full, tun-write, too-big). */
  drops: CauseCounters;
  /** Errors, by cause (e.g. bad-fcs, too-long, bad-header, tun-read). */
  errors: CauseCounters;
  /** LCP echo keepalive. */
  echo: { lastRttMs: number | null; sent: number; answered: number };
  reconnect: {
    /** Times the tunnel came back after a fault. */
    count: number;
    /** Why the link went down last time. */
    lastReason: string | null;
    /** When that happened. */
    lastAt: string | null;
    /** From that failure to up again (time to recover); null while still down or never. */
    lastRecoverMs: number | null;
    /** While reconnecting: attempt number and when it starts. */
    attempt: number | null;
    nextAttemptAt: string | null;
  };
  /** Memory of the `ts-vpn up` process (MiB): resident set, V8 heap in use, and buffers outside it. */
  memory?: {
    rssMb: number;
    heapUsedMb: number;
    heapTotalMb: number;
    arrayBuffersMb: number;
  };
  ssh: {
    /** user@host:port */
    remote: string;
    cipher: string | null;
    /** Server host key fingerprint, "SHA256:…". */
    hostKey: string | null;
  };
}

export const NO_TUNNEL_TEXT = 'no tunnel is running';

// ---- units ----------------------------------------------------------------------------------

/** 0 B, 999 B, 1.0 KiB, 1.2 MiB, 3.4 GiB (binary units, one decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1023.95 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** 850ms, 12s, 3m12s, 2h05m, 3d04h. Rounds down to the unit shown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  const d = Math.floor(h / 24);
  return `${d}d${String(h % 24).padStart(2, '0')}h`;
}

function formatCauses(c: CauseCounters): string {
  const parts = Object.entries(c.causes)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length ? `${c.total} (${parts.join(', ')})` : String(c.total);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function since(iso: string | null, now: number): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatDuration(Math.max(0, now - t)) : null;
}

/** One line: "up for 3m12s", "reconnecting (attempt 3, next in 4s)", "connecting". */
export function formatPhase(s: TunnelStatus, now: number = Date.now()): string {
  if (s.phase === 'up') return `up for ${formatDuration(s.uptimeMs)}`;
  if (s.phase === 'reconnecting') {
    const parts: string[] = [];
    if (s.reconnect.attempt !== null) parts.push(`attempt ${s.reconnect.attempt}`);
    if (s.reconnect.nextAttemptAt) {
      const t = Date.parse(s.reconnect.nextAttemptAt);
      if (Number.isFinite(t))
        parts.push(t > now ? `next in ${formatDuration(t - now)}` : 'trying now');
    }
    return parts.length ? `reconnecting (${parts.join(', ')})` : 'reconnecting';
  }
  return s.phase;
}

export interface FormatOptions {
  /** "Now" for relative times (ms since the epoch); default Date.now(). */
  now?: number;
}

/** `ts-vpn status NAME`: one tunnel, aligned label/value lines. */
export function formatStatusTable(s: TunnelStatus, opts: FormatOptions = {}): string {
  const now = opts.now ?? Date.now();
  const rows: [string, string][] = [];
  const dash = (v: string | null | undefined) =>
    v === null || v === undefined || v === '' ? '-' : v;

  rows.push([
    'interface',
    s.interface
      ? `${s.interface}${s.mtu ? `, mtu ${s.mtu}` : ''}${
          s.offload?.gso
            ? `, TCP offload on (super-packets out ${s.offload.superPacketsOut}, in ${s.offload.superPacketsIn})`
            : ''
        }`
      : '-',
  ]);
  rows.push(['ipv4', s.local || s.peer ? `${dash(s.local)} → ${dash(s.peer)}` : '-']);
  rows.push(['ipv6', s.ipv6 ? `${s.ipv6.local} → ${s.ipv6.peer}` : '-']);
  rows.push(['dns', s.dns.length ? s.dns.join(', ') : '-']);
  rows.push(['routes', s.routes.length ? s.routes.join(', ') : '-']);
  rows.push(['in', `${formatBytes(s.rx.bytes)}, ${plural(s.rx.packets, 'packet')}`]);
  rows.push(['out', `${formatBytes(s.tx.bytes)}, ${plural(s.tx.packets, 'packet')}`]);
  rows.push(['drops', formatCauses(s.drops)]);
  rows.push(['errors', formatCauses(s.errors)]);
  const e = s.echo;
  rows.push([
    'echo',
    e.sent === 0 && e.lastRttMs === null
      ? 'off'
      : `${e.lastRttMs === null ? 'no reply yet' : `rtt ${e.lastRttMs < 10 ? e.lastRttMs.toFixed(1) : Math.round(e.lastRttMs)} ms`} (${e.answered}/${e.sent} answered)`,
  ]);
  const r = s.reconnect;
  let rc = String(r.count);
  if (r.lastReason) {
    const ago = since(r.lastAt, now);
    rc += `; last: ${r.lastReason}${ago ? ` (${ago} ago)` : ''}`;
    if (r.lastRecoverMs !== null) rc += `, recovered in ${formatDuration(r.lastRecoverMs)}`;
  }
  rows.push(['reconnects', rc]);
  rows.push(['ssh', [s.ssh.remote, s.ssh.cipher, s.ssh.hostKey].filter(Boolean).join(', ') || '-']);
  if (s.memory)
    rows.push([
      'memory',
      `${s.memory.rssMb.toFixed(1)} MiB resident (JS heap ${s.memory.heapUsedMb.toFixed(1)} of ${s.memory.heapTotalMb.toFixed(1)} MiB, buffers ${s.memory.arrayBuffersMb.toFixed(1)} MiB)`,
    ]);
  rows.push([
    'started',
    `${s.startedAt}${since(s.startedAt, now) ? ` (${since(s.startedAt, now)} ago)` : ''}`,
  ]);

  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const head = `tunnel ${s.name} (pid ${s.pid}): ${formatPhase(s, now)}`;
  return `${head}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`).join('\n')}\n`;
}

/** `ts-vpn status` with several tunnels: one row each; NO_TUNNEL_TEXT when there is none. */
export function formatStatusList(
  statuses: readonly TunnelStatus[],
  opts: FormatOptions = {},
): string {
  if (statuses.length === 0) return `${NO_TUNNEL_TEXT}\n`;
  const now = opts.now ?? Date.now();
  const header = ['NAME', 'PHASE', 'INTERFACE', 'LOCAL', 'PEER', 'IN', 'OUT', 'RECONNECTS'];
  const rows = [...statuses]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => [
      s.name,
      formatPhase(s, now),
      s.interface ?? '-',
      s.local ?? '-',
      s.peer ?? '-',
      formatBytes(s.rx.bytes),
      formatBytes(s.tx.bytes),
      String(s.reconnect.count),
    ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return `${all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
