// The event ids seen most recently, at most `capacity` of them: memory stays bounded, and a
// redelivery (same event_id) within that many newer events is recognized.
export class RecentIds {
  private set = new Set<string>();
  private ring: string[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string>(capacity);
  }

  /** True when id was new (and is now remembered); false for a repeat. */
  add(id: string): boolean {
    if (this.set.has(id)) return false;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.set.add(id);
    return true;
  }

  get size(): number {
    return this.set.size;
  }
}
