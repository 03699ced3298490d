// The SEQNUM window the classifier de-duplicates with: the kernel's and udevd's copies of one
// uevent share a SEQNUM.

/** Remembers the last n SEQNUMs (the kernel's and udevd's copies of one uevent share it). Decimal
 * SEQNUMs (all the kernel sends) live in a ring of numbers indexed by an open-addressing hash
 * table: O(1), nothing allocated per uevent. Anything else falls back to a Set of strings. */
export class SeqWindow {
  private ring: Float64Array;
  /** Ring slot + 1 per hash bucket, 0 = empty; linear probing, backward-shift deletion. */
  private table: Int32Array;
  private mask: number;
  private used = 0;
  private at = 0;
  private other: SeqStrings;
  constructor(private n: number) {
    this.ring = new Float64Array(Math.max(1, n));
    let size = 2;
    while (size < 2 * n) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    this.other = new SeqStrings(n);
  }
  /** True when seq was seen within the window; records it otherwise. */
  seen(seq: string): boolean {
    const v = decimal(seq);
    if (v < 0) return this.other.seen(seq);
    if (this.n <= 0) return false;
    if (this.find(v) >= 0) return true;
    if (this.used < this.n) this.used++;
    else this.remove(this.ring[this.at]!);
    this.ring[this.at] = v;
    this.insert(v, this.at);
    this.at = (this.at + 1) % this.n;
    return false;
  }
  private bucket(v: number): number {
    return (Math.imul((v % 0x40000000) | 0, 0x9e3779b1) ^ ((v / 0x40000000) | 0)) & this.mask;
  }
  private find(v: number): number {
    for (let b = this.bucket(v); ; b = (b + 1) & this.mask) {
      const slot = this.table[b]!;
      if (slot === 0) return -1;
      if (this.ring[slot - 1] === v) return b;
    }
  }
  private insert(v: number, slot: number): void {
    let b = this.bucket(v);
    while (this.table[b] !== 0) b = (b + 1) & this.mask;
    this.table[b] = slot + 1;
  }
  private remove(v: number): void {
    let hole = this.find(v);
    if (hole < 0) return;
    this.table[hole] = 0;
    // Moves later entries of the probe run back so every entry stays reachable from its bucket.
    for (let b = (hole + 1) & this.mask; this.table[b] !== 0; b = (b + 1) & this.mask) {
      const home = this.bucket(this.ring[this.table[b]! - 1]!);
      if (((b - home) & this.mask) >= ((b - hole) & this.mask)) {
        this.table[hole] = this.table[b]!;
        this.table[b] = 0;
        hole = b;
      }
    }
  }
}

/** A canonical decimal below 2^53 ("0", "4711"; not "007", "+1" or "1e3") as a number, else -1. */
function decimal(s: string): number {
  const len = s.length;
  if (len === 0 || len > 15 || (len > 1 && s.charCodeAt(0) === 48)) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The window for SEQNUMs that are not plain decimals (never from the kernel). */
class SeqStrings {
  private set = new Set<string>();
  private ring: string[] = [];
  private at = 0;
  constructor(private n: number) {}
  seen(seq: string): boolean {
    if (this.set.has(seq)) return true;
    if (this.ring.length < this.n) this.ring.push(seq);
    else {
      this.set.delete(this.ring[this.at]!);
      this.ring[this.at] = seq;
      this.at = (this.at + 1) % this.n;
    }
    this.set.add(seq);
    return false;
  }
}
