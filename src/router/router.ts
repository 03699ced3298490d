// Routes events to receivers: one bounded queue and one delivery loop per receiver, so a slow or
// failing receiver never blocks the others; drops are counted and reported as RECEIVER_DROPPED.
import type { StorageEvent } from "../event.ts";
import type { Logger, Receiver } from "../plugin-api.ts";
import type { QueueConfig } from "../config/schema.ts";
import { BoundedQueue } from "./queue.ts";
import { within } from "../util/timeout.ts";
import type { EventFilter } from "./filter.ts";
import { mark, tracing } from "../util/stage-trace.ts";

export interface SlotStats {
  depth: number;
  max: number;
  dropped: number;
  sent: number;
  errors: number;
}

export class ReceiverSlot {
  readonly queue: BoundedQueue<StorageEvent>;
  sent = 0;
  errors = 0;
  /** Drops not yet reported in a RECEIVER_DROPPED event. */
  unreported = 0;
  private loop: Promise<void> | undefined;
  private stop = new AbortController();
  private idle: (() => void)[] = [];
  private busy = false;

  constructor(
    readonly name: string,
    readonly receiver: Receiver,
    readonly filter: EventFilter,
    readonly queueConfig: QueueConfig,
    private log: Logger,
  ) {
    this.queue = new BoundedQueue(queueConfig.max_events, queueConfig.when_full);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Events that passed the filter; each ends as sent, an error or a drop (see handled). */
  offered = 0;

  get handled(): number {
    return this.sent + this.errors + this.queue.dropped;
  }

  offer(e: StorageEvent): boolean {
    if (!this.filter(e)) return true;
    this.offered++;
    const before = this.queue.dropped;
    this.queue.push(e);
    const lost = this.queue.dropped - before;
    this.unreported += lost;
    return lost === 0;
  }

  private async run(): Promise<void> {
    // Once stop gave up on draining, no new send() starts (a stuck receiver gets no more work).
    while (!this.stop.signal.aborted) {
      const r = this.queue.tryTake(this.queueConfig.batch);
      if (r.state === "closed") break;
      if (r.state === "empty") {
        for (const f of this.idle.splice(0)) f();
        await this.queue.wait(this.stop.signal);
        if (this.stop.signal.aborted) break;
        continue;
      }
      this.busy = true;
      if (tracing) for (const e of r.values) mark(`take:${this.name}`, e.raw);
      try {
        await this.receiver.send(r.values);
        this.sent += r.values.length;
        if (tracing) for (const e of r.values) mark(`sent:${this.name}`, e.raw);
      } catch (e) {
        this.errors += r.values.length;
        this.log.once("send-error", `send failed: ${(e as Error).message ?? e}`);
      } finally {
        this.busy = false;
      }
    }
    for (const f of this.idle.splice(0)) f();
  }

  /** Resolves when the queue is empty and no send is in flight (or after timeoutMs). */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && !this.busy) return true;
    return within(new Promise<void>((r) => this.idle.push(r)), timeoutMs);
  }

  /** Drains (bounded by drainMs), then stops the loop (what is still queued is dropped and
   * counted) and closes the receiver (its close() kills what still runs), bounded by closeMs or
   * until `until` (performance.now() time), whichever is later: a quick drain leaves the rest of
   * the stop time to close() (a promoter stopping its services). */
  async close(drainMs: number, closeMs = drainMs, until = 0): Promise<void> {
    this.queue.close();
    const done = await within(this.loop, drainMs);
    if (!done) {
      const n = this.queue.clear();
      this.log.warn(`did not drain within ${drainMs} ms; ${n} events dropped`);
      this.unreported += n;
      this.stop.abort();
    }
    // A plugin's close() is bounded too: one hung receiver must not hold up shutdown.
    const closing = Promise.resolve()
      .then(() => this.receiver.close?.())
      .catch((e) => this.log.warn(`close failed: ${(e as Error).message}`));
    const bound = Math.max(closeMs, Math.round(until - performance.now()));
    if (!(await within(closing, bound))) this.log.warn(`close() did not finish within ${bound} ms`);
  }

  stats(): SlotStats {
    return { depth: this.queue.length, max: this.queue.capacity, dropped: this.queue.dropped, sent: this.sent, errors: this.errors };
  }
}

export class Router {
  private slots = new Map<string, ReceiverSlot>();

  add(slot: ReceiverSlot): void {
    this.slots.set(slot.name, slot);
    slot.start();
  }

  remove(name: string): ReceiverSlot | undefined {
    const s = this.slots.get(name);
    this.slots.delete(name);
    return s;
  }

  get(name: string): ReceiverSlot | undefined {
    return this.slots.get(name);
  }

  all(): ReceiverSlot[] {
    return [...this.slots.values()];
  }

  /** Offers the event to every receiver (except `skip`); never waits. */
  dispatch(e: StorageEvent, skip?: string): void {
    for (const s of this.slots.values()) if (s.name !== skip) s.offer(e);
  }
}
