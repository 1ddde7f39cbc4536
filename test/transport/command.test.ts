import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CommandTransport } from '../../src/transport/command.js';
import { TransportError } from '../../src/transport/errors.js';
import type { Transport } from '../../src/transport/types.js';

async function echo(
  t: Transport,
  data: Uint8Array,
  chunk = 64 * 1024,
  /** After the first chunk, wait until it came back, plus 200 ms: the far reader then finds its pipe empty. */
  pauseAfterFirst = false,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    t.onData((d) => {
      parts.push(Buffer.from(d));
      got += d.length;
      if (got >= data.length) resolve();
    });
    t.onClose((r) =>
      got >= data.length ? resolve() : reject(new Error(`closed early: ${r.code} ${r.message}`)),
    );
  });
  for (let off = 0; off < data.length; off += chunk) {
    if (!t.write(data.subarray(off, Math.min(off + chunk, data.length))))
      await new Promise<void>((r) => t.onDrain(r));
    if (off === 0 && pauseAfterFirst) {
      const first = Math.min(chunk, data.length);
      while (got < first) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await done;
  return Buffer.concat(parts);
}

/** Pids whose process group is `pgid` (from /proc/<pid>/stat field 5). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = readFileSync(`/proc/${ent}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(ent));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('CommandTransport', () => {
  it('round-trips every byte value and 2 MB of random data through cat', async () => {
    const t = await CommandTransport.start({ command: ['cat'] });
    try {
      const all = new Uint8Array(512).map((_, i) => i & 0xff);
      const blob = Buffer.concat([Buffer.from(all), randomBytes(2_000_000)]);
      const back = await echo(t, blob);
      expect(createHash('sha256').update(back).digest('hex')).toBe(
        createHash('sha256').update(blob).digest('hex'),
      );
      expect(t.info.kind).toBe('command');
      expect(t.info.pid).toBe(t.child.pid);
    } finally {
      await t.close();
    }
    const r = await t.closed;
    expect(r.code).toBe('LOCAL');
    expect(r.exitCode).toBe(0); // cat ended on our EOF within the grace period
  });

  it('surfaces stderr lines and the exit code of a shell command', async () => {
    const t = await CommandTransport.start({ command: 'echo oops >&2; echo again >&2; exit 5' });
    const lines: string[] = [];
    t.onStderr((l) => lines.push(l));
    const r = await t.closed;
    expect(lines).toEqual(['oops', 'again']);
    expect(r).toMatchObject({
      code: 'EXIT',
      exitCode: 5,
      message: 'command exited with code 5: again',
    });
  });

  it('close() kills the whole process group it started, escalating to SIGKILL', async () => {
    const t = await CommandTransport.start({
      command: "trap '' TERM; sleep 30 | sleep 31",
      closeGraceMs: 100,
      killGraceMs: 200,
    });
    const pgid = t.child.pid!;
    for (let i = 0; i < 50 && groupMembers(pgid).length < 3; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(3); // sh + two sleeps
    const t0 = Date.now();
    await t.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(groupMembers(pgid)).toEqual([]);
    const r = await t.closed;
    expect(r.code).toBe('LOCAL');
    expect(r.signal).toBe('SIGKILL');
  });

  it('rejects with SPAWN_FAILED when the program does not exist', async () => {
    const err = await CommandTransport.start({
      command: ['/nonexistent/tv-no-such-program'],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('SPAWN_FAILED');
  });
});

describe('StdioTransport (in a child process, stdin/stdout are real pipes)', () => {
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
  const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/stdio-echo.ts');

  for (const [label, env, mode] of [
    ['default: libuv stream', '', 'stream'],
    ['fs: blocking thread-pool reads', 'TV_STDIN_INPUT=fs ', 'fs'],
    [
      'fs, stdin made non-blocking by someone else',
      'TV_STDIN_INPUT=fs TV_FORCE_NONBLOCK=1 ',
      'stream',
    ],
  ] as const) {
    // Generous timeout: the fixture starts through tsx, which takes seconds on a loaded CI machine.
    it(`sets 1 MiB pipes, echoes data and closes with EOF when stdin ends (${label})`, {
      timeout: 40_000,
    }, async () => {
      // `cat |` and `| cat` make the fixture's stdin and stdout pipes (Node gives children socketpairs).
      const t = await CommandTransport.start({
        command: `cat | ${env}'${tsx}' '${fixture}' | cat`,
        closeGraceMs: 5000,
      });
      const lines: string[] = [];
      t.onStderr((l) => lines.push(l));
      try {
        const blob = randomBytes(3_000_000);
        // With O_NONBLOCK set by someone else, the switch to a stream happens when a read
        // finds the pipe empty: make sure one does (a fast writer may never let it run dry).
        const back = await echo(t, blob, 64 * 1024, mode === 'stream' && env !== '');
        expect(
          back.equals(blob),
          `echoed ${back.length} bytes; fixture said ${lines.join(' | ')}`,
        ).toBe(true);
      } finally {
        await t.close();
      }
      expect(lines).toContain('pipes in=1048576 out=1048576');
      expect(lines).toContain(`closed EOF stdin closed bytes=3000000 input=${mode}`);
      expect((await t.closed).exitCode).toBe(0);
    });
  }
});

describe('listeners added after the command already ended', () => {
  it('still get the close reason and the stderr lines printed before them', async () => {
    const t = await CommandTransport.start({
      command: 'printf "no %s\\n" route-to-gw >&2; exit 3',
    });
    const reason = await t.closed;
    expect(reason).toMatchObject({ code: 'EXIT', exitCode: 3 });
    const lines: string[] = [];
    t.onStderr((l) => lines.push(l));
    const late = await new Promise((resolve) => t.onClose(resolve));
    expect(late).toBe(reason);
    expect(lines).toEqual(['no route-to-gw']);
    expect(reason.message).toBe('command exited with code 3: no route-to-gw');
  });
});
