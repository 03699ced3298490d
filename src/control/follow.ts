// Live event fan-out for `GET /v1/events?follow=1` on the control socket and the web listener's
// WebSocket (the daemon makes one hub for both): one subscription to the daemon, a ring of the
// most recent events (so a replay has no gap while the store's receiver queue catches up), and one
// bounded queue per client. A client whose queue overflows is dropped and counted; the daemon never
// waits for a client. The stream is NDJSON; empty lines are keep-alives (the first one at once).
import type { StorageEvent } from "../event.ts";
import { matchesFilter, type EventFilter, type EventStoreService } from "../store-api.ts";
import { parseTime } from "../event.ts";
import { mark, tracing } from "../util/stage-trace.ts";

export interface FollowOptions {
  /** Most recent events kept in memory for the replay seam. */
  ringSize: number;
  /** Bytes of NDJSON a client may have queued before it is dropped. */
  clientMaxBytes: number;
  /** Events per store page during a replay. */
  pageSize: number;
  /** A quiet stream gets an empty line this often: it finds dead clients and keeps proxies open. */
  heartbeatMs: number;
}

/** The daemon's hub: 4 MiB per client (lines are shared, so slow clients together retain about one
 * window of recent events, not one each), an empty line every 5 s on a quiet stream. */
export const FOLLOW_DEFAULTS: FollowOptions = { ringSize: 4096, clientMaxBytes: 4 << 20, pageSize: 1000, heartbeatMs: 5000 };

const encoder = new TextEncoder();
const NEWLINE = new Uint8Array([10]);
const encodeLine = (e: StorageEvent) => encoder.encode(JSON.stringify(e) + "\n");

/** An event and its NDJSON line, encoded on first use (never while nobody follows) and shared. */
class Line {
  private encoded?: Uint8Array;
  constructor(readonly event: StorageEvent, private counters: { follow_encoded: number }) {}
  get bytes(): Uint8Array {
    if (!this.encoded) {
      this.counters.follow_encoded++;
      this.encoded = encodeLine(this.event);
    }
    return this.encoded;
  }
}

/** One follow stream: events pass the filter, queue up, and leave through the ReadableStream. */
class FollowClient {
  private queue: Uint8Array[] = [];
  private bytes = 0;
  /** Date.now() of the last line queued. */
  lastPush = 0;
  private wake?: () => void;
  private drainWaiters: (() => void)[] = [];
  /** Live events that arrive while the replay runs (emitted after it, deduplicated). */
  held: Line[] | undefined;
  heldIds = new Set<string>();
  heldBytes = 0;
  done = false;
  readonly stream: ReadableStream<Uint8Array>;
  private controller?: ReadableStreamDefaultController<Uint8Array>;

  constructor(readonly filter: EventFilter, private maxBytes: number, private onEnd: (c: FollowClient, reason: "closed" | "dropped") => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => void (this.controller = c),
      pull: (c) => this.pull(c),
      cancel: () => this.end("closed"),
    }, { highWaterMark: 0 });
  }

  /** Queues one line; false (and the client is dropped) when the client is too far behind. */
  push(line: Uint8Array): boolean {
    if (this.done) return false;
    if (this.queue.length && this.bytes + line.length > this.maxBytes) {
      this.drop();
      return false;
    }
    this.queue.push(line);
    this.bytes += line.length;
    this.lastPush = Date.now();
    this.wake?.();
    return true;
  }

  hold(line: Line): void {
    if (this.done) return;
    this.heldBytes += line.bytes.length;
    if (this.heldBytes > this.maxBytes) return this.drop();
    this.held!.push(line);
    this.heldIds.add(line.event.event_id);
  }

  /** Bytes waiting for the client. */
  get queued(): number {
    return this.bytes;
  }

  /** Queues one line without ever dropping the client: waits while it is over half its bound. */
  async pushPaced(line: Uint8Array): Promise<boolean> {
    if (this.bytes > this.maxBytes / 2) await this.drained();
    return this.push(line);
  }

  /** Resolves once the client has taken its queue below half of the bound (replay pacing). */
  drained(): Promise<void> {
    if (this.done || this.bytes <= this.maxBytes / 2) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (!this.queue.length && !this.done) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    if (!this.queue.length) return this.closeIfFinished();
    // Up to ~64 KiB of lines per pull, each enqueued as the bytes every client shares: copying
    // them into one chunk per client per pull made garbage that more than doubled RSS under load.
    let n = 0;
    let size = 0;
    while (n < this.queue.length && (n === 0 || size + this.queue[n]!.length <= 65536)) size += this.queue[n++]!.length;
    const lines = this.queue.splice(0, n);
    this.bytes -= size;
    if (this.bytes <= this.maxBytes / 2) for (const w of this.drainWaiters.splice(0)) w();
    for (const l of lines) c.enqueue(l);
    if (!this.queue.length) this.closeIfFinished();
  }

  private finishing = false;

  /** Ends the stream after what is queued (daemon stop): the client sees a clean end. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.finishing = true;
    this.onEnd(this, "closed");
    for (const w of this.drainWaiters.splice(0)) w();
    if (this.queue.length) this.wake?.(); // pull() sends the rest, then closes
    else this.closeIfFinished();
  }

  private closeIfFinished(): void {
    if (!this.finishing) return;
    this.finishing = false;
    try { this.controller?.close(); } catch { /* cancelled meanwhile */ }
  }

  private drop(): void {
    if (this.done) return;
    this.end("dropped");
    try { this.controller?.error(new Error("follow client too slow: dropped")); } catch { /* closed */ }
  }

  private end(reason: "closed" | "dropped"): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.bytes = 0;
    this.held = undefined;
    this.wake?.();
    for (const w of this.drainWaiters.splice(0)) w();
    this.onEnd(this, reason);
  }
}

export class FollowHub {
  private ring: Line[] = [];
  private ringStart = 0;
  private clients = new Set<FollowClient>();
  /** follow_encoded: live events encoded (once each, whatever the number and kind of clients). */
  readonly counters = { follow_clients: 0, follow_started: 0, follow_dropped: 0, follow_events: 0, follow_encoded: 0 };
  private unsubscribe: () => void;
  private heartbeat: ReturnType<typeof setInterval>;

  constructor(subscribe: (l: (e: StorageEvent) => void) => () => void, private opts: FollowOptions) {
    this.unsubscribe = subscribe((e) => this.onEvent(e));
    this.heartbeat = setInterval(() => {
      const quiet = Date.now() - opts.heartbeatMs;
      for (const c of this.clients) if (c.lastPush < quiet && !c.queued) c.push(NEWLINE);
    }, Math.max(50, opts.heartbeatMs / 2));
  }

  private onEvent(e: StorageEvent): void {
    const line = new Line(e, this.counters);
    if (this.ring.length < this.opts.ringSize) this.ring.push(line);
    else {
      this.ring[this.ringStart] = line;
      this.ringStart = (this.ringStart + 1) % this.opts.ringSize;
    }
    for (const c of this.clients) {
      if (!matchesFilter(e, c.filter)) continue;
      if (c.held) c.hold(line);
      else if (c.push(line.bytes)) this.counters.follow_events++;
    }
    if (tracing) mark("follow", e.raw);
  }

  private ringSnapshot(): Line[] {
    return this.ring.length < this.opts.ringSize ? this.ring.slice() : [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
  }

  /**
   * Opens a follow stream. With sinceUs: first the stored events from then on (page by page, paced
   * by the client), then the in-memory recent ones the store has not caught up with, then the live
   * ones that arrived meanwhile; each event once, none missing at the seams.
   */
  open(filter: EventFilter, sinceUs: number | undefined, store: EventStoreService | undefined): ReadableStream<Uint8Array> {
    const client = new FollowClient(filter, this.opts.clientMaxBytes, (c, reason) => {
      this.clients.delete(c);
      this.counters.follow_clients = this.clients.size;
      if (reason === "dropped") this.counters.follow_dropped++;
    });
    this.counters.follow_started++;
    // An empty line first: the response headers leave now, not with the first event.
    client.push(NEWLINE);
    if (sinceUs === undefined) {
      this.clients.add(client);
      this.counters.follow_clients = this.clients.size;
      return client.stream;
    }
    // Same tick: the ring snapshot and the subscription see a single cut of the event sequence.
    client.held = [];
    this.clients.add(client);
    this.counters.follow_clients = this.clients.size;
    const recent = this.ringSnapshot().filter((l) => matchesFilter(l.event, filter) && parseTime(l.event.time) >= sinceUs);
    void this.replay(client, filter, sinceUs, store, recent);
    return client.stream;
  }

  private async replay(client: FollowClient, filter: EventFilter, sinceUs: number, store: EventStoreService | undefined, recent: Line[]): Promise<void> {
    const skip = new Set<string>();
    for (const l of this.ringSnapshot()) skip.add(l.event.event_id);
    if (store) {
      try { store.flush(); } catch { /* the query still sees what is written */ }
      let after: { time_us: number; seq: number } | undefined;
      for (;;) {
        if (client.done) return;
        let page: ReturnType<EventStoreService["query"]>;
        try {
          page = store.query({ ...filter, since_us: sinceUs, limit: this.opts.pageSize, ...(after ? { after } : {}) });
        } catch {
          break; // the store was closed under us (a reload restarted it): go on from memory
        }
        for (const s of page) {
          const id = s.event.event_id;
          if (skip.has(id) || client.heldIds.has(id)) continue;
          if (!(await client.pushPaced(encodeLine(s.event)))) return;
        }
        if (page.length < this.opts.pageSize) break;
        const last = page[page.length - 1]!;
        after = { time_us: last.time_us, seq: last.seq };
      }
    }
    for (const l of recent) if (!(await client.pushPaced(l.bytes))) return;
    // Live events held during the replay, then straight through.
    while (client.held && client.held.length) {
      const batch = client.held.splice(0);
      client.heldBytes = 0;
      for (const l of batch) if (!(await client.pushPaced(l.bytes))) return;
    }
    client.held = undefined;
    client.heldIds.clear();
  }

  /** Bytes queued for all clients together (bounded by clients x clientMaxBytes). */
  queuedBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.queued;
    return n;
  }

  /** Ends every stream cleanly (daemon stop) and leaves the daemon's event stream. */
  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const c of [...this.clients]) c.finish();
  }
}
