/**
 * The tunnel benchmark's report on stdout: the throughput and resource tables, bring-up,
 * the ratios, issue 17's table and the `summary:` last line.
 */
import { cpus } from 'node:os';
import { CIPHER, PINGS, RUNS, SECONDS, SOAK } from './config.js';
import type { PathResult, Sample } from './measure.js';
import { fmt, median, percentile, ratio, spread, table, trend } from './stats.js';

/** Issue 17's table (idle RTT, start-up, RSS, share of the raw channel), filled from this run. */
function issueTable(
  ts: PathResult | undefined,
  sshw: PathResult | undefined,
  r: { ceilUp: number; ceilDown: number },
): string[] {
  const ok = (x: PathResult | undefined): x is PathResult => x?.status === 'ok';
  const ms = (x: number | undefined, d = 0) =>
    x !== undefined && Number.isFinite(x) ? `${fmt(x, d)} ms` : '-';
  const mb = (b: number | undefined) => (b ? `${fmt(b / 2 ** 20, 1)} MB` : '-');
  const verdict = (met: boolean | undefined) =>
    met === undefined ? 'pending' : met ? 'met' : 'not met';
  const rtts = (x: PathResult | undefined) =>
    ok(x) && x.rtt.length ? { med: median(x.rtt), p90: percentile(x.rtt, 90) } : undefined;
  const a = rtts(ts);
  const b = rtts(sshw);
  const t = ok(ts) ? ts : undefined;
  const soak = t?.soak;
  const soakText = soak
    ? `; soak ${SOAK} s at ${fmt(soak.mbit)} Mbit/s, at the end ${mb(soak.cli[soak.cli.length - 1])} / ${mb(soak.srv[soak.srv.length - 1])}: up ${trend(soak.cli)}, serve ${trend(soak.srv)}`
    : '; no soak (BENCH_SOAK_SECONDS=0)';
  const rows = [
    [
      'idle RTT median / p90',
      a ? `${fmt(a.med, 3)} / ${fmt(a.p90, 3)} ms` : '-',
      b ? `${fmt(b.med, 3)} / ${fmt(b.p90, 3)} ms` : '-',
      'median ≤ 1.5x ssh -w, p90 < 1 ms',
      verdict(a && b ? a.med <= 1.5 * b.med && a.p90 < 1 : undefined),
    ],
    [
      'spawn → first SSH byte',
      ms(t?.firstByteMs),
      '-',
      '≤ 60 ms',
      verdict(t?.firstByteMs !== undefined ? t.firstByteMs <= 60 : undefined),
    ],
    [
      'spawn → tunnel up',
      ms(t?.spawnUpMs),
      ms(ok(sshw) ? sshw.spawnUpMs : undefined),
      '≤ ssh -w (gateway far end)',
      verdict(
        t?.spawnUpMs !== undefined && ok(sshw) && sshw.spawnUpMs !== undefined
          ? t.spawnUpMs <= sshw.spawnUpMs
          : undefined,
      ),
    ],
    [
      'peak RSS, full load (client / far end)',
      t ? `${mb(t.rssCli)} / ${mb(t.rssSrv)}` : '-',
      ok(sshw) ? `${mb(sshw.rssCli)} / ${mb(sshw.rssSrv)}` : '-',
      '< 60 MB each, flat over 5 min',
      verdict(
        t
          ? t.rssCli < 60 * 2 ** 20 &&
              t.rssSrv < 60 * 2 ** 20 &&
              (soak
                ? trend(soak.cli).startsWith('flat') && trend(soak.srv).startsWith('flat')
                : true)
          : undefined,
      ),
    ],
    [
      'share of the raw ssh2 channel',
      Number.isFinite(r.ceilUp) ? `${fmt(r.ceilUp, 2)} up / ${fmt(r.ceilDown, 2)} down` : '-',
      ok(sshw) ? '(see ratios)' : '-',
      '≥ 0.5 each way',
      verdict(Number.isFinite(r.ceilUp) ? r.ceilUp >= 0.5 && r.ceilDown >= 0.5 : undefined),
    ],
  ];
  return [
    `issue 17 figures (one run)${soakText}`,
    table(['figure', 'ts-vpn', 'ssh -w', 'target', 'status'], rows),
  ];
}

export function report(results: PathResult[], loadLine: string): string[] {
  const out: string[] = [];
  const mb = (b: number) => (b > 0 ? fmt(b / 2 ** 20, 1) : '-');
  const col = (xs: Sample[], f: (s: Sample) => number, d = 0) => spread(xs.map(f), d);
  const perGb = (xs: Sample[]) => {
    // CPU seconds (client + far end) per GB moved, median over runs.
    const v = xs.map((s) => (s.cpuCli + s.cpuSrv) / ((s.mbit * SECONDS) / 8 / 1000));
    return v.length ? fmt(median(v), 2) : '-';
  };
  out.push(
    `ts-vpn tunnel benchmark: cipher ${CIPHER}, ${RUNS} x ${SECONDS} s TCP per direction (iperf3, 1 stream), ${PINGS} pings @ 0.05 s`,
  );
  out.push(
    `node ${process.version}, ${cpus().length} cores, veth between two namespaces, real sshd (OpenSSH)`,
  );
  if (loadLine) out.push(loadLine);
  out.push('');
  out.push('throughput: Mbit/s median (min-max); MB/s = median / 8');
  out.push(
    table(
      ['path', 'up Mbit/s', 'down Mbit/s', 'up MB/s', 'down MB/s', 'RTT med ms', 'RTT p90 ms'],
      results.map((r) =>
        r.status !== 'ok'
          ? [r.name, r.status, r.status, '-', '-', '-', '-']
          : [
              r.name,
              col(r.up, (s) => s.mbit),
              col(r.down, (s) => s.mbit),
              fmt(median(r.up.map((s) => s.mbit)) / 8, 1),
              fmt(median(r.down.map((s) => s.mbit)) / 8, 1),
              r.rtt.length ? fmt(median(r.rtt), 3) : '-',
              r.rtt.length ? fmt(percentile(r.rtt, 90), 3) : '-',
            ],
      ),
    ),
  );
  out.push('');
  out.push(
    `resources: CPU seconds per ${SECONDS} s run, near end + far end (ssh client or ts-vpn up / sshd session tree incl. far-end command); peak RSS = VmHWM`,
  );
  out.push(
    table(
      [
        'path',
        'cpu up cli',
        'cpu up srv',
        'cpu down cli',
        'cpu down srv',
        'cpu s/GB up',
        'cpu s/GB down',
        'RSS cli MB',
        'RSS srv MB',
      ],
      results.map((r) =>
        r.status !== 'ok'
          ? [r.name, '-', '-', '-', '-', '-', '-', '-', '-']
          : [
              r.name,
              col(r.up, (s) => s.cpuCli, 2),
              col(r.up, (s) => s.cpuSrv, 2),
              col(r.down, (s) => s.cpuCli, 2),
              col(r.down, (s) => s.cpuSrv, 2),
              perGb(r.up),
              perGb(r.down),
              mb(r.rssCli),
              mb(r.rssSrv),
            ],
      ),
    ),
  );
  out.push('');
  out.push('bring-up:');
  for (const r of results) {
    if (r.status !== 'ok') out.push(`  ${r.name}: ${r.status}${r.note ? ` (${r.note})` : ''}`);
    else {
      const hs = r.handshakeMs !== undefined ? `SSH handshake ${fmt(r.handshakeMs)} ms` : '';
      out.push(
        `  ${r.name}: ${[hs, r.bringUp].filter(Boolean).join('; ') || '-'}${r.note ? ` [${r.note}]` : ''}`,
      );
    }
  }
  const raw = results.find((r) => r.name.startsWith('raw'));
  const sshw = results.find((r) => r.name.startsWith('ssh -w'));
  const ts = results.find((r) => r.name === 'ts-vpn');
  const med = (r: PathResult | undefined, k: 'up' | 'down') =>
    r && r.status === 'ok' ? median(r[k].map((s) => s.mbit)) : Number.NaN;
  const rtt = (r: PathResult | undefined) =>
    r && r.status === 'ok' && r.rtt.length ? median(r.rtt) : Number.NaN;
  const q = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'pending');
  const ratios = {
    up: ratio(med(ts, 'up'), med(sshw, 'up')),
    down: ratio(med(ts, 'down'), med(sshw, 'down')),
    ceilUp: ratio(med(ts, 'up'), med(raw, 'up')),
    ceilDown: ratio(med(ts, 'down'), med(raw, 'down')),
    rtt: ratio(rtt(ts), rtt(sshw)),
  };
  out.push('');
  out.push('ratios:');
  out.push(
    `  ts-vpn / ssh -w        up ${q(ratios.up)}  down ${q(ratios.down)}  RTT ${q(ratios.rtt)}`,
  );
  out.push(`  ts-vpn / raw channel   up ${q(ratios.ceilUp)}  down ${q(ratios.ceilDown)}`);
  out.push(
    `  ssh -w / raw channel   up ${q(ratio(med(sshw, 'up'), med(raw, 'up')))}  down ${q(ratio(med(sshw, 'down'), med(raw, 'down')))}`,
  );
  if (ts?.status === 'ok' && ts.handshakeMs !== undefined && ts.totalUpMs !== undefined) {
    out.push(
      `  ts-vpn bring-up: PPP + netlink add ${fmt(ts.totalUpMs - ts.handshakeMs)} ms over the SSH handshake (${fmt(ts.handshakeMs)} ms)`,
    );
  }
  out.push('');
  out.push(...issueTable(ts, sshw, ratios));
  const ok = ts?.status === 'ok';
  const mbOr = (b: number | undefined) =>
    ok && b !== undefined && b > 0 ? (b / 2 ** 20).toFixed(1) : 'pending';
  const msOr = (x: number | undefined) =>
    ok && x !== undefined && Number.isFinite(x) ? x.toFixed(0) : 'pending';
  const last = (xs: number[] | undefined) => (xs?.length ? xs[xs.length - 1] : undefined);
  const p90 = ok && ts.rtt.length ? percentile(ts.rtt, 90).toFixed(3) : 'pending';
  out.push('');
  out.push(
    `summary: up=${q(ratios.up)} down=${q(ratios.down)} ceil_up=${q(ratios.ceilUp)} ceil_down=${q(ratios.ceilDown)} rtt=${q(ratios.rtt)} rss_mb=${mbOr(ts?.rssCli)}` +
      ` rtt_med_ms=${ok && ts.rtt.length ? median(ts.rtt).toFixed(3) : 'pending'} rtt_p90_ms=${p90}` +
      ` first_byte_ms=${msOr(ts?.firstByteMs)} up_ms=${msOr(ts?.spawnUpMs)} rss_srv_mb=${mbOr(ts?.rssSrv)}` +
      ` soak_end_mb=${mbOr(last(ts?.soak?.cli))}/${mbOr(last(ts?.soak?.srv))}`,
  );
  return out;
}
