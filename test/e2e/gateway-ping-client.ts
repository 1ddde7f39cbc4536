/**
 * A library client for gateway.test.ts's echo test, run inside the client
 * namespace: one ssh2 connection, one PppLink over a direct-streamlocal channel
 * to the gateway (no TUN), then `count` ICMP echo requests to `target`, one every
 * `gapMs`. Prints one JSON line: for each request, whether its reply arrived
 * before the next request was sent (or before `gapMs` passed, for the last).
 *
 * argv: JSON { host, port, user, key, socket, target, count, gapMs }.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel } from 'ssh2';
import { PppLink } from '../../src/api/index.js';

interface Args {
  host: string;
  port: number;
  user: string;
  key: string;
  socket: string;
  target: string;
  count: number;
  gapMs: number;
}
const a = JSON.parse(process.argv[2] ?? '{}') as Args;

const ssh = await new Promise<Client>((resolve, reject) => {
  const c = new Client();
  c.on('ready', () => resolve(c));
  c.on('error', reject);
  c.connect({
    host: a.host,
    port: a.port,
    username: a.user,
    privateKey: readFileSync(a.key),
    readyTimeout: 30_000,
    hostVerifier: () => true, // the test's own sshd in its own namespace
  });
});
const ch = await new Promise<ClientChannel>((resolve, reject) =>
  ssh.openssh_forwardOutStreamLocal(a.socket, (err, c) => (err ? reject(err) : resolve(c))),
);

function sum16(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

function echoRequest(src: string, dst: string, seq: number): Uint8Array {
  const p = new Uint8Array(20 + 8 + 16);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 1;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  v.setUint16(10, sum16(p, 0, 20));
  p[20] = 8;
  v.setUint16(24, 0x4343);
  v.setUint16(26, seq);
  v.setUint16(22, sum16(p, 20, p.length));
  return p;
}

const link = new PppLink(ch, { role: 'client', ipv6: false, dns: false });
const info = (await link.ready).ipv4!;
/** seq → reply seen. */
const replied = new Set<number>();
link.on('packet', (version, d) => {
  if (version === 4 && d[9] === 1 && d[20] === 0 && d[24] === 0x43 && d[25] === 0x43)
    replied.add((d[26]! << 8) | d[27]!);
});
const inTime: boolean[] = [];
for (let seq = 1; seq <= a.count; seq++) {
  link.send(echoRequest(info.local, a.target, seq));
  await new Promise((r) => setTimeout(r, a.gapMs));
  // Checked before the next request goes out: a reply that only arrives with it is late.
  inTime.push(replied.has(seq));
}
await new Promise((r) => setTimeout(r, 500));
process.stdout.write(`${JSON.stringify({ local: info.local, inTime, replied: [...replied] })}\n`);
await link.close().catch(() => undefined);
ssh.end();
process.exit(0);
