/**
 * Smoke test of `npm run bench:tunnel` in BENCH_QUICK mode: the benchmark runs end to end
 * (raw channel, ssh -w, ts-vpn), cleans up after itself, and ends with a well-formed
 * summary line. It asserts that the plumbing works, not any speed (TESTING.md).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireNetns, sh } from '../support/netns.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NUM = String.raw`\d+\.\d+`;
const INT = String.raw`\d+`;
const SUMMARY = new RegExp(
  `^summary: up=(${NUM}|pending) down=(${NUM}|pending) ceil_up=(${NUM}|pending) ceil_down=(${NUM}|pending) rtt=(${NUM}|pending) rss_mb=(${NUM}|pending)` +
    ` rtt_med_ms=(${NUM}|pending) rtt_p90_ms=(${NUM}|pending) first_byte_ms=(${INT}|pending) up_ms=(${INT}|pending)` +
    ` rss_srv_mb=(${NUM}|pending) soak_end_mb=(${NUM}|pending)/(${NUM}|pending)$`,
);

function missingTools(): string[] {
  const need = ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/iperf3', '/usr/bin/ping'];
  return need.filter((p) => !existsSync(p) && !existsSync(p.replace('/usr', '')));
}

const netnsOk = requireNetns('tunnel bench smoke test');
const missing = missingTools();

describe('bench:tunnel (BENCH_QUICK=1)', () => {
  it.skipIf(!netnsOk)(
    'runs end to end and prints a well-formed summary line (needs root + network namespaces)',
    async () => {
      expect(missing, `tools missing (run scripts/setup.sh): ${missing.join(', ')}`).toEqual([]);
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (res) => {
          const p = spawn(process.execPath, ['--import', 'tsx', 'bench/tunnel/run.ts'], {
            cwd: ROOT,
            env: {
              ...process.env,
              BENCH_QUICK: '1',
              BENCH_SOAK_SECONDS: '0',
              BENCH_ONLY: 'raw,sshw,tsvpn',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d) => {
            stdout += d;
          });
          p.stderr.on('data', (d) => {
            stderr += d;
          });
          // The benchmark cleans up on SIGTERM; the timeout bounds a hung run.
          const timer = setTimeout(() => p.kill('SIGTERM'), 110_000);
          p.on('exit', (code) => {
            clearTimeout(timer);
            res({ code, stdout, stderr });
          });
        },
      );
      const diag = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.code, diag).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      const last = lines[lines.length - 1] ?? '';
      expect(last, diag).toMatch(SUMMARY);
      expect(
        lines.filter((l) => l.startsWith('summary:')),
        diag,
      ).toHaveLength(1);
      // Raw channel and ssh -w always run; their rows carry numbers.
      expect(r.stdout).toMatch(/^raw ssh2 channel\s+\d+/m);
      expect(r.stdout).toMatch(/^ssh -w \(OpenSSH tun\)\s+\d+/m);
      // Once ts-vpn is built its row must be measured, not pending.
      // (soak_end_mb stays pending: the smoke run has no soak.)
      if (/^ts-vpn\s+\d+/m.test(r.stdout)) {
        expect(last.replace(/ soak_end_mb=\S+$/, '')).not.toMatch(/pending/);
        // Issue 17's table is filled in: start-up measured from the client's own stamps.
        expect(r.stdout).toMatch(/^spawn → first SSH byte\s+\d+ ms/m);
        expect(r.stdout).toMatch(
          /^peak RSS, full load \(client \/ far end\)\s+\d+\.\d MB \/ \d+\.\d MB/m,
        );
      }
      // No namespace of this run is left behind.
      const pid = /lab: tvb-c-(\d+)-/.exec(r.stderr)?.[1];
      expect(pid, diag).toBeTruthy();
      expect(sh('ip', ['netns', 'list'])).not.toContain(`tvb-c-${pid}-`);
    },
    120_000,
  );
});
