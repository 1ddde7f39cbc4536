/**
 * Two PppLinks over a TCP connection on 127.0.0.1: negotiate, exchange an IP
 * packet, close. Run: npx tsx examples/library-socketpair.ts
 * (In your own project, import from 'ts-vpn' instead of '../src/api/index.js'.)
 */
import net from 'node:net';
import { PppLink } from '../src/api/index.js';

// The far end: a PppLink in server role per connection; it assigns the addresses.
const server = net.createServer((socket) => {
  const far = new PppLink(socket, {
    role: 'server',
    local: '10.0.0.1',
    peer: '10.0.0.2',
    dns: ['10.0.0.53'],
  });
  far.on('packet', (version, data) => {
    console.log(`server: IPv${version} packet, ${data.length} bytes`);
    far.send(data); // echo it back
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;

// Our end: role 'client' asks for its address and for DNS.
const link = new PppLink(net.connect(port, '127.0.0.1'), { ipv6: false });
const info = await link.ready;
console.log(
  `client: up, local ${info.ipv4?.local} peer ${info.ipv4?.peer} dns ${info.ipv4?.dns} mtu ${info.mtu}`,
);

// A minimal IPv4 header (UDP, 20 bytes) and a payload.
const packet = new Uint8Array(28);
packet.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
packet.set(new TextEncoder().encode('hi ppp!!'), 20);
link.send(packet);

for await (const { version, data } of link.packets()) {
  console.log(
    `client: echo IPv${version}, ${data.length} bytes: ${new TextDecoder().decode(data.subarray(20))}`,
  );
  break;
}
await link.close();
server.close();
console.log(
  `client: closed (${link.closeReason?.code}), sent ${link.stats().tx.packets} received ${link.stats().rx.packets}`,
);
