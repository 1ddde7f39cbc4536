import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClaimReader } from '../../src/gateway/claims.js';
import { socketStream } from '../../src/gateway/socket-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvpn-sockstream-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/**
 * A unix socket whose client sent `bytes` and closed before the gateway side did
 * anything (as sshd does for a client that writes and closes at once): the accepted
 * socket, paused, with the client already gone.
 */
async function abandoned(bytes: Uint8Array): Promise<Socket> {
  const path = join(dir, `s${++n}.sock`);
  const srv = createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => srv.listen(path, r));
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  const c = connect(path);
  await new Promise<void>((r) => c.once('connect', () => r()));
  await new Promise<void>((r) => c.end(bytes, () => r()));
  c.destroy();
  await new Promise((r) => c.once('close', r));
  const sock = await accepted;
  srv.close();
  sock.on('error', () => undefined);
  return sock;
}

describe('the gateway socket stream', () => {
  it('hands on the bytes a client sent before it went away, also when our first write fails (EPIPE)', async () => {
    const sent = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const sock = await abandoned(sent);
    const got: Uint8Array[] = [];
    let firstWrites = 0;
    const stream = socketStream(sock, () => firstWrites++, new ClaimReader());
    stream.onData((chunk) => got.push(Uint8Array.from(chunk)));
    sock.resume();
    stream.write(Uint8Array.from([0x7e, 0xff, 0x03, 0xc0, 0x21, 0x7e]));
    await new Promise((r) => sock.once('close', r));
    expect(firstWrites).toBe(1);
    expect(Buffer.concat(got)).toEqual(Buffer.from(sent));
  });

  it('takes a claim line off the front of those bytes as well', async () => {
    const sock = await abandoned(new TextEncoder().encode('ts-vpn claim 10.9.0.0/16\n~abc'));
    const claims = new ClaimReader();
    const got: Uint8Array[] = [];
    const stream = socketStream(sock, () => undefined, claims);
    stream.onData((chunk) => got.push(Uint8Array.from(chunk)));
    sock.resume();
    stream.write(Uint8Array.from([0x7e, 0x7e]));
    await new Promise((r) => sock.once('close', r));
    expect(claims.result?.routes).toEqual(['10.9.0.0/16']);
    expect(Buffer.concat(got).toString()).toBe('~abc');
  });
});
