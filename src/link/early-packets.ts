/**
 * IP packets that arrive from the link in the few milliseconds between IPCP opening
 * and the interface being configured (each end configures its own interface when its
 * IPCP opens, so the peer may already be sending). Held, bounded, and written once the
 * interface is ready; anything beyond the bound is dropped and counted.
 */
export class EarlyPackets {
  private held: Uint8Array[] = [];
  private bytes = 0;
  /** Packets dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly maxPackets = 64,
    readonly maxBytes = 256 * 1024,
  ) {}

  get length(): number {
    return this.held.length;
  }

  /** Holds a copy of `pkt` (the caller's buffer may be reused); false when full (counted). */
  hold(pkt: Uint8Array): boolean {
    if (this.held.length >= this.maxPackets || this.bytes + pkt.length > this.maxBytes) {
      this.dropped++;
      return false;
    }
    this.held.push(pkt.slice());
    this.bytes += pkt.length;
    return true;
  }

  /** Hands every held packet to `write`, oldest first, and empties the queue. */
  flush(write: (pkt: Uint8Array) => void): number {
    const out = this.held;
    this.held = [];
    this.bytes = 0;
    for (const p of out) write(p);
    return out.length;
  }

  /** Forgets the held packets (link lost before the interface was ready); counted as dropped. */
  discard(): void {
    this.dropped += this.held.length;
    this.held = [];
    this.bytes = 0;
  }
}
