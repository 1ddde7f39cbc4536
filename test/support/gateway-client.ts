/**
 * What the gateway's library clients share (test/e2e/gateway-*-client.ts and
 * bench/gateway/load.ts): an ssh2 connection to the test's own sshd, a
 * direct-streamlocal channel to the gateway socket, and ICMP echo packets to move
 * through a PppLink with no TUN on this side.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel } from 'ssh2';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Private key file. */
  key: string;
}

/** An SSH target and the gateway socket behind it (what the library clients get as argv). */
export interface GatewayTarget extends SshTarget {
  socket: string;
}

/** One ssh2 connection; host key not checked: the test's own sshd in its own namespace. */
export function connectSsh(t: SshTarget, readyTimeout = 30_000): Promise<Client> {
  return new Promise<Client>((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => resolve(c));
    c.on('error', reject);
    c.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      privateKey: readFileSync(t.key),
      readyTimeout,
      hostVerifier: () => true,
    });
  });
}

/** A direct-streamlocal@openssh.com channel to the gateway's unix socket. */
export function openStreamLocal(ssh: Client, socket: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    ssh.openssh_forwardOutStreamLocal(socket, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

/** The Internet checksum (RFC 1071) of b[start, end). */
function sum16(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

/** An IPv4 ICMP echo request src → dst with identifier `id`, sequence `seq`, `payload` zero octets. */
export function echoRequest(
  src: string,
  dst: string,
  id: number,
  seq: number,
  payload = 16,
): Uint8Array {
  const p = new Uint8Array(20 + 8 + payload);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 1;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  v.setUint16(10, sum16(p, 0, 20));
  p[20] = 8;
  v.setUint16(24, id);
  v.setUint16(26, seq);
  v.setUint16(22, sum16(p, 20, p.length));
  return p;
}

/** The sequence number of an IPv4 ICMP echo reply with identifier `id`, or null for any other packet. */
export function echoReplySeq(d: Uint8Array, id: number): number | null {
  if (d.length < 28 || d[9] !== 1 || d[20] !== 0 || ((d[24]! << 8) | d[25]!) !== id) return null;
  return (d[26]! << 8) | d[27]!;
}
