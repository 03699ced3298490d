// A bounded FIFO of events waiting for the broker: the oldest go first when it is full (a fresh
// storage alert matters more than a stale one), and every drop is counted.
import type { StorageEvent } from "../../../src/plugin-api.ts";

export class MqttBuffer {
  private items: StorageEvent[] = [];
  private head = 0;
  dropped = 0;

  constructor(private readonly max: number, private readonly onDrop: () => void) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(events: readonly StorageEvent[]): void {
    for (const e of events) {
      if (this.length >= this.max) {
        this.head++;
        this.dropped++;
        this.onDrop();
      }
      this.items.push(e);
    }
    this.compact();
  }

  /** Removes and returns up to n of the oldest events. */
  take(n: number): StorageEvent[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    this.compact();
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
