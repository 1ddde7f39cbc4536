/**
 * Interface changes one after another: `run(fn)` starts `fn` once every earlier one has
 * settled (a failure does not stop the chain; the caller sees it on its own promise).
 * Used by the client, `serve` and each gateway session for their netlink work.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every earlier one; resolves or rejects with `fn`'s result. */
  run(fn: () => Promise<void>): Promise<void> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Settles once everything queued so far has (never rejects). */
  idle(): Promise<void> {
    return this.tail;
  }
}
