import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatStatusList,
  formatStatusTable,
  NO_TUNNEL_TEXT,
  type TunnelStatus,
} from '../../src/runtime/status-format.js';

const NOW = Date.parse('2026-11-24T10:03:17.000Z');

const office: TunnelStatus = {
  name: 'office',
  phase: 'up',
  pid: 4242,
  startedAt: '2026-11-24T10:00:00.000Z',
  upSince: '2026-11-24T10:00:05.000Z',
  uptimeMs: 192_000,
  interface: 'tsvpn0',
  mtu: 1500,
  local: '10.77.0.2',
  peer: '10.77.0.1',
  ipv6: { local: 'fe80::2', peer: 'fe80::1' },
  dns: ['10.77.0.53', '10.77.0.54'],
  routes: ['10.1.0.0/16', '192.168.5.0/24'],
  tx: { packets: 1, bytes: 300 },
  rx: { packets: 1024, bytes: 1_258_291 },
  drops: { total: 12, causes: { 'queue-full': 2, 'link-down': 10, 'tun-write': 0 } },
  errors: { total: 0, causes: {} },
  echo: { lastRttMs: 23.4, sent: 12, answered: 12 },
  reconnect: {
    count: 2,
    lastReason: 'echo timeout',
    lastAt: '2026-11-24T10:00:01.000Z',
    lastRecoverMs: 4250,
    attempt: null,
    nextAttemptAt: null,
  },
  ssh: {
    remote: 'alice@gw.example.net:22',
    cipher: 'aes128-gcm@openssh.com',
    hostKey: 'SHA256:abc',
  },
};

const lab: TunnelStatus = {
  name: 'lab',
  phase: 'reconnecting',
  pid: 77,
  startedAt: '2026-11-24T09:00:00.000Z',
  upSince: null,
  uptimeMs: 0,
  interface: null,
  mtu: null,
  local: null,
  peer: null,
  ipv6: null,
  dns: [],
  routes: [],
  tx: { packets: 0, bytes: 0 },
  rx: { packets: 0, bytes: 0 },
  drops: { total: 0, causes: {} },
  errors: { total: 3, causes: { 'bad-fcs': 3 } },
  echo: { lastRttMs: null, sent: 0, answered: 0 },
  reconnect: {
    count: 5,
    lastReason: 'route to 198.18.0.2 changed',
    lastAt: '2026-11-24T10:03:10.000Z',
    lastRecoverMs: null,
    attempt: 3,
    nextAttemptAt: '2026-11-24T10:03:21.500Z',
  },
  ssh: { remote: 'root@198.18.0.2:22', cipher: null, hostKey: null },
};

describe('units', () => {
  it('formats bytes in binary units', () => {
    expect(
      [0, 999, 1023, 1024, 1536, 1_258_291, 1024 ** 2 - 1, 5 * 1024 ** 3, 2 * 1024 ** 4].map(
        formatBytes,
      ),
    ).toEqual([
      '0 B',
      '999 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '1.2 MiB',
      '1.0 MiB',
      '5.0 GiB',
      '2.0 TiB',
    ]);
    expect(formatBytes(-1)).toBe('-');
  });
  it('formats durations', () => {
    expect(
      [
        0,
        850,
        1000,
        59_999,
        60_000,
        192_000,
        3_600_000,
        7_500_000,
        86_400_000 * 3 + 3_600_000 * 4,
      ].map(formatDuration),
    ).toEqual(['0ms', '850ms', '1s', '59s', '1m00s', '3m12s', '1h00m', '2h05m', '3d04h']);
    expect(formatDuration(Number.NaN)).toBe('-');
  });
});

describe('formatStatusTable', () => {
  it('renders an up tunnel', () => {
    expect(formatStatusTable(office, { now: NOW })).toBe(
      [
        'tunnel office (pid 4242): up for 3m12s',
        '  interface   tsvpn0, mtu 1500',
        '  ipv4        10.77.0.2 → 10.77.0.1',
        '  ipv6        fe80::2 → fe80::1',
        '  dns         10.77.0.53, 10.77.0.54',
        '  routes      10.1.0.0/16, 192.168.5.0/24',
        '  in          1.2 MiB, 1024 packets',
        '  out         300 B, 1 packet',
        '  drops       12 (link-down 10, queue-full 2)',
        '  errors      0',
        '  echo        rtt 23 ms (12/12 answered)',
        '  reconnects  2; last: echo timeout (3m16s ago), recovered in 4s',
        '  ssh         alice@gw.example.net:22, aes128-gcm@openssh.com, SHA256:abc',
        '  started     2026-11-24T10:00:00.000Z (3m17s ago)',
        '',
      ].join('\n'),
    );
  });

  it('renders a reconnecting tunnel with unknown fields as -', () => {
    expect(formatStatusTable(lab, { now: NOW })).toBe(
      [
        'tunnel lab (pid 77): reconnecting (attempt 3, next in 4s)',
        '  interface   -',
        '  ipv4        -',
        '  ipv6        -',
        '  dns         -',
        '  routes      -',
        '  in          0 B, 0 packets',
        '  out         0 B, 0 packets',
        '  drops       0',
        '  errors      3 (bad-fcs 3)',
        '  echo        off',
        '  reconnects  5; last: route to 198.18.0.2 changed (7s ago)',
        '  ssh         root@198.18.0.2:22',
        '  started     2026-11-24T09:00:00.000Z (1h03m ago)',
        '',
      ].join('\n'),
    );
  });

  it('shows TCP offload with its super-packet counts, and the memory line', () => {
    const t = formatStatusTable(
      {
        ...office,
        offload: { gso: true, superPacketsOut: 1200, superPacketsIn: 34 },
        memory: { rssMb: 72.34, heapUsedMb: 13.5, heapTotalMb: 22.2, arrayBuffersMb: 1.9 },
      },
      { now: Date.parse('2026-11-25T10:00:00Z') },
    );
    expect(t).toMatch(/interface +\S+, mtu \d+, TCP offload on \(super-packets out 1200, in 34\)/);
    expect(t).toMatch(
      /memory +72\.3 MiB resident \(JS heap 13\.5 of 22\.2 MiB, buffers 1\.9 MiB\)/,
    );
    // Offload negotiated off (e.g. a pppd far end): nothing about it.
    expect(
      formatStatusTable({
        ...office,
        offload: { gso: false, superPacketsOut: 0, superPacketsIn: 0 },
      }),
    ).not.toMatch(/offload/);
  });

  it('shows sub-10 ms echo RTTs with a decimal, and echoes not answered yet', () => {
    const a = formatStatusTable(
      { ...office, echo: { lastRttMs: 0.84, sent: 3, answered: 2 } },
      { now: NOW },
    );
    expect(a).toContain('\n  echo        rtt 0.8 ms (2/3 answered)\n');
    const b = formatStatusTable(
      { ...office, echo: { lastRttMs: null, sent: 2, answered: 0 } },
      { now: NOW },
    );
    expect(b).toContain('\n  echo        no reply yet (0/2 answered)\n');
  });

  it('phases other than up and reconnecting are shown by name', () => {
    expect(formatStatusTable({ ...lab, phase: 'negotiating' }, { now: NOW }).split('\n')[0]).toBe(
      'tunnel lab (pid 77): negotiating',
    );
    expect(
      formatStatusTable(
        { ...lab, reconnect: { ...lab.reconnect, nextAttemptAt: '2026-11-24T10:03:00.000Z' } },
        { now: NOW },
      ).split('\n')[0],
    ).toBe('tunnel lab (pid 77): reconnecting (attempt 3, trying now)');
  });
});

describe('formatStatusList', () => {
  it('says that no tunnel is running', () => {
    expect(NO_TUNNEL_TEXT).toBe('no tunnel is running');
    expect(formatStatusList([])).toBe('no tunnel is running\n');
  });

  it('lists several tunnels sorted by name in aligned columns', () => {
    expect(formatStatusList([office, lab], { now: NOW })).toBe(
      [
        'NAME    PHASE                                 INTERFACE  LOCAL      PEER       IN       OUT    RECONNECTS',
        'lab     reconnecting (attempt 3, next in 4s)  -          -          -          0 B      0 B    5',
        'office  up for 3m12s                          tsvpn0     10.77.0.2  10.77.0.1  1.2 MiB  300 B  2',
        '',
      ].join('\n'),
    );
  });

  it('the JSON form is the TunnelStatus itself (round-trips)', () => {
    expect(JSON.parse(JSON.stringify(office))).toEqual(office);
  });
});
