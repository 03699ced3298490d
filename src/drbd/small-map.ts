// The model's per-object collections (a resource's devices and connections, a connection's paths
// and peer devices) hold one to a few entries. A JS Map with one entry costs about 256 bytes of
// heap; this keeps keys and values in one flat array [k0, v0, k1, v1, ...], about 70 bytes, with
// the Map methods the model and its readers use, in insertion order. Lookups are linear: fine for
// the handful of volumes and peers a resource has. Not to be changed while it is iterated (the
// model changes it only inside apply(), never while a reader walks it).

/** What the state tree's collections offer: the read and write methods of a Map (a Map fits). */
export interface Keyed<K, V> extends Iterable<[K, V]> {
  readonly size: number;
  get(k: K): V | undefined;
  has(k: K): boolean;
  set(k: K, v: V): this;
  delete(k: K): boolean;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  entries(): IterableIterator<[K, V]>;
  forEach(f: (v: V, k: K, m: Keyed<K, V>) => void): void;
}

export class SmallMap<K, V> implements Keyed<K, V> {
  private kv: (K | V)[] = [];

  get size(): number {
    return this.kv.length >> 1;
  }

  // SameValueZero, as Map: NaN finds NaN.
  private find(k: K): number {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === k || (k !== k && kv[i] !== kv[i])) return i;
    return -1;
  }

  get(k: K): V | undefined {
    const i = this.find(k);
    return i < 0 ? undefined : (this.kv[i + 1] as V);
  }

  has(k: K): boolean {
    return this.find(k) >= 0;
  }

  set(k: K, v: V): this {
    const i = this.find(k);
    if (i >= 0) this.kv[i + 1] = v;
    else this.kv.push((k as unknown) === 0 ? (0 as K) : k, v); // as Map: -0 is stored as +0
    return this;
  }

  delete(k: K): boolean {
    const i = this.find(k);
    if (i < 0) return false;
    this.kv.splice(i, 2);
    return true;
  }

  clear(): void {
    this.kv = [];
  }

  *keys(): IterableIterator<K> {
    for (let i = 0; i < this.kv.length; i += 2) yield this.kv[i] as K;
  }

  *values(): IterableIterator<V> {
    for (let i = 1; i < this.kv.length; i += 2) yield this.kv[i] as V;
  }

  *entries(): IterableIterator<[K, V]> {
    for (let i = 0; i < this.kv.length; i += 2) yield [this.kv[i] as K, this.kv[i + 1] as V];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  forEach(f: (v: V, k: K, m: Keyed<K, V>) => void): void {
    for (let i = 0; i < this.kv.length; i += 2) f(this.kv[i + 1] as V, this.kv[i] as K, this);
  }
}
