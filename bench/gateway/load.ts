/**
 * The load generator of `npm run bench:gateway`, run by run.ts inside the bench's
 * namespace: ONE process opening N SSH connections with ssh2 (C channels each),
 * one PPP link per channel through the library (PppLink over the ssh2 channel, no
 * TUN), then an ICMP echo through every link to the far end's PPP address.
 *
 * argv: JSON { host, port, user, key, mode: 'gateway'|'serve', target (socket path
 * or command), sessions, perConnection, pings }. Prints one JSON line of results.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client, type ClientChannel } from 'ssh2';
import { PppLink } from '../../src/api/index.js';
import { echoReplySeq, echoRequest } from '../../test/support/gateway-client.js';

interface Args {
  host: string;
  port: number;
  user: string;
  key: string;
  mode: 'gateway' | 'serve';
  target: string;
  sessions: number;
  perConnection: number;
  pings: number;
}
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const key = readFileSync(a.key);

function connect(): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => resolve(c));
    c.on('error', reject);
    c.connect({
      host: a.host,
      port: a.port,
      username: a.user,
      privateKey: key,
      readyTimeout: 60_000,
      algorithms: { cipher: ['aes128-gcm@openssh.com'] },
      hostVerifier: () => true, // the bench's own sshd in its own namespace
    });
  });
}

/** When ssh2 handed the channel its first bytes (performance.now()), by channel. */
const firstPush = new WeakMap<ClientChannel, number>();
/** When ssh2 reported the channel open (performance.now()), by channel. */
const openedAt = new WeakMap<ClientChannel, number>();

function openChannel(c: Client): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | undefined, ch: ClientChannel) => {
      if (err) return reject(err);
      // Timed here, in ssh2's own callback: the far end's first frame may be parsed from
      // the same TCP read as the open confirmation, before an await would resume.
      openedAt.set(ch, performance.now());
      const push = ch.push.bind(ch);
      ch.push = ((chunk: unknown, enc?: BufferEncoding) => {
        if (!firstPush.has(ch)) firstPush.set(ch, performance.now());
        return push(chunk, enc);
      }) as typeof ch.push;
      resolve(ch);
    };
    if (a.mode === 'gateway') c.openssh_forwardOutStreamLocal(a.target, cb);
    else c.exec(a.target, cb);
  });
}

interface One {
  bringupMs: number | null;
  firstFrameMs: number | null;
  /** Channel open → the channel's first 'data' event (adds this generator's own delays). */
  firstDataEventMs: number | null;
  /** Channel open → this generator's own first PPP frame handed to ssh2. */
  ownFirstWriteMs: number | null;
  pingOk: boolean;
  error: string | null;
  link: PppLink | null;
}

async function session(c: Client, i: number): Promise<One> {
  const t0 = performance.now();
  const r: One = {
    bringupMs: null,
    firstFrameMs: null,
    firstDataEventMs: null,
    ownFirstWriteMs: null,
    pingOk: false,
    error: null,
    link: null,
  };
  try {
    const ch = await openChannel(c);
    const tOpen = performance.now();
    ch.once('data', () => {
      const opened = openedAt.get(ch) ?? tOpen;
      r.firstFrameMs = (firstPush.get(ch) ?? performance.now()) - opened;
      r.firstDataEventMs = performance.now() - opened;
    });
    const write = ch.write.bind(ch);
    ch.write = ((...args: Parameters<typeof write>) => {
      if (r.ownFirstWriteMs === null) r.ownFirstWriteMs = performance.now() - tOpen;
      return write(...args);
    }) as typeof ch.write;
    const link = new PppLink(ch, { role: 'client', ipv6: false, dns: false });
    r.link = link;
    await link.ready;
    r.bringupMs = performance.now() - t0;
    void i;
  } catch (e) {
    r.error = (e as Error).message;
  }
  return r;
}

async function ping(r: One, id: number): Promise<void> {
  const link = r.link;
  const info = link?.info?.ipv4;
  if (!link || !info) return;
  for (let seq = 1; seq <= a.pings && !r.pingOk; seq++) {
    const got = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => done(false), 3000);
      const onPacket = (version: 4 | 6, d: Uint8Array) => {
        if (version === 4 && echoReplySeq(d, id) !== null) done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(t);
        link.off('packet', onPacket);
        resolve(ok);
      };
      link.on('packet', onPacket);
    });
    link.send(echoRequest(info.local, info.peer, id, seq, 32));
    if (await got) r.pingOk = true;
  }
}

const conns: Client[] = [];
const results: One[] = [];
const tStart = performance.now();
const nConn = Math.ceil(a.sessions / a.perConnection);
// Connections a few at a time (sshd's MaxStartups), sessions on each as they come.
const CONCURRENCY = 16;
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, nConn) }, async () => {
    while (next < nConn) {
      const k = next++;
      let c: Client;
      try {
        c = await connect();
      } catch (e) {
        for (let j = 0; j < a.perConnection; j++)
          results.push({
            bringupMs: null,
            firstFrameMs: null,
            firstDataEventMs: null,
            ownFirstWriteMs: null,
            pingOk: false,
            error: `ssh: ${(e as Error).message}`,
            link: null,
          });
        continue;
      }
      conns.push(c);
      const n = Math.min(a.perConnection, a.sessions - k * a.perConnection);
      results.push(
        ...(await Promise.all(
          Array.from({ length: n }, (_, j) => session(c, k * a.perConnection + j)),
        )),
      );
    }
  }),
);
const allUpMs = performance.now() - tStart;
// Let the far end finish configuring its side, then ping through every link.
process.stdout.write(
  `${JSON.stringify({ phase: 'up', up: results.filter((r) => r.link?.info).length })}\n`,
);
await new Promise((r) => setTimeout(r, Number(process.env.BENCH_SETTLE_MS ?? 2000)));
await Promise.all(results.map((r, i) => ping(r, (i % 65000) + 1)));
// The far end's first frame on a quiet generator: one more channel at a time on
// connections already up (under load, the generator's own handshakes delay its reads).
const quietFirstFrame: number[] = [];
const quietOwnFirstWrite: number[] = [];
const quietDataEvent: number[] = [];
for (const c of conns.slice(0, Number(process.env.BENCH_QUIET_SAMPLES ?? 20))) {
  const r = await session(c, -1);
  if (r.firstFrameMs !== null) quietFirstFrame.push(r.firstFrameMs);
  if (r.ownFirstWriteMs !== null) quietOwnFirstWrite.push(r.ownFirstWriteMs);
  if (r.firstDataEventMs !== null) quietDataEvent.push(r.firstDataEventMs);
  await r.link?.close().catch(() => undefined);
}
const errors = results.filter((r) => r.error).map((r) => r.error);
process.stdout.write(
  `${JSON.stringify({
    phase: 'done',
    sessions: a.sessions,
    up: results.filter((r) => r.bringupMs !== null).length,
    pingOk: results.filter((r) => r.pingOk).length,
    bringup: results.flatMap((r) => (r.bringupMs === null ? [] : [r.bringupMs])),
    firstFrame: results.flatMap((r) => (r.firstFrameMs === null ? [] : [r.firstFrameMs])),
    quietFirstFrame,
    quietOwnFirstWrite,
    quietDataEvent,
    allUpMs,
    errors: [...new Set(errors)].slice(0, 5),
    generatorRssMb: Math.round(process.memoryUsage.rss() / 1048576),
  })}\n`,
);
// Hold until told to stop (run.ts measures the far end meanwhile), then close all.
process.stdin.resume();
process.stdin.once('end', async () => {
  await Promise.all(results.map((r) => r.link?.close().catch(() => undefined)));
  for (const c of conns) c.end();
  process.exit(0);
});
