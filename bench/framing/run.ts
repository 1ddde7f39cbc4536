/** `npm run bench:framing` (BENCH_QUICK=1 for a seconds-long smoke run). */
import { runBench } from './bench.js';

runBench({ quick: process.env.BENCH_QUICK === '1' });
