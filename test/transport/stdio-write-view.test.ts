/**
 * StdioTransport.writeView: `ts-vpn serve` hands stdout a view of the link's framing buffer,
 * valid only during the call. What the pipe takes at once is written without a copy; what
 * it does not take must be copied, so reusing the framing buffer afterwards cannot change
 * the bytes still queued for the pipe.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StdioTransport } from '../../src/transport/stdio.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A FIFO opened both ways, the reader non-blocking: [reader fd, writer fd]. */
function fifo(): [number, number] {
  const dir = mkdtempSync(join(tmpdir(), 'tv-swv-'));
  dirs.push(dir);
  const path = join(dir, 'f');
  execFileSync('mkfifo', [path]);
  const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(path, constants.O_WRONLY);
  return [r, w];
}

/** Reads `n` bytes from a non-blocking fd, letting the event loop run between tries. */
async function readAll(fd: number, n: number): Promise<Buffer> {
  const out = Buffer.alloc(n);
  let got = 0;
  for (let tries = 0; got < n && tries < 2000; tries++) {
    try {
      got += readSync(fd, out, got, n - got, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  return out.subarray(0, got);
}

function transport(pipeSize: number): { t: StdioTransport; outReader: number } {
  const [inR] = fifo();
  const [outR, outW] = fifo();
  const t = new StdioTransport({ inFd: inR, outFd: outW, pipeSize });
  return { t, outReader: outR };
}

describe('StdioTransport.writeView', () => {
  it('writes a view the pipe takes at once straight to the fd, without queueing a copy', async () => {
    const { t, outReader } = transport(1 << 16);
    const framing = randomBytes(8192);
    const want = Buffer.from(framing.subarray(0, 3000));
    expect(t.writeView(framing.subarray(0, 3000))).toBe(true);
    framing.fill(0); // the driver reuses its buffer at once
    expect(t.viewStats).toEqual({ direct: 1, copied: 0 });
    expect(t.stats.bytesOut).toBe(3000);
    expect((await readAll(outReader, 3000)).equals(want)).toBe(true);
  });

  it('copies what a full pipe does not take, so reusing the view cannot change the queued bytes', async () => {
    const { t, outReader } = transport(4096);
    const size = t.pipeSizes.out!;
    const framing = randomBytes(size * 8);
    const want = Buffer.from(framing);
    t.writeView(framing);
    framing.fill(0xaa);
    expect(t.viewStats.copied).toBe(1);
    // While the copy waits in the stream, a second view is queued (copied) behind it, in order.
    const second = randomBytes(1000);
    const want2 = Buffer.from(second);
    t.writeView(second);
    second.fill(0);
    expect(t.viewStats.copied).toBe(2);
    const got = await readAll(outReader, want.length + want2.length);
    expect(got.equals(Buffer.concat([want, want2]))).toBe(true);
    expect(t.stats.bytesOut).toBe(want.length + want2.length);
  });
});
