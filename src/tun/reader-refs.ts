/**
 * ref()/unref() as both TUN readers (loop-reader.ts, worker-reader.ts) do them: the
 * choice is remembered from before start() and applied to whatever keeps the event loop
 * alive once the reader runs (the pipe handle, the worker thread).
 */
export abstract class ReaderRefs {
  protected refed = true;

  /** What holds the event loop open while reading, or null before start / after close. */
  protected abstract loopHolder(): { ref(): void; unref(): void } | null;

  ref(): void {
    this.refed = true;
    this.loopHolder()?.ref();
  }

  unref(): void {
    this.refed = false;
    this.loopHolder()?.unref();
  }
}
