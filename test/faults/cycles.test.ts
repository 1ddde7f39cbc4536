/** 10 consecutive up/down cycles: nothing left behind, sshd's fds do not grow (100 in bench/fuzz/cycles.ts). */
import { describe, expect, it } from 'vitest';
import { runCycles } from '../../bench/fuzz/cycles-run.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('fault tests');

describe.skipIf(!enabled)('up/down cycles', () => {
  const lab = useLab();

  it('10 cycles leave no interface, route or process behind', async () => {
    const r = await runCycles(lab, 10);
    console.log(
      `[cycles] ${r.cycles} cycles, ${r.msPerCycle.toFixed(0)} ms each, sshd fds ${r.sshdFds[0]}->${r.sshdFds[1]}`,
    );
    expect(r.failures).toEqual([]);
    expect(r.sshdFds[1]).toBeLessThanOrEqual(r.sshdFds[0] + 2);
  }, 300_000);
});
