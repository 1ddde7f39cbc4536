/**
 * kill -9 of `ts-vpn up` or of the far end (`ts-vpn serve`) at random moments,
 * 20 runs (FAULT_RUNS overrides), each bounded to a few seconds: afterwards no
 * stale interface, route or process on either side; a killed client's state is
 * cleaned (and reported) by the next `up`.
 */
import { describe, expect, it } from 'vitest';
import { links, routes, until } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('fault tests');
const RUNS = Number(process.env.FAULT_RUNS ?? 20);

describe.skipIf(!enabled)('kill -9 at random moments', () => {
  const lab = useLab();

  it(
    `${RUNS} runs: nothing stale remains on either side`,
    async () => {
      let x = 0x2545f491;
      const rnd = (n: number) => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) % n;
      };
      const outcomes: string[] = [];
      let sawCleanup = false;
      for (let run = 0; run < RUNS; run++) {
        const victim = rnd(2) === 0 ? 'client' : 'server';
        const delay = victim === 'client' ? 100 + rnd(2400) : rnd(1500);
        const up = await lab.startUp({ wait: false });
        let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
        void up.exited.then((r) => {
          exited = r;
        });
        if (victim === 'server') {
          // The far end starts after the SSH handshake: wait for it, then a random moment.
          await until(
            () => lab.servePids().length > 0 || exited !== null,
            10_000,
            'serve to start',
          ).catch(() => {});
        }
        await new Promise((r) => setTimeout(r, delay));
        if (up.log().includes('did not exit cleanly')) sawCleanup = true;
        let what: string;
        if (victim === 'client' || lab.servePids().length === 0) {
          if (exited === null) process.kill(up.pid, 'SIGKILL');
          what = 'client';
        } else {
          for (const p of lab.servePids()) {
            try {
              process.kill(p, 'SIGKILL');
            } catch (err) {
              // Listed a moment ago and gone now (it ended by itself): nothing left to kill.
              if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
            }
          }
          what = 'serve';
        }
        // The client either died (kill) or must notice the lost link and exit by itself.
        await until(() => exited !== null, 20_000, `ts-vpn up to exit after kill -9 of ${what}`);
        await until(() => lab.servePids().length === 0, 10_000, 'serve to exit');
        await until(
          () => !links(lab.srv).some((l) => l.ifname.startsWith('tsvs')),
          5000,
          'server TUN to go',
        );
        await until(
          () => !links(lab.cli).some((l) => l.ifname.startsWith('tsvpn')),
          5000,
          'client TUN to go',
        );
        const r = exited as unknown as { code: number | null; signal: NodeJS.Signals | null };
        expect(routes(lab.cli).map((x) => x.dst)).toEqual(['198.18.0.0/30']);
        if (what === 'serve') {
          expect(r.signal).toBeNull();
          expect(r.code, up.log()).not.toBe(1);
          expect(up.log()).not.toMatch(/\n\s+at \S+ \(/);
        }
        outcomes.push(`${what}@${delay}ms→${r.signal ?? r.code}`);
      }
      // One last clean run: comes up, says so if the previous run was killed, and exits 0.
      const last = await lab.startUp();
      if (last.log().includes('did not exit cleanly')) sawCleanup = true;
      expect((await last.stop('SIGTERM')).code).toBe(0);
      expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
      console.log(`[kill9] ${outcomes.join(' ')}; stale-state notice seen: ${sawCleanup}`);
      expect(sawCleanup).toBe(true);
    },
    20_000 + RUNS * 25_000,
  );
});
