/**
 * Bounded packet buffer behind {@link PppLink.packets}: a fixed ring; when the
 * consumer is slower than the link the newest packets are dropped and counted,
 * like a network device's receive queue (never grows without limit).
 */

/** An IP packet received on a link. */
export interface PppPacket {
  /** IP version, from the PPP protocol field (0x0021 → 4, 0x0057 → 6). */
  version: 4 | 6;
  /** The packet; a copy the consumer owns (shared with other consumers of the same link). */
  data: Uint8Array;
}

/** The async iterator returned by {@link PppLink.packets}. */
export class PacketIterator implements AsyncIterableIterator<PppPacket> {
  private readonly ring: (PppPacket | undefined)[];
  private head: number;
  private count: number;
  private ended: boolean;
  private waiter: ((r: IteratorResult<PppPacket>) => void) | null;
  private droppedCount: number;
  private readonly onReturn: (it: PacketIterator) => void;

  /** @internal */
  constructor(capacity: number, onReturn: (it: PacketIterator) => void) {
    this.ring = new Array(capacity);
    this.head = 0;
    this.count = 0;
    this.ended = false;
    this.waiter = null;
    this.droppedCount = 0;
    this.onReturn = onReturn;
  }

  /** Packets dropped because this buffer was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Packets waiting in the buffer. */
  get buffered(): number {
    return this.count;
  }

  /** Buffer capacity in packets. */
  get capacity(): number {
    return this.ring.length;
  }

  /** @internal Offers a packet; false when it was dropped (buffer full or iterator ended). */
  push(p: PppPacket): boolean {
    if (this.ended) return false;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w({ value: p, done: false });
      return true;
    }
    if (this.count === this.ring.length) {
      this.droppedCount++;
      return false;
    }
    this.ring[(this.head + this.count) % this.ring.length] = p;
    this.count++;
    return true;
  }

  /** @internal No more packets: the iterator finishes once the buffer is drained. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    this.waiter = null;
    w?.({ value: undefined, done: true });
  }

  /** Next packet; waits while the buffer is empty; done after the link closed and the buffer is drained. */
  next(): Promise<IteratorResult<PppPacket>> {
    if (this.count > 0) {
      const p = this.ring[this.head] as PppPacket;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      return Promise.resolve({ value: p, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== null)
      return Promise.reject(
        new Error('PacketIterator: next() called while another next() is pending'),
      );
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stops iterating (`break` in `for await`): drops what is buffered and detaches from the link. */
  return(): Promise<IteratorResult<PppPacket>> {
    this.ring.fill(undefined);
    this.count = 0;
    this.end();
    this.onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The iterator itself (`for await` support). */
  [Symbol.asyncIterator](): PacketIterator {
    return this;
  }
}
