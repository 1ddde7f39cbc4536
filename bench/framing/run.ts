/**
 * `npm run bench:framing`. BENCH_QUICK=1: a seconds-long smoke run (plumbing, not speed).
 * BENCH_ONLY=<text>: only cases whose "name accm" contains it; BENCH_ROUNDS=<n>.
 */
import { runBench } from './bench.js';

runBench({
  quick: process.env.BENCH_QUICK === '1',
  only: process.env.BENCH_ONLY || undefined,
  rounds: process.env.BENCH_ROUNDS ? Number(process.env.BENCH_ROUNDS) : undefined,
});
