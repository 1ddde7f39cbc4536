/** Helpers for the library tests: loopback socket pairs and IP packet builders. */
import net from 'node:net';

/** Two connected TCP sockets on 127.0.0.1 (a "socketpair"); the listener is closed at once. */
export async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const s = await accepted;
  server.close();
  return [client, s];
}

/** A minimal IPv4/UDP-ish packet: 20-byte header (checksum not checked by PPP) + payload. */
export function ipv4Packet(src: string, dst: string, payload: Uint8Array, proto = 17): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >>> 8;
  p[3] = p.length & 0xff;
  p[8] = 64;
  p[9] = proto;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  p.set(payload, 20);
  return p;
}

/** A minimal IPv6 packet (40-byte header, next header 59 = no next header) + payload. */
export function ipv6Packet(payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p[0] = 0x60;
  p[4] = payload.length >>> 8;
  p[5] = payload.length & 0xff;
  p[6] = 59;
  p[7] = 64;
  p[8] = 0xfe;
  p[9] = 0x80;
  p[24] = 0xfe;
  p[25] = 0x80;
  p.set(payload, 40);
  return p;
}

import { seededRandom as xorshift } from '../support/random.js';

/** Deterministic random source (xorshift32) for reproducible magic numbers. */
export const seededRandom = (seed: number): (() => number) => xorshift(seed, 1);
