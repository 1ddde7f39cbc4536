/**
 * The long up/down soak: `npx tsx bench/fuzz/cycles.ts` (CYCLES=100 by default) in a
 * fresh lab (namespaces + real sshd), reporting leftovers and sshd fd counts.
 * The suite runs 10 cycles (test/faults/cycles.test.ts).
 */
import { ensureBuilt } from '../../test/e2e/ensure-built.js';
import { createLab } from '../../test/support/lab.js';
import { runCycles } from './cycles-run.js';

const n = Number(process.env.CYCLES ?? 100);
await ensureBuilt();
const lab = await createLab();
try {
  const r = await runCycles(lab, n, (s) => console.log(s));
  console.log(
    `cycles=${r.cycles} failures=${r.failures.length} ms_per_cycle=${r.msPerCycle.toFixed(0)} sshd_fds=${r.sshdFds[0]}->${r.sshdFds[1]}`,
  );
  for (const f of r.failures) console.log(`  ${f}`);
  if (r.failures.length > 0) process.exitCode = 1;
} finally {
  await lab.destroy();
}
