import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { SdNotifier, sockaddrUn } from '../../src/runtime/sd-notify.js';

const lib = koffi.load('libc.so.6');
const socket = lib.func('int socket(int domain, int type, int protocol)');
const bind = lib.func('int bind(int fd, const void *addr, uint32_t addrlen)');
const recv = lib.func('long recv(int fd, void *buf, size_t len, int flags)');
const close = lib.func('int close(int fd)');
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;

const dir = mkdtempSync(join(tmpdir(), 'tsvpn-sdn-'));
const fds: number[] = [];
afterAll(() => {
  for (const fd of fds) close(fd);
  rmSync(dir, { recursive: true, force: true });
});

/** A datagram socket bound to `path` (or @abstract), like systemd's notify socket. */
function listen(path: string): number {
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  expect(fd).toBeGreaterThanOrEqual(0);
  fds.push(fd);
  const sa = sockaddrUn(path);
  if (!sa) throw new Error('bad path');
  expect(bind(fd, sa.addr, sa.len)).toBe(0);
  return fd;
}

/** The next datagram, or null when none is queued. */
function take(fd: number): string | null {
  const buf = Buffer.alloc(4096);
  const n = Number(recv(fd, buf, buf.length, MSG_DONTWAIT));
  return n < 0 ? null : buf.subarray(0, n).toString('utf8');
}

async function waitFor(fd: number, ms: number): Promise<string | null> {
  const end = Date.now() + ms;
  for (;;) {
    const m = take(fd);
    if (m !== null || Date.now() > end) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sockaddrUn', () => {
  it('encodes a path with its NUL and an abstract name without one', () => {
    const p = sockaddrUn('/run/x');
    expect(p?.len).toBe(2 + 6 + 1);
    expect(Buffer.from(p?.addr.subarray(0, 9) ?? []).toString('hex')).toBe('01002f72756e2f7800');
    const a = sockaddrUn('@sd');
    expect(a?.len).toBe(2 + 1 + 2);
    expect(Buffer.from(a?.addr.subarray(0, 5) ?? []).toString('hex')).toBe('0100007364');
  });
  it('refuses names that do not fit sun_path', () => {
    expect(sockaddrUn(`/${'a'.repeat(107)}`)).toBeNull();
    expect(sockaddrUn(`/${'a'.repeat(106)}`)).not.toBeNull();
    expect(sockaddrUn('@')).toBeNull();
  });
});

describe('SdNotifier', () => {
  it('is a no-op without NOTIFY_SOCKET', () => {
    const n = new SdNotifier({ env: {} });
    expect(n.enabled).toBe(false);
    expect(n.ready('up')).toBe(false);
    expect(n.watchdogIntervalMs()).toBeNull();
  });

  it('sends READY, STATUS, RELOADING, STOPPING and WATCHDOG datagrams to a path socket', () => {
    const path = join(dir, 'notify.sock');
    const fd = listen(path);
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path, WATCHDOG_USEC: '20000000' };
    const n = new SdNotifier({ env });
    expect(n.enabled).toBe(true);
    // Children must not inherit it.
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    expect(env.WATCHDOG_USEC).toBeUndefined();
    expect(n.watchdogIntervalMs()).toBe(10_000);

    expect(n.ready('tunnel up: tsvpn0 10.77.0.2 → 10.77.0.1')).toBe(true);
    expect(take(fd)).toBe('READY=1\nSTATUS=tunnel up: tsvpn0 10.77.0.2 → 10.77.0.1');
    n.status('reconnecting in 2s\n(attempt 2)');
    expect(take(fd)).toBe('STATUS=reconnecting in 2s (attempt 2)');
    n.reloading();
    expect(take(fd)).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    n.stopping();
    expect(take(fd)).toBe('STOPPING=1');
    n.watchdog();
    expect(take(fd)).toBe('WATCHDOG=1');
    expect(take(fd)).toBeNull();
    n.close();
  });

  it('sends to an abstract @name socket', () => {
    const name = `@tsvpn-sdn-test-${randomBytes(4).toString('hex')}`;
    const fd = listen(name);
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: name } });
    expect(n.notify('READY=1')).toBe(true);
    expect(take(fd)).toBe('READY=1');
    n.close();
  });

  it('ignores the watchdog when WATCHDOG_PID is another process', () => {
    const n = new SdNotifier({
      env: { NOTIFY_SOCKET: join(dir, 'x'), WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' },
    });
    expect(n.watchdogIntervalMs()).toBeNull();
  });

  it('reports a missing socket once, without throwing', () => {
    const warns: string[] = [];
    const n = new SdNotifier({
      env: { NOTIFY_SOCKET: join(dir, 'nobody-listens') },
      log: { warn: (m) => warns.push(m) },
    });
    expect(n.ready()).toBe(false);
    expect(n.stopping()).toBe(false);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatch(/sendto failed, errno 2$/); // ENOENT
    n.close();
  });

  it('ignores a NOTIFY_SOCKET that is neither a path nor @name', () => {
    const warns: string[] = [];
    const n = new SdNotifier({
      env: { NOTIFY_SOCKET: 'vsock:2:1234' },
      log: { warn: (m) => warns.push(m) },
    });
    expect(n.enabled).toBe(false);
    expect(n.ready()).toBe(false);
    expect(warns).toEqual(['NOTIFY_SOCKET="vsock:2:1234" is not a path or @name; ignored']);
  });

  let hasSystemdNotify = true;
  try {
    execFileSync('systemd-notify', ['--help'], { stdio: 'ignore' });
  } catch {
    hasSystemdNotify = false;
  }
  it.skipIf(!hasSystemdNotify)(
    'falls back to systemd-notify (skipped: systemd-notify not installed)',
    async () => {
      const path = join(dir, 'fallback.sock');
      const fd = listen(path);
      const n = new SdNotifier({ env: { NOTIFY_SOCKET: path }, transport: 'systemd-notify' });
      expect(n.ready('via systemd-notify')).toBe(true);
      const msg = await waitFor(fd, 5000);
      expect(msg).not.toBeNull();
      expect(msg).toContain('READY=1');
      expect(msg).toContain('STATUS=via systemd-notify');
    },
  );
});
