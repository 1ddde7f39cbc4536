/**
 * A PPP server over TCP on 127.0.0.1 with an address pool, and three clients.
 *
 * `ts-vpn serve` is the production far end, but it needs root: it creates a TUN
 * device and routes. This example runs the far end as PppLinks in server role
 * instead, answering ICMP echo requests itself, so it runs anywhere.
 * Run: npx tsx examples/library-tcp-server.ts
 */
import net from 'node:net';
import { PppLink } from '../src/api/index.js';

let nextHost = 2;
const server = net.createServer((socket) => {
  const peer = `10.77.0.${nextHost++}`;
  const far = new PppLink(socket, {
    role: 'server',
    local: '10.77.0.1',
    peer,
    ipv6: false,
    echoIntervalMs: 10_000,
  });
  far.on('packet', (_version, data) => {
    if (data[9] !== 1 || data[20] !== 8) return; // ICMP echo request only
    const reply = Uint8Array.from(data);
    reply.set(data.subarray(16, 20), 12); // swap source and destination
    reply.set(data.subarray(12, 16), 16);
    reply[20] = 0; // echo reply (checksums left alone: PPP does not look at them)
    far.send(reply);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;

async function client(n: number): Promise<void> {
  const link = new PppLink(net.connect(port, '127.0.0.1'), {
    ipv6: false,
    acceptLocal: ['10.77.0.0/24'],
  });
  const { ipv4 } = await link.ready;
  const ping = new Uint8Array(28);
  ping.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0]);
  ping.set((ipv4?.local ?? '0.0.0.0').split('.').map(Number), 12);
  ping.set((ipv4?.peer ?? '0.0.0.0').split('.').map(Number), 16);
  ping.set([8, 0, 0, 0, 0, n, 0, 1], 20);
  const t0 = performance.now();
  const reply = new Promise<Uint8Array>((resolve) => link.once('packet', (_v, d) => resolve(d)));
  link.send(ping);
  const r = await reply;
  const rtt = (performance.now() - t0).toFixed(2);
  console.log(
    `client ${n}: ${ipv4?.local} ← echo reply from ${r.subarray(12, 16).join('.')} (${rtt} ms)`,
  );
  await link.close();
}

await Promise.all([1, 2, 3].map(client));
server.close();
console.log('done');
