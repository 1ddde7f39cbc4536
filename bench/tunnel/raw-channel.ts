/**
 * The raw ceiling: one ssh2 exec channel (our SshTransport, same cipher) moving bulk
 * data with 64 KiB writes. Runs as a child inside the client namespace; the parent
 * drives it line by line on stdin so it can sample /proc around each measurement:
 *
 *   parent → `up <seconds>` | `down <seconds>` | `quit`
 *   child  → one JSON line per command: {dir, bytes, seconds}
 *
 * The first line the child prints is {ready, handshakeMs, cipher} once connected.
 * Up: `cat > /dev/null` at the far end; we write 64 KiB chunks (respecting backpressure)
 * for the given time, then EOF, and count until the remote command has exited.
 * Down: `head -c <cap> /dev/zero`; we count what arrives in the given time, then close.
 * Every measurement is bounded by its time (and the down cap) and stops by itself.
 */
import { createInterface } from 'node:readline';
import { SshConnection } from '../../src/transport/index.js';

const [host, port, key, knownHosts, cipher] = process.argv.slice(2);
if (!host || !port || !key || !knownHosts) {
  console.error('usage: raw-channel.ts HOST PORT KEY KNOWN_HOSTS [CIPHER]');
  process.exit(2);
}
const CHUNK = 64 * 1024;

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function up(conn: SshConnection, seconds: number) {
  const t = await conn.exec('cat > /dev/null', { ownsConnection: false, closeGraceMs: 10_000 });
  const buf = Buffer.alloc(CHUNK, 0x5a);
  let bytes = 0;
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (performance.now() < stopAt) {
        bytes += CHUNK;
        // Each write hands over a fresh view (the transport owns written chunks).
        if (!t.write(buf.subarray(0))) {
          t.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  await t.close(); // EOF, waits for `cat` to exit (all bytes consumed)
  const seconds_ = (performance.now() - t0) / 1000;
  return { dir: 'up', bytes, seconds: seconds_, closed: t.closeReason?.message };
}

async function down(conn: SshConnection, seconds: number) {
  // Cap: the far end stops by itself even if we never close (2 GiB per second asked).
  const cap = Math.ceil(seconds * 2 * 1024 ** 3);
  const t = await conn.exec(`head -c ${cap} /dev/zero`, {
    ownsConnection: false,
    closeGraceMs: 200,
  });
  let bytes = 0;
  let t0 = 0;
  let t1 = 0;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    t.onData((chunk) => {
      if (t0 === 0) {
        t0 = performance.now();
        timer = setTimeout(() => {
          t1 = performance.now();
          resolve();
        }, seconds * 1000);
      }
      if (t1 === 0) bytes += chunk.length;
    });
    t.onClose(() => {
      if (timer) clearTimeout(timer);
      if (t1 === 0) t1 = performance.now();
      resolve();
    });
  });
  await t.close();
  return { dir: 'down', bytes, seconds: (t1 - t0) / 1000 };
}

async function main() {
  const conn = await SshConnection.connect({
    host: host!,
    port: Number(port),
    user: 'root',
    identities: [key!],
    agent: false,
    hostKey: { knownHostsFiles: [knownHosts!] },
    keepaliveIntervalMs: 0,
    ciphers: cipher ? [cipher] : undefined,
  });
  out({
    ready: true,
    handshakeMs: conn.info.handshakeMs,
    authMs: conn.info.authMs,
    cipher: conn.info.cipher,
    pid: process.pid,
  });
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'up') out(await up(conn, Number(arg)));
    else if (cmd === 'down') out(await down(conn, Number(arg)));
    else break;
  }
  await conn.end();
  process.exit(0);
}

main().catch((err) => {
  out({ error: String(err?.message ?? err) });
  process.exit(1);
});
