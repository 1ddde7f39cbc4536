import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FdReader } from '../../src/transport/fd-reader.js';

const fds: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A FIFO opened both ways, the reader non-blocking: [reader fd, writer fd]. */
function fifo(): [number, number] {
  const dir = mkdtempSync(join(tmpdir(), 'tv-fdr-'));
  dirs.push(dir);
  const path = join(dir, 'f');
  execFileSync('mkfifo', [path]);
  const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(path, constants.O_WRONLY);
  fds.push(r, w);
  return [r, w];
}

function collect() {
  const got: Buffer[] = [];
  const ev: string[] = [];
  return {
    got,
    ev,
    on: {
      data: (b: Buffer) => got.push(Buffer.from(b)),
      end: () => ev.push('end'),
      wouldBlock: () => ev.push('wouldBlock'),
      error: (e: Error) => ev.push(`error ${e.message}`),
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('FdReader', () => {
  it('reports an empty non-blocking fd as wouldBlock, losing nothing already read', async () => {
    const [r, w] = fifo();
    writeSync(w, Buffer.from('hello'));
    const c = collect();
    const reader = new FdReader(r, 4096, c.on);
    reader.resume();
    await until(() => c.ev.length > 0);
    expect(Buffer.concat(c.got).toString()).toBe('hello');
    expect(c.ev).toEqual(['wouldBlock']);
  });

  it('holds a chunk that completes while paused and hands it over on resume', async () => {
    const [r, w] = fifo();
    writeSync(w, Buffer.from('abc'));
    const c = collect();
    const reader = new FdReader(r, 4096, c.on);
    reader.resume();
    reader.pause(); // the read is already in flight
    await new Promise((res) => setTimeout(res, 100));
    expect(c.got).toEqual([]);
    reader.resume();
    await until(() => c.ev.length > 0);
    expect(Buffer.concat(c.got).toString()).toBe('abc');
  });

  it('reports end of file once the writer closes', async () => {
    const [r, w] = fifo();
    writeSync(w, Buffer.from('x'));
    closeSync(w);
    fds.splice(fds.indexOf(w), 1);
    const c = collect();
    new FdReader(r, 4096, c.on).resume();
    await until(() => c.ev.length > 0);
    expect(Buffer.concat(c.got).toString()).toBe('x');
    expect(c.ev).toEqual(['end']);
  });
});
