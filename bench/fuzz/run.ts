/**
 * `npm run bench:fuzz`: every parser reachable from the wire (and the files a
 * user edits), N inputs each (FUZZ_N, default 1,000,000), FUZZ_JOBS targets at
 * a time in worker threads (default 2 = the cores here).
 *
 *   FUZZ_N=20000 FUZZ_ONLY=engine FUZZ_SEED=7 npm run bench:fuzz
 *
 * Zero exceptions allowed (each printed with its input as hex); an input over
 * 50 ms twice in a row is a hang; a worker silent for FUZZ_STALL_MS (10 s) is
 * killed and its current input printed; heap is sampled per worker and the run
 * fails past FUZZ_HEAP_MB (256). Exit status 1 on any failure.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type FuzzResult, HANG_MS, toHex } from './harness.js';
import { TARGETS } from './targets.js';

const N = Number(process.env.FUZZ_N ?? 1_000_000);
const JOBS = Math.max(1, Number(process.env.FUZZ_JOBS ?? Math.min(2, availableParallelism())));
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const HEAP_MB = Number(process.env.FUZZ_HEAP_MB ?? 256);
const STALL_MS = Number(process.env.FUZZ_STALL_MS ?? 10_000);
const ONLY = process.env.FUZZ_ONLY ?? '';
const INPUT_MAX = 64 * 1024;

const targets = TARGETS.filter(
  (t) => ONLY === '' || ONLY.split(',').some((o) => t.name.includes(o)),
);

function runInWorker(name: string, seed: number): Promise<FuzzResult> {
  const control = new SharedArrayBuffer(12);
  const input = new SharedArrayBuffer(INPUT_MAX);
  const ctl = new Int32Array(control);
  const worker = new Worker(new URL('./boot.mjs', import.meta.url), {
    workerData: {
      entry: new URL('./worker.ts', import.meta.url).href,
      target: name,
      n: N,
      seed,
      control,
      input,
    },
    resourceLimits: { maxOldGenerationSizeMb: Math.max(HEAP_MB * 2, 512) },
  });
  const failed = (message: string): FuzzResult => {
    const len = ctl[1];
    const bytes = new Uint8Array(input).slice(0, Math.min(len, INPUT_MAX));
    return {
      name,
      what: '',
      inputs: Math.max(0, Atomics.load(ctl, 0) - 1),
      exceptions: 1,
      hangs: message.startsWith('stalled') ? 1 : 0,
      slowestMs: Number.NaN,
      peakHeapMb: Number.NaN,
      elapsedMs: 0,
      failures: [
        {
          index: Atomics.load(ctl, 0) - 1,
          kind: 'exception',
          message,
          stack: '',
          hex: toHex(bytes),
        },
      ],
    };
  };
  return new Promise((resolve) => {
    let done = false;
    let lastBeat = -1;
    let lastChange = Date.now();
    const finish = (r: FuzzResult) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      resolve(r);
    };
    const watch = setInterval(() => {
      const beat = Atomics.load(ctl, 0);
      if (beat !== lastBeat) {
        lastBeat = beat;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > STALL_MS) {
        const r = failed(
          `stalled: no progress for ${STALL_MS} ms on input #${beat - 1} (endless loop?)`,
        );
        void worker.terminate();
        finish(r);
      }
    }, 500);
    worker.on('message', (m: { type: string; result?: FuzzResult }) => {
      if (m.type === 'result' && m.result) finish(m.result);
    });
    worker.on('error', (e) => finish(failed(`worker died: ${e.message}`)));
    worker.on('exit', (code) => finish(failed(`worker exited with ${code} before reporting`)));
  });
}

async function main(): Promise<void> {
  console.log(
    `fuzz: ${targets.length} parsers x ${N.toLocaleString('en-US')} inputs, ${JOBS} workers, seed ${SEED}, hang limit ${HANG_MS} ms, heap limit ${HEAP_MB} MB`,
  );
  const results = new Map<string, FuzzResult>();
  const queue = targets.map((t, i) => ({ t, seed: (SEED + i * 1_000_003) >>> 0 }));
  const t0 = performance.now();
  const lanes = Array.from({ length: JOBS }, async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const r = await runInWorker(job.t.name, job.seed);
      r.what ||= job.t.what;
      results.set(job.t.name, r);
      const rate = r.elapsedMs > 0 ? Math.round((r.inputs / r.elapsedMs) * 1000) : 0;
      console.log(
        `  done ${r.name}: ${r.inputs} inputs, ${r.exceptions} exceptions, ${r.hangs} hangs, ${rate}/s`,
      );
    }
  });
  await Promise.all(lanes);
  const wall = (performance.now() - t0) / 1000;

  const rows = targets.map((t) => results.get(t.name)!);
  const head = [
    'parser',
    'inputs',
    'exceptions',
    'hangs',
    'slowest input ms',
    'peak heap MB',
    'inputs/s',
  ];
  const cells = rows.map((r) => [
    r.name,
    r.inputs.toLocaleString('en-US'),
    String(r.exceptions),
    String(r.hangs),
    Number.isNaN(r.slowestMs) ? '-' : r.slowestMs.toFixed(1),
    Number.isNaN(r.peakHeapMb) ? '-' : r.peakHeapMb.toFixed(1),
    r.elapsedMs > 0 ? Math.round((r.inputs / r.elapsedMs) * 1000).toLocaleString('en-US') : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  console.log('');
  console.log(line(head));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const c of cells) console.log(line(c));

  let bad = false;
  for (const r of rows) {
    for (const f of r.failures) {
      bad = true;
      console.log(`\n${f.kind.toUpperCase()} in ${r.name} (input #${f.index}): ${f.message}`);
      if (f.stack) console.log(f.stack);
      console.log(`input hex: ${f.hex}`);
    }
  }
  const total = rows.reduce((a, r) => a + r.inputs, 0);
  const exceptions = rows.reduce((a, r) => a + r.exceptions, 0);
  const hangs = rows.reduce((a, r) => a + r.hangs, 0);
  const peak = Math.max(...rows.map((r) => (Number.isNaN(r.peakHeapMb) ? 0 : r.peakHeapMb)));
  const overHeap = rows.filter((r) => r.peakHeapMb > HEAP_MB);
  for (const r of overHeap)
    console.log(`\nHEAP: ${r.name} peaked at ${r.peakHeapMb.toFixed(1)} MB > ${HEAP_MB} MB`);
  console.log(`\nwall time ${wall.toFixed(1)} s`);
  console.log(
    `summary: parsers=${rows.length} inputs=${total} exceptions=${exceptions} hangs=${hangs} peak_heap_mb=${peak.toFixed(1)}`,
  );
  if (bad || exceptions > 0 || hangs > 0 || overHeap.length > 0) process.exitCode = 1;
}

await main();
