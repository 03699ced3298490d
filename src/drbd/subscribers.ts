// The DRBD model's subscribers (umh, promoter, debugger...), each behind its own bounded queue
// with a receiver's when-full policy: the model only pushes (never waits, never runs plugin code,
// never sees a throw), and each subscriber drains its queue in batches after the current record
// batch. A subscriber that throws is logged and counted; the others and the model carry on.
import { BoundedQueue, type WhenFull } from "../router/queue.ts";

/** What a subscriber is: a plugin instance's context fits (name, log, counters, queue config). */
export interface SubscriberOwner {
  instance: string;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
  count(name: string, n?: number): void;
  queue?: { max_events: number; when_full: WhenFull; batch: number };
}

export interface SubscriberStats {
  name: string;
  depth: number;
  max: number;
  dropped: number;
  delivered: number;
  errors: number;
}

/** A receiver queue's defaults (src/config/schema.ts). */
const DEFAULT_QUEUE = { max_events: 1000, when_full: "drop_oldest" as WhenFull, batch: 100 };
/** A throw is logged at most once per this interval per subscriber (each one is counted). */
const ERROR_LOG_MS = 10_000;

/** Runs at push time, synchronously: picks what the subscriber needs from the update and the model
 * as they are now (a filter when it returns undefined: nothing is queued). */
export type Prepare<U, M, T> = (u: U, m: M) => T | undefined;

export class Subscriber<U, M, T = U> {
  private queue: BoundedQueue<T>;
  private batch: number;
  private scheduled = false;
  private closed = false;
  private lastErrorLog = -Infinity;
  delivered = 0;
  errors = 0;
  /** Drops not yet reported as a RECEIVER_DROPPED event. */
  unreported = 0;

  constructor(
    private fn: (item: T, m: M) => void, private model: M, private owner?: SubscriberOwner,
    private prepare?: Prepare<U, M, T>,
  ) {
    const q = owner?.queue ?? DEFAULT_QUEUE;
    this.queue = new BoundedQueue<T>(q.max_events, q.when_full);
    this.batch = q.batch;
  }

  get name(): string {
    return this.owner?.instance ?? "(anonymous)";
  }

  push(u: U): void {
    if (this.closed) return;
    let item: T | undefined;
    if (!this.prepare) item = u as unknown as T;
    else {
      try {
        item = this.prepare(u, this.model);
      } catch (e) {
        return this.failed(e);
      }
      if (item === undefined) return;
    }
    const before = this.queue.dropped;
    this.queue.push(item);
    if (this.queue.dropped !== before) {
      this.unreported++;
      this.owner?.count("updates_dropped");
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drain);
    }
  }

  /** Delivers what is queued now (also run as a microtask after the pushes of a record batch). */
  drain = (): void => {
    this.scheduled = false;
    for (;;) {
      if (this.closed) return;
      const r = this.queue.tryTake(this.batch);
      if (r.state !== "ok") return;
      for (const u of r.values) {
        if (this.closed) return;
        // (u is what prepare() kept, or the update itself)
        try {
          this.fn(u, this.model);
          this.delivered++;
        } catch (e) {
          this.failed(e);
        }
      }
    }
  };

  private failed(e: unknown): void {
    this.errors++;
    this.owner?.count("update_errors");
    const now = performance.now();
    if (now - this.lastErrorLog < ERROR_LOG_MS) return;
    this.lastErrorLog = now;
    const msg = `DRBD update handler failed (${this.errors} so far): ${(e as Error)?.message ?? e}`;
    if (this.owner) this.owner.log.warn(msg);
    else console.error(`storeventd: ${this.name}: ${msg}`);
  }

  /** No more deliveries (what is queued is dropped). */
  close(): void {
    this.closed = true;
    this.queue.clear();
  }

  stats(): SubscriberStats {
    return {
      name: this.name, depth: this.queue.length, max: this.queue.capacity, dropped: this.queue.dropped,
      delivered: this.delivered, errors: this.errors,
    };
  }
}
