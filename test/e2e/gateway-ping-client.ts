/**
 * A library client for gateway.test.ts's echo test, run inside the client
 * namespace: one ssh2 connection, one PppLink over a direct-streamlocal channel
 * to the gateway (no TUN), then `count` ICMP echo requests to `target`, one every
 * `gapMs`. Prints one JSON line: for each request, whether its reply arrived
 * before the next request was sent (or before `gapMs` passed, for the last).
 *
 * argv: JSON { host, port, user, key, socket, target, count, gapMs }.
 */
import { PppLink } from '../../src/api/index.js';
import {
  connectSsh,
  echoReplySeq,
  echoRequest,
  type GatewayTarget,
  openStreamLocal,
} from '../support/gateway-client.js';

interface Args extends GatewayTarget {
  target: string;
  count: number;
  gapMs: number;
}
const a = JSON.parse(process.argv[2] ?? '{}') as Args;

const ssh = await connectSsh(a);
const ch = await openStreamLocal(ssh, a.socket);
const ID = 0x4343;

const link = new PppLink(ch, { role: 'client', ipv6: false, dns: false });
const info = (await link.ready).ipv4!;
/** seq → reply seen. */
const replied = new Set<number>();
link.on('packet', (version, d) => {
  const seq = version === 4 ? echoReplySeq(d, ID) : null;
  if (seq !== null) replied.add(seq);
});
const inTime: boolean[] = [];
for (let seq = 1; seq <= a.count; seq++) {
  link.send(echoRequest(info.local, a.target, ID, seq));
  await new Promise((r) => setTimeout(r, a.gapMs));
  // Checked before the next request goes out: a reply that only arrives with it is late.
  inTime.push(replied.has(seq));
}
await new Promise((r) => setTimeout(r, 500));
process.stdout.write(`${JSON.stringify({ local: info.local, inTime, replied: [...replied] })}\n`);
await link.close().catch(() => undefined);
ssh.end();
process.exit(0);
