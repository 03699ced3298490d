// A bounded FIFO with a drop policy: the router's per-receiver buffer. Never blocks the producer;
// every drop is counted.

export type WhenFull = "drop_oldest" | "drop_newest";
export type TryTake<T> = { state: "ok"; values: T[] } | { state: "empty" } | { state: "closed" };

export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  dropped = 0;

  constructor(readonly capacity: number, readonly whenFull: WhenFull = "drop_oldest") {
    if (!(capacity >= 1)) throw new RangeError("capacity must be >= 1");
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds a value; returns the value dropped to make room (or the refused one), if any. */
  push(value: T): T | undefined {
    if (this.closed) {
      this.dropped++;
      return value;
    }
    let lost: T | undefined;
    if (this.length >= this.capacity) {
      this.dropped++;
      if (this.whenFull === "drop_newest") return value;
      lost = this.items[this.head];
      this.items[this.head++] = undefined;
    }
    this.items.push(value);
    this.compact();
    this.wake();
    return lost;
  }

  /** Up to max values without waiting. */
  tryTake(max: number): TryTake<T> {
    if (this.length === 0) return this.closed ? { state: "closed" } : { state: "empty" };
    const n = Math.min(max, this.length);
    const values = this.items.slice(this.head, this.head + n) as T[];
    this.items.fill(undefined, this.head, this.head + n);
    this.head += n;
    this.compact();
    return { state: "ok", values };
  }

  /** Waits until there is something to take, the queue is closed, or signal aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    if (this.length > 0 || this.closed || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Drops what is queued (counted); returns how many. */
  clear(): number {
    const n = this.length;
    this.dropped += n;
    this.items = [];
    this.head = 0;
    return n;
  }

  /** No more pushes; waiters wake; what is queued can still be taken. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return; // the common case: no allocation per push
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
