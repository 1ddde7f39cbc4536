/**
 * Client side of gateway-abuse.test.ts, run inside the test's client namespace:
 * one ssh2 connection, one well-behaved PPP session (PppLink over a streamlocal
 * channel, no TUN), and on command (one word a line on stdin) one kind of bad
 * client on further channels. Answers one JSON line per command on stdout.
 *
 * argv: JSON { host, port, user, key, socket }.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { ClientChannel } from 'ssh2';
import { PppLink } from '../../src/api/index.js';
import {
  connectSsh,
  echoReplySeq,
  echoRequest,
  type GatewayTarget,
  openStreamLocal,
} from '../support/gateway-client.js';

const a = JSON.parse(process.argv[2] ?? '{}') as GatewayTarget;

const ssh = await connectSsh(a);
const open = (): Promise<ClientChannel> => openStreamLocal(ssh, a.socket);
const ID = 0x4242;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const good = new PppLink(await open(), { role: 'client', ipv6: false, dns: false });
await good.ready;
const info = good.info!.ipv4!;
let seq = 0;

/**
 * Up to 5 echo requests to the gateway's PPP address through the good link; true
 * on a reply to any of them (a reply was seen to arrive only with the next request).
 */
async function ping(): Promise<boolean> {
  const first = (seq + 1) & 0xffff;
  for (let tries = 0; tries < 5; tries++) {
    const s = ++seq & 0xffff;
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => done(false), 2000);
      const onPacket = (version: 4 | 6, d: Uint8Array) => {
        const got = version === 4 ? echoReplySeq(d, ID) : null;
        if (got !== null) {
          if (((got - first) & 0xffff) <= ((s - first) & 0xffff)) done(true);
        }
      };
      const done = (r: boolean) => {
        clearTimeout(t);
        good.off('packet', onPacket);
        resolve(r);
      };
      good.on('packet', onPacket);
    });
    good.send(echoRequest(info.local, info.peer, ID, s));
    if (await ok) return true;
  }
  return false;
}

/** Writes as fast as the channel takes, for at most `ms` and `maxBytes`; closes `linger` ms later. */
async function flood(
  ch: ClientChannel,
  chunk: () => Uint8Array,
  ms: number,
  maxBytes: number,
  linger = 0,
) {
  const until = Date.now() + ms;
  let sent = 0;
  ch.on('data', () => undefined);
  ch.on('error', () => undefined);
  while (Date.now() < until && sent < maxBytes) {
    const b = chunk();
    sent += b.length;
    if (!ch.write(b)) await new Promise((r) => setTimeout(r, 1));
    if (sent % (256 * 1024) < b.length) await sleep(0);
  }
  await sleep(linger);
  ch.close();
  return sent;
}

/** Garbage PPP frames: flag-delimited random bytes (bad FCS, mostly). */
const frames = () => {
  const out = Buffer.alloc(16 * 1024);
  for (let i = 0; i < out.length; i += 64) {
    out[i] = 0x7e;
    randomBytes(63).copy(out, i + 1);
  }
  return out;
};

const held: ClientChannel[] = [];
const commands: Record<string, () => Promise<unknown>> = {
  ping: async () => {
    const ok = await ping();
    return ok ? { ok } : { ok, stats: good.stats() };
  },
  flood: async () => ({ sent: await flood(await open(), frames, 2000, 50 * 1024 * 1024) }),
  garbage: async () => ({
    sent: await flood(await open(), () => randomBytes(4096), 500, 64 * 1024, 1000),
  }),
  'no-lcp': async () => {
    const ch = await open();
    ch.on('data', () => undefined);
    ch.on('error', () => undefined);
    // Opens the channel and never sends anything: LCP never finishes.
    held.push(ch);
    return { held: held.length };
  },
  release: async () => {
    for (const ch of held.splice(0)) ch.close();
    return { ok: true };
  },
  vanish: async () => {
    let n = 0;
    let wroteGarbage = 0;
    for (let i = 0; i < 100; i++) {
      const ch = await open();
      ch.on('error', () => undefined);
      if (i % 2) {
        ch.write(randomBytes(8));
        wroteGarbage++;
      }
      ch.close();
      n++;
    }
    return { vanished: n, wroteGarbage };
  },
  quit: async () => {
    await good.close().catch(() => undefined);
    ssh.end();
    setTimeout(() => process.exit(0), 100);
    return { ok: true };
  },
};

process.stdout.write(`${JSON.stringify({ ready: true, local: info.local, peer: info.peer })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = commands[line.trim()];
  try {
    const r = cmd ? await cmd() : { error: `unknown command ${line}` };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
  }
}
