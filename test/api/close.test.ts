import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/close-exits.ts', import.meta.url));

describe('closing links releases every handle', () => {
  it('a process that creates, uses and closes links exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t0 = Date.now();
    const result = await new Promise<{ code: number | null; timedOut: boolean }>((resolve) => {
      // Start-up (tsx) plus bring-up plus the 3 s close bound of the never-answered link, with room to spare.
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ code: null, timedOut: true });
      }, 15_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, timedOut: false });
      });
    });
    expect(result.timedOut, `child did not exit by itself; stdout: ${out} stderr: ${err}`).toBe(
      false,
    );
    expect(result.code, err).toBe(0);
    expect(out).toMatch(
      /^closed 13 links: CLOSED CLOSED PPP_LINK_DOWN PPP_LINK_DOWN PPP_LINK_DOWN ABORTED /,
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});
