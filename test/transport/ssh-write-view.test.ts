/**
 * SshTransport.writeView: the link driver hands it a view of its framing buffer, valid only
 * during the call. It must pass the view straight on only when ssh2 copies it before
 * returning (nothing queued, the window takes it all) and give the channel a copy otherwise.
 * The channel here is a Writable that behaves like ssh2's: it sends (copies) what the window
 * allows and keeps the chunk when it does not.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { type SshChannelOwner, SshTransport } from '../../src/transport/ssh-channel.js';

class FakeChannel extends Writable {
  readonly outgoing = { state: 'open', window: 1 << 20 };
  readonly stderr = new EventEmitter();
  /** What reached _write, as the channel saw it (not copied). */
  readonly seen: Buffer[] = [];
  private held: (() => void) | null = null;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.seen.push(chunk);
    if (chunk.length <= this.outgoing.window) {
      this.outgoing.window -= chunk.length;
      cb(); // sent: ssh2 has copied it into its packets
    } else this.held = cb; // kept, waiting for the window (ssh2's _chunk)
  }
  /** The window opened: the kept chunk goes out. */
  release(): void {
    this.outgoing.window = 1 << 20;
    const cb = this.held;
    this.held = null;
    cb?.();
  }
}

function transport(ch: FakeChannel): SshTransport {
  const owner: SshChannelOwner = {
    client: new EventEmitter() as unknown as SshChannelOwner['client'],
    info: { kind: 'ssh', remote: 'test@fake:22' },
    end: async () => {},
  };
  return new SshTransport(owner, ch as unknown as ClientChannel, 'serve', false, 100, {
    err: null,
  });
}

describe('SshTransport.writeView', () => {
  it('passes the view itself when the window takes it and nothing is queued', () => {
    const ch = new FakeChannel();
    const t = transport(ch);
    const framing = new Uint8Array(4096).fill(7);
    expect(t.writeView(framing.subarray(0, 1000))).toBe(true);
    expect(ch.seen[0]!.buffer).toBe(framing.buffer);
  });

  it('copies when the window is too small, so reusing the framing buffer cannot change what waits', () => {
    const ch = new FakeChannel();
    ch.outgoing.window = 100;
    const t = transport(ch);
    const framing = new Uint8Array(4096).fill(7);
    t.writeView(framing.subarray(0, 1000));
    expect(ch.seen[0]!.buffer).not.toBe(framing.buffer);
    framing.fill(9); // the driver frames the next batch into the same buffer
    expect(ch.seen[0]!.every((b) => b === 7)).toBe(true);
  });

  it('copies while an earlier chunk is still queued in the channel', async () => {
    const ch = new FakeChannel();
    ch.outgoing.window = 100;
    const t = transport(ch);
    t.write(new Uint8Array(500)); // kept by the channel: writableLength > 0 from now on
    ch.outgoing.window = 1 << 20; // even with room now, the next chunk queues behind it
    const framing = new Uint8Array(4096).fill(3);
    t.writeView(framing.subarray(0, 10));
    framing.fill(4); // the driver frames the next batch into the same buffer
    ch.release();
    await new Promise((r) => setImmediate(r));
    expect(ch.seen.length).toBe(2);
    expect(ch.seen[1]!.buffer).not.toBe(framing.buffer);
    expect([...ch.seen[1]!]).toEqual(new Array(10).fill(3));
  });
});
