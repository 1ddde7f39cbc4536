/**
 * An accepted gateway socket as a link's byte stream: times our first frame, takes
 * the client's claim line off the front of what it sends, and keeps what the client
 * sent before it went away.
 *
 * A client that writes and closes at once (sshd passes on its bytes, then closes the
 * socket) is often gone before the gateway's first frame: that write fails with EPIPE,
 * and Node then closes the socket without ever reading the bytes queued on it, so the
 * session looked like one that sent nothing (`vanished` instead of `garbage`; perf
 * trace under load: sshd wrote the 8 bytes to every one of 50 sockets, the gateway read
 * none of them). Node marks the socket errored during the failing write and closes the
 * fd only on the next tick, so right after such a write the queued bytes are read here
 * (non-blocking, at most one 64 KiB read like the socket's own) and handed on as data.
 */
import type { Socket } from 'node:net';
import type { ByteStream } from '../link/index.js';
import { tryLibc } from '../sys/libc.js';
import type { ClaimReader } from './claims.js';
import { socketFd } from './peercred.js';

/** recv(2) flag: do not block. */
const MSG_DONTWAIT = 0x40;
/** At most this much is read from a socket that failed a write (Node's own read size). */
const DRAIN_BYTES = 64 * 1024;

/** The bytes still queued on `sock`'s fd (non-blocking), or null when there are none or no libc. */
export function readQueued(sock: Socket, max = DRAIN_BYTES): Uint8Array | null {
  const fd = socketFd(sock);
  const lib = tryLibc();
  if (fd === null || lib === null) return null;
  const buf = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const got = lib.recv(fd, buf.subarray(n), max - n, MSG_DONTWAIT);
    if (got <= 0) break;
    n += got;
  }
  return n > 0 ? buf.subarray(0, n) : null;
}

/**
 * `sock` as a ByteStream. `onFirstWrite` runs before our first write; `claims` sees the
 * client's bytes first (a claim line is taken off, PPP bytes pass on).
 */
export function socketStream(
  sock: Socket,
  onFirstWrite: () => void,
  claims: ClaimReader,
): ByteStream {
  let first = true;
  let drained = false;
  let deliver: ((chunk: Uint8Array) => void) | null = null;
  return {
    write: (chunk) => {
      if (first) {
        first = false;
        onFirstWrite();
      }
      const ok = sock.write(chunk);
      if (sock.errored && !drained) {
        // The write failed at once (EPIPE: the client is gone); the fd is still open.
        drained = true;
        const left = readQueued(sock);
        const to = deliver;
        // Not inside our own write: the link takes it as data right after.
        if (left && to) queueMicrotask(() => to(left));
      }
      return ok;
    },
    onData: (cb) => {
      deliver = (chunk: Uint8Array) => {
        const ppp = claims.feed(chunk);
        if (ppp.length > 0) cb(ppp);
      };
      sock.on('data', deliver);
    },
    onDrain: (cb) => sock.on('drain', cb),
  };
}
