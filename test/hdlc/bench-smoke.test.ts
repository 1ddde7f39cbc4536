/** Runs `bench/framing/run.ts` in quick mode: checks the plumbing and the summary line, not speed. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('framing benchmark (quick mode)', () => {
  it('prints the table and ends with one summary line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/framing/run.ts'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_QUICK: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^summary: enc1500=\d+\.\d\d dec1500=\d+\.\d\d worst=\d+\.\d\d$/);
    expect(lines.filter((l) => l.startsWith('summary:'))).toHaveLength(1);
    for (const name of [
      'random 64 ',
      'random 576',
      'random 1500',
      'random 65535',
      'zeros 1500',
      'all-7e 1500',
    ]) {
      expect(lines.filter((l) => l.startsWith(name))).toHaveLength(2);
    }
  });
});
