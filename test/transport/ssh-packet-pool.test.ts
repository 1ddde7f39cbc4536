/**
 * Outgoing SSH packets cut from a reused slab (src/transport/ssh-packet-pool.ts): the slab
 * never hands out a region that may still be queued, the AES-GCM layout is RFC 4253 §6 /
 * RFC 5647's, and data crosses a real sshd unchanged with the pool in use, across rekeys.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSshTransport } from '../../src/transport/ssh.js';
import { SshTransport } from '../../src/transport/ssh-channel.js';
import { gcmPacket, PacketSlab } from '../../src/transport/ssh-packet-pool.js';
import type { Transport } from '../../src/transport/types.js';
import { type Sshd, startSshd } from '../support/sshd.js';

describe('PacketSlab', () => {
  it('reuses the slab from its start once the socket has nothing queued', () => {
    const s = new PacketSlab(() => true, 4096);
    const a = s.take(100);
    const b = s.take(200);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(s.stats).toEqual({ pooled: 2, slabs: 1, oversize: 0 });
  });

  it('never hands out a region that may still be queued, and leaves a full slab to the socket', () => {
    const s = new PacketSlab(() => false, 4096);
    const taken = [s.take(1000), s.take(1000), s.take(1000), s.take(1000)];
    for (let i = 0; i < taken.length; i++)
      for (let j = i + 1; j < taken.length; j++) {
        const x = taken[i]!;
        const y = taken[j]!;
        if (x.buffer !== y.buffer) continue;
        const disjoint =
          x.byteOffset + x.length <= y.byteOffset || y.byteOffset + y.length <= x.byteOffset;
        expect(disjoint).toBe(true);
      }
    const next = s.take(1000); // 4 × 1008 > 4096 - 1000: a new slab
    expect(next.buffer).not.toBe(taken[0]!.buffer);
    expect(s.stats.slabs).toBe(2);
  });

  it('allocates a packet larger than its share of the slab on its own', () => {
    const s = new PacketSlab(() => true, 4096);
    const big = s.take(3000);
    expect(big.length).toBe(3000);
    expect(s.stats.oversize).toBe(1);
  });
});

describe('gcmPacket', () => {
  it('lays out length, padding length and ≥ 4 octets of padding to a multiple of 16, plus the tag', () => {
    const s = new PacketSlab(() => true);
    for (const payload of [0, 1, 11, 12, 13, 27, 28, 1000, 32768 + 9]) {
      const p = gcmPacket(s, payload);
      const packetLength = p.readUInt32BE(0);
      const pad = p[4]!;
      expect(pad).toBeGreaterThanOrEqual(4);
      expect(packetLength).toBe(1 + payload + pad);
      expect(packetLength % 16).toBe(0);
      expect(p.length).toBe(4 + packetLength + 16);
    }
  });
});

describe('the pool on a real connection (aes128-gcm, sshd rekeying every 1 MB)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd({ extraConfig: 'RekeyLimit 1M\n' });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  /** Writes `data` in random-sized writes with backpressure and collects the echo. */
  async function echo(t: Transport, data: Uint8Array): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    const done = new Promise<void>((resolve, reject) => {
      t.onData((d) => {
        parts.push(Buffer.from(d));
        got += d.length;
        if (got >= data.length) resolve();
      });
      t.onClose((r) => reject(new Error(`closed early: ${r.code} ${r.message}`)));
    });
    let off = 0;
    let i = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, 1 + ((i++ * 7919) % 65536));
      if (!t.write(data.subarray(off, off + n))) await new Promise<void>((r) => t.onDrain(r));
      off += n;
    }
    await done;
    return Buffer.concat(parts);
  }

  it('echoes 12 MB through `cat` unchanged while packets come from the slab', async () => {
    const t = await openSshTransport({
      host: sshd.listenAddress,
      port: sshd.port,
      user: sshd.user,
      identities: [sshd.clientKeyPath],
      agent: false,
      hostKey: { knownHostsFiles: [sshd.knownHostsPath] },
      readyTimeoutMs: 8000,
      ciphers: ['aes128-gcm@openssh.com'],
      command: 'cat',
    });
    try {
      expect(t).toBeInstanceOf(SshTransport);
      const pool = (t as SshTransport).packetPool;
      expect(pool).not.toBeNull();
      const data = randomBytes(12 << 20);
      const back = await echo(t, data);
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      expect(back.length).toBe(data.length);
      expect(sha(back)).toBe(sha(data));
      expect(pool!.pooled).toBeGreaterThan(100);
    } finally {
      await t.close();
    }
  });
});
