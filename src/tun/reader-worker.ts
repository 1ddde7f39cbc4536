/**
 * Source of the reader worker thread, as a string run with
 * `new Worker(src, { eval: true })`. A string rather than a file so that the
 * same code runs from `src/` under tsx and from `dist/` without a loader, and
 * so the worker never needs TypeScript support.
 *
 * The worker owns the blocking side: poll() on [tun fd, wake eventfd], then
 * read() the non-blocking TUN fd straight into the shared ring until EAGAIN,
 * publishing HEAD after every record and waking the main thread once per
 * batch. Closing: main sets C_STATE=1 and writes the eventfd (which wakes
 * poll at once) and bumps C_TAIL_SEQ (which wakes a ring-full wait). poll and
 * wait also time out every second as a safety net, so the worker can never
 * outlive a lost wakeup by more than that.
 *
 * Truncation: each read offers maxPacket + 1 bytes; a read that fills them
 * was cut short by the kernel (it returns what fit, not the packet length) and
 * is counted in C_TRUNCATED instead of published. The worker reads frames of
 * any size the device asks for (vnet mode passes maxPacket = 65535 + 10), so
 * it serves vnet mode with no other change.
 */
// One namespace: the worker's source is a template over the ring's slot numbers.
import * as ring from './ring.js';

export interface ReaderWorkerData {
  koffiPath: string;
  tunFd: number;
  wakeFd: number;
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** Largest packet (frame, in vnet mode) read; longer ones are dropped and counted in C_TRUNCATED. */
  maxPacket: number;
  /** Records published between two wakeups of the main thread, at most. */
  batch: number;
}

export const READER_WORKER_SOURCE = `
'use strict';
const { workerData } = require('node:worker_threads');
const koffi = require(workerData.koffiPath);
const lib = koffi.load('libc.so.6');
const read = lib.func('long read(int fd, void *buf, size_t n)');
const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
const { tunFd, wakeFd, maxPacket, batch } = workerData;
const ctrl = new Int32Array(workerData.ctrl);
const u8 = new Uint8Array(workerData.data);
const i32 = new Int32Array(workerData.data);
const size = u8.length;
const room1 = maxPacket + 1;
const need = 4 + ((room1 + 3) & ~3);
const EAGAIN = 11, EINTR = 4, POLLIN = 1, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;
const pfd = new Int32Array(4);
const pfd16 = new Int16Array(pfd.buffer);
const pfdU8 = new Uint8Array(pfd.buffer);
pfd[0] = tunFd; pfd16[2] = POLLIN;
pfd[2] = wakeFd; pfd16[6] = POLLIN;

function publish() {
  Atomics.add(ctrl, ${ring.C_SEQ}, 1);
  if (Atomics.load(ctrl, ${ring.C_MAIN_IDLE}) === 1 && Atomics.exchange(ctrl, ${ring.C_MAIN_IDLE}, 0) === 1) {
    Atomics.notify(ctrl, ${ring.C_SEQ});
  }
}

/** Offset where the next record may start, or -1 when the ring is full. */
function room(h) {
  const t = Atomics.load(ctrl, ${ring.C_TAIL});
  if (h >= t) {
    if (size - h >= need) return h;
    return t > need ? 0 : -1;
  }
  return t - h > need ? h : -1;
}

let head = Atomics.load(ctrl, ${ring.C_HEAD});
let pending = 0;
let exitErrno = 0;
loop: while (Atomics.load(ctrl, ${ring.C_STATE}) === 0) {
  let at = room(head);
  if (at < 0) {
    if (pending > 0) { publish(); pending = 0; }
    Atomics.add(ctrl, ${ring.C_STALLS}, 1);
    const seen = Atomics.load(ctrl, ${ring.C_TAIL_SEQ});
    Atomics.store(ctrl, ${ring.C_WORKER_BLOCKED}, 1);
    if (room(head) < 0) Atomics.wait(ctrl, ${ring.C_TAIL_SEQ}, seen, 1000);
    Atomics.store(ctrl, ${ring.C_WORKER_BLOCKED}, 0);
    continue;
  }
  const n = Number(read(tunFd, u8.subarray(at + 4, at + 4 + room1), room1));
  if (n > maxPacket) { Atomics.add(ctrl, ${ring.C_TRUNCATED}, 1); continue; }
  if (n > 0) {
    i32[at >> 2] = n;
    if (at !== head) i32[head >> 2] = ${ring.WRAP}; // head < size here: records keep 4 bytes free at least
    head = at + 4 + ((n + 3) & ~3);
    Atomics.store(ctrl, ${ring.C_HEAD}, head);
    if (++pending >= batch) { publish(); pending = 0; }
    continue;
  }
  const errno = n < 0 ? koffi.errno() : 0;
  if (n < 0 && errno === EINTR) continue;
  if (n < 0 && errno !== EAGAIN) {
    Atomics.add(ctrl, ${ring.C_READ_ERRORS}, 1);
    exitErrno = errno;
    break loop;
  }
  if (n === 0) { exitErrno = 5; break loop; } // EOF: the device went away
  if (pending > 0) { publish(); pending = 0; }
  for (;;) {
    pfd16[3] = 0; pfd16[7] = 0;
    const r = poll(pfdU8, 2, 1000);
    if (Atomics.load(ctrl, ${ring.C_STATE}) !== 0) break loop;
    if (r < 0) {
      if (koffi.errno() === EINTR) continue;
      exitErrno = koffi.errno();
      break loop;
    }
    if (r === 0) continue;
    Atomics.add(ctrl, ${ring.C_WAKEUPS}, 1);
    if (pfd16[3] & (POLLERR | POLLHUP | POLLNVAL)) { exitErrno = 5; break loop; }
    break;
  }
}
if (pending > 0) publish();
Atomics.store(ctrl, ${ring.C_EXIT_ERRNO}, exitErrno);
publish();
`;
