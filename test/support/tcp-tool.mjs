#!/usr/bin/env node
// Bulk TCP transfer for the e2e tests and the demo (plain JS: runs under `ip netns exec` without tsx).
//   node tcp-tool.mjs recv <port>                 → prints "listening", then one JSON line {bytes, sha256, ms}
//   node tcp-tool.mjs send <host> <port> <bytes>  → prints one JSON line {bytes, sha256, ms}
// Bounded: the receiver takes one connection and exits; the sender sends exactly <bytes>.
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'recv') {
  const port = Number(a);
  const srv = createServer((sock) => {
    const h = createHash('sha256');
    let bytes = 0;
    const t0 = performance.now();
    sock.on('data', (d) => {
      bytes += d.length;
      h.update(d);
    });
    sock.on('end', () => {
      process.stdout.write(
        `${JSON.stringify({ bytes, sha256: h.digest('hex'), ms: Math.round(performance.now() - t0) })}\n`,
      );
      sock.end();
      srv.close();
    });
    sock.on('error', (e) => {
      process.stderr.write(`recv: ${e.message}\n`);
      process.exit(1);
    });
  });
  srv.listen(port, '0.0.0.0', () => process.stdout.write('listening\n'));
  setTimeout(() => {
    process.stderr.write('recv: timeout\n');
    process.exit(2);
  }, 120_000).unref();
} else if (mode === 'send') {
  const total = Number(c);
  const h = createHash('sha256');
  const sock = createConnection({ host: a, port: Number(b) });
  let sent = 0;
  let t0 = 0;
  const chunk = 256 * 1024;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(chunk, total - sent);
      const buf = randomBytes(n);
      h.update(buf);
      sent += n;
      if (!sock.write(buf)) return sock.once('drain', pump);
    }
    sock.end();
  };
  sock.on('connect', () => {
    t0 = performance.now();
    pump();
  });
  sock.on('close', () => {
    process.stdout.write(
      `${JSON.stringify({ bytes: sent, sha256: h.digest('hex'), ms: Math.round(performance.now() - t0) })}\n`,
    );
  });
  sock.on('error', (e) => {
    process.stderr.write(`send: ${e.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: tcp-tool.mjs recv <port> | send <host> <port> <bytes>\n');
  process.exit(2);
}
