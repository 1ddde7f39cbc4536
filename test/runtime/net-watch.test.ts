/**
 * watchRouteTo against the real kernel, inside namespaces this test creates:
 *
 *   tv-nw-ID-c (client)  tnwIDa 198.18.0.1/29 ── veth ── tnwIDb 198.18.0.2/29  tv-nw-ID-s (server)
 *                        route 198.19.0.10/32 via 198.18.0.2                    198.19.0.10/32 on lo
 *
 * A child process inside the client namespace (`ip netns exec … node --import tsx`)
 * watches the route to 198.19.0.10 and prints one JSON line per report.
 */
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouteSource, type WatchMessage, watchRouteTo } from '../../src/runtime/net-watch.js';
import type { RouteInfo } from '../../src/tun/netconfig.js';
import {
  createNetns,
  linkNetns,
  type Netns,
  removeStale,
  requireNetns,
  uniqueId,
} from '../support/netns.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVER = '198.19.0.10';

// The child: watch the route to argv[1], print {"type":"ready"|"change",…} lines.
const CHILD = `
const { NetConfig } = await import(${JSON.stringify(`${ROOT}/src/tun/netconfig.ts`)});
const { watchRouteTo } = await import(${JSON.stringify(`${ROOT}/src/runtime/net-watch.ts`)});
const addr = process.argv[1];
const nc = new NetConfig();
const w = await watchRouteTo(addr, nc, (c) => {
  process.stdout.write(JSON.stringify({ type: 'change', t: Date.now(), reason: c.reason, after: c.after, linkUp: c.linkUp }) + '\\n');
});
process.stdout.write(JSON.stringify({ type: 'ready', current: w.current }) + '\\n');
process.stdin.on('end', () => { w.close(); nc.close(); });
process.stdin.resume();
`;

interface Line {
  type: string;
  t?: number;
  reason?: string;
  current?: RouteInfo | null;
  after?: RouteInfo | null;
  linkUp?: boolean;
}

class Child {
  readonly lines: Line[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (s: string) => {
      buf += s;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('{')) this.lines.push(JSON.parse(line));
        for (const w of this.waiters.splice(0)) w();
      }
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (s: string) => process.stderr.write(`[net-watch child] ${s}`));
  }
  /** Waits until `n` lines of `type` have arrived, or `ms` passed. */
  async waitFor(type: string, n: number, ms: number): Promise<Line[]> {
    const end = Date.now() + ms;
    for (;;) {
      const got = this.lines.filter((l) => l.type === type);
      if (got.length >= n || Date.now() >= end) return got;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  changes(): Line[] {
    return this.lines.filter((l) => l.type === 'change');
  }
}

const netnsOk = requireNetns('net-watch tests');

describe.skipIf(!netnsOk)('watchRouteTo in namespaces (skipped: needs root and ip netns)', () => {
  const id = uniqueId();
  const prefix = `tv-nw-`;
  let cli: Netns;
  let srv: Netns;
  let aIf: string;
  let child: Child;

  beforeAll(async () => {
    removeStale(`${prefix}${id}`);
    cli = createNetns(`${prefix}${id}-c`);
    srv = createNetns(`${prefix}${id}-s`);
    ({ aIf } = linkNetns(cli, '198.18.0.1/29', srv, '198.18.0.2/29', `tnw${id}`));
    srv.exec('ip', ['addr', 'add', `${SERVER}/32`, 'dev', 'lo']);
    cli.exec('ip', ['route', 'add', `${SERVER}/32`, 'via', '198.18.0.2']);
    const proc = cli.spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, SERVER],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child = new Child(proc);
    const ready = await child.waitFor('ready', 1, 15_000);
    expect(ready).toHaveLength(1);
  }, 30_000);

  afterAll(() => {
    const p = child?.proc;
    if (p && p.exitCode === null) {
      p.stdin?.end();
      if (p.pid) {
        try {
          p.kill('SIGTERM'); // our own child (ip netns exec → node, same pid via exec)
        } catch {
          /* gone */
        }
      }
    }
    cli?.destroy(); // also ends whatever still runs inside
    srv?.destroy();
  });

  it('starts from the current route (via the gateway on the veth)', () => {
    const ready = child.lines.find((l) => l.type === 'ready');
    const ifindex = Number(cli.exec('cat', [`/sys/class/net/${aIf}/ifindex`]).trim());
    expect(ready?.current).toMatchObject({ family: 4, dev: ifindex, gateway: '198.18.0.2' });
  });

  it('ignores route changes that do not affect the server', async () => {
    cli.exec('ip', ['route', 'add', '198.18.100.0/24', 'via', '198.18.0.2']);
    cli.exec('ip', ['route', 'del', '198.18.100.0/24']);
    await new Promise((r) => setTimeout(r, 700));
    expect(child.changes()).toEqual([]);
  });

  it('reports a different gateway (ip route replace) once, within a second', async () => {
    const t0 = Date.now();
    cli.exec('ip', ['route', 'replace', `${SERVER}/32`, 'via', '198.18.0.3']);
    const got = await child.waitFor('change', 1, 3000);
    expect(got).toHaveLength(1);
    expect(got[0].reason).toMatch(
      /^route to 198\.19\.0\.10 changed: dev \d+ via 198\.18\.0\.2 src 198\.18\.0\.1 → dev \d+ via 198\.18\.0\.3 src 198\.18\.0\.1$/,
    );
    expect(got[0].after?.gateway).toBe('198.18.0.3');
    expect((got[0].t as number) - t0).toBeLessThan(1000);
    // Debounced: one report, nothing more for the same change.
    await new Promise((r) => setTimeout(r, 500));
    expect(child.changes()).toHaveLength(1);
  });

  it('reports the link going down within a second', async () => {
    const before = child.changes().length;
    const t0 = Date.now();
    cli.exec('ip', ['link', 'set', aIf, 'down']);
    const got = await child.waitFor('change', before + 1, 3000);
    expect(got).toHaveLength(before + 1);
    const c = got[before];
    // IPv4 drops routes through a link that is set down: the route is gone.
    expect(c.reason).toMatch(
      /^route to 198\.19\.0\.10 is gone|^link \d+ to 198\.19\.0\.10 is down/,
    );
    expect((c.t as number) - t0).toBeLessThan(1000);
  });

  it('reports the route coming back', async () => {
    const before = child.changes().length;
    cli.exec('ip', ['link', 'set', aIf, 'up']);
    cli.exec('ip', ['route', 'replace', `${SERVER}/32`, 'via', '198.18.0.2']);
    const got = await child.waitFor('change', before + 1, 3000);
    expect(got.length).toBeGreaterThan(before);
    const last = got[got.length - 1];
    expect(last.after?.gateway).toBe('198.18.0.2');
    expect(last.linkUp).toBe(true);
  });

  it('reports carrier loss when the far end of the veth goes down', async () => {
    const before = child.changes().length;
    srv.exec('ip', ['link', 'set', `tnw${id}b`, 'down']);
    const got = await child.waitFor('change', before + 1, 3000);
    expect(got).toHaveLength(before + 1);
    expect(got[before].reason).toMatch(
      /^link \d+ to 198\.19\.0\.10 is down|^route to 198\.19\.0\.10 is gone/,
    );
    srv.exec('ip', ['link', 'set', `tnw${id}b`, 'up']);
  });
});

/** A scripted RouteSource: unit tests of the debounce and comparison logic. */
function fakeSource(initial: RouteInfo | null) {
  let route = initial;
  let listener: ((m: WatchMessage) => void) | null = null;
  let lookups = 0;
  let closed = false;
  const src: RouteSource = {
    async getRouteTo() {
      lookups++;
      if (!route) throw new Error('unreachable');
      return route;
    },
    watch(cb) {
      listener = cb;
      return () => {
        closed = true;
      };
    },
  };
  return {
    src,
    set(r: RouteInfo | null) {
      route = r;
    },
    emit(m: WatchMessage) {
      listener?.(m);
    },
    get lookups() {
      return lookups;
    },
    get closed() {
      return closed;
    },
  };
}

const r1: RouteInfo = {
  family: 4,
  dst: '198.19.0.10/32',
  dev: 3,
  gateway: '198.18.0.2',
  metric: undefined,
  src: '198.18.0.1',
  table: 254,
  protocol: 4,
  scope: 0,
  type: 1,
};

describe('watchRouteTo logic', () => {
  it('debounces a burst of notifications into one lookup and one report', async () => {
    const f = fakeSource(r1);
    const seen: string[] = [];
    const w = await watchRouteTo('198.19.0.10', f.src, (c) => seen.push(c.reason), {
      debounceMs: 30,
    });
    expect(f.lookups).toBe(1);
    f.set({ ...r1, dev: 7, gateway: '10.0.0.1' });
    for (let i = 0; i < 20; i++) f.emit({ kind: 'route' });
    await new Promise((r) => setTimeout(r, 100));
    expect(f.lookups).toBe(2);
    expect(seen).toEqual([
      'route to 198.19.0.10 changed: dev 3 via 198.18.0.2 src 198.18.0.1 → dev 7 via 10.0.0.1 src 198.18.0.1',
    ]);
    w.close();
    expect(f.closed).toBe(true);
  });

  it('reports link down for the route device, and ignores other links', async () => {
    const f = fakeSource(r1);
    const seen: string[] = [];
    const w = await watchRouteTo('198.19.0.10', f.src, (c) => seen.push(c.reason), {
      debounceMs: 10,
    });
    f.emit({ kind: 'link', data: { index: 9, flags: {} } });
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toEqual([]);
    f.emit({ kind: 'link', data: { index: 3, flags: { up: true } } }); // no lowerUp: carrier lost
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toEqual(['link 3 to 198.19.0.10 is down (no carrier or set down)']);
    f.emit({ kind: 'link', data: { index: 3, flags: { up: true, lowerUp: true } } });
    await new Promise((r) => setTimeout(r, 40));
    expect(seen[1]).toBe('link 3 to 198.19.0.10 is up again');
    w.close();
  });

  it('reports a route that disappears and one that appears', async () => {
    const f = fakeSource(null);
    const seen: string[] = [];
    const w = await watchRouteTo('198.19.0.10', f.src, (c) => seen.push(c.reason), {
      debounceMs: 10,
    });
    expect(w.current).toBeNull();
    f.set(r1);
    await w.check();
    f.set(null);
    await w.check();
    expect(seen).toEqual([
      'route to 198.19.0.10 appeared: dev 3 via 198.18.0.2 src 198.18.0.1',
      'route to 198.19.0.10 is gone (was dev 3 via 198.18.0.2 src 198.18.0.1)',
    ]);
    w.close();
  });

  it('survives an onChange that throws, and stops after close', async () => {
    const f = fakeSource(r1);
    const warns: string[] = [];
    let calls = 0;
    const w = await watchRouteTo(
      '198.19.0.10',
      f.src,
      () => {
        calls++;
        throw new Error('boom');
      },
      { debounceMs: 10, log: { warn: (m) => warns.push(m) } },
    );
    f.set(null);
    await w.check();
    expect(calls).toBe(1);
    expect(warns).toEqual(['net-watch: onChange threw: boom']);
    w.close();
    f.set(r1);
    f.emit({ kind: 'route' });
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(1);
  });
});
