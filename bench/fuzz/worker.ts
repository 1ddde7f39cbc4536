/**
 * One fuzz target in a worker thread. Before each input it copies the input to
 * shared memory and bumps a heartbeat, so the main thread can kill a worker
 * stuck in an endless loop and still print the input that did it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget } from './harness.js';
import { targetByName } from './targets.js';
import type { FuzzInput } from './types.js';

export interface WorkerJob {
  entry: string;
  target: string;
  n: number;
  seed: number;
  /** [0] heartbeat (input index + 1), [1] input length, [2] 1 = text. */
  control: SharedArrayBuffer;
  /** The current input's bytes (truncated to the buffer). */
  input: SharedArrayBuffer;
}

const job = workerData as WorkerJob;
const control = new Int32Array(job.control);
const inputBuf = new Uint8Array(job.input);
const enc = new TextEncoder();
// The yaml package warns on complex keys; the fuzzer feeds thousands of them.
process.removeAllListeners('warning');

const result = runTarget(targetByName(job.target), job.n, job.seed, {
  beforeInput(i: number, input: FuzzInput) {
    const b = typeof input === 'string' ? enc.encode(input) : input;
    const n = Math.min(b.length, inputBuf.length);
    inputBuf.set(n === b.length ? b : b.subarray(0, n));
    control[1] = b.length;
    control[2] = typeof input === 'string' ? 1 : 0;
    Atomics.store(control, 0, i + 1);
  },
  progress(done: number, heapMb: number) {
    parentPort?.postMessage({ type: 'progress', done, heapMb });
  },
});
parentPort?.postMessage({ type: 'result', result });
