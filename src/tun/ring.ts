/**
 * Layout of the packet ring shared by the reader worker (producer) and the
 * main thread (consumer). One SharedArrayBuffer `ctrl` of Int32 slots and one
 * SharedArrayBuffer `data` of `size` bytes (a multiple of 4).
 *
 * Records are 4-byte aligned: `[len: int32][len bytes][pad to 4]`. A record
 * never wraps: when it would not fit before the end, the producer writes a
 * wrap marker (len = -1) and continues at offset 0; the consumer also wraps
 * when its tail reaches `size` exactly. head == tail means empty; the
 * producer never lets head catch up with tail (it needs strictly more room
 * than a record), so full and empty never look alike.
 *
 * Single producer, single consumer: only the worker stores HEAD, only the main
 * thread stores TAIL, both with Atomics so the record bytes are visible first.
 */

/** Producer offset of the next record (worker writes). */
export const C_HEAD = 0;
/** Consumer offset of the next unread record (main writes). */
export const C_TAIL = 1;
/** 0 = running, 1 = closing (main writes; worker exits at its next check). */
export const C_STATE = 2;
/** Bumped by the worker after publishing records; main waits on it when idle. */
export const C_SEQ = 3;
/** 1 while the main thread waits on C_SEQ: the worker then notifies it. */
export const C_MAIN_IDLE = 4;
/** 1 while the worker waits for room (ring full). */
export const C_WORKER_BLOCKED = 5;
/** Bumped by main after freeing room while the worker was blocked. */
export const C_TAIL_SEQ = 6;
/** Times the worker found the ring full (the kernel queue then holds/drops packets). */
export const C_STALLS = 7;
/** Read errors other than EAGAIN/EINTR seen by the worker. */
export const C_READ_ERRORS = 8;
/** errno that made the worker stop (0 = stopped on request). */
export const C_EXIT_ERRNO = 9;
/** poll() wakeups of the worker (rx packets / wakeups = mean batch size). */
export const C_WAKEUPS = 10;
/** Reads that filled their buffer (packet longer than maxPacket): dropped, never published. */
export const C_TRUNCATED = 11;
/** Number of Int32 slots in ctrl. */
export const C_SLOTS = 16;

/** Wrap marker written in place of a record length. */
export const WRAP = -1;
