// nats receiver: publishes each event as JSON to <prefix>.<hostname>.<system>.<event_type>, core
// NATS (at most once) or JetStream with publish acks (msgID = event_id, so a retry after a
// reconnect is de-duplicated by the server). Buffers while disconnected, bounded, drops counted.
import * as v from "valibot";
import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { Backoff, backoffDelay, sleep } from "../../../src/plugin-kit/backoff.ts";
import { NATS_CONNECTION_KEYS, StreamName, SubjectPrefix, connectionOptions, natsLibs, subjectToken } from "../../../src/plugin-kit/nats.ts";
import { Heartbeater } from "./heartbeat.ts";
import sample from "./sample.toml" with { type: "text" };

export { subjectToken };

export function subjectOf(prefix: string, e: StorageEvent): string {
  return `${prefix}.${subjectToken(e.hostname)}.${subjectToken(e.system)}.${subjectToken(e.event_type)}`;
}

const { servers, ...auth } = NATS_CONNECTION_KEYS;

const schema = v.strictObject({
  servers,
  subject_prefix: SubjectPrefix,
  jetstream: v.pipe(v.optional(v.boolean(), false), v.description("Publish to JetStream and wait for the stream's ack (at least once; the event_id is the message id).")),
  stream: StreamName,
  create_stream: v.pipe(v.optional(v.boolean(), true), v.description("Create the stream (file storage, subjects <subject_prefix>.>) when it does not exist.")),
  publish_timeout: v.pipe(v.optional(Duration, "5s"), v.description("Wait this long for a JetStream ack (or a core flush) before buffering the event for a retry.")),
  buffer_max: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10_000), v.description("Events kept while disconnected or unacknowledged; beyond that the oldest are dropped and counted.")),
  relay: v.pipe(v.optional(v.boolean(), false), v.description("Also publish events of other hosts (on a fleet node: the ones its nats sender consumed); off, they are counted as foreign_skipped.")),
  heartbeat: v.pipe(v.optional(Duration, "10s"), v.description('Publish this host\'s status summary to <subject_prefix>_heartbeat.<hostname> this often, for fleet nodes ("0s" = off).')),
  ...auth,
});

type Opts = v.InferOutput<typeof schema>;

export class NatsReceiver {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connected = false;
  private buffer: StorageEvent[] = [];
  private draining: Promise<void> | undefined;
  private stop = new AbortController();
  private starting: Promise<void> = Promise.resolve();
  private heartbeat: Heartbeater;
  private reconnectAttempt = 0;
  private stats = { sent: 0, buffered_total: 0, dropped: 0, errors: 0, reconnects: 0, last_error: "", last_latency_ms: 0 };

  constructor(private opts: Opts, private conn: ConnectionOptions, private ctx: ReceiverContext) {
    ctx.signal.addEventListener("abort", () => this.stop.abort(), { once: true });
    const backoff = { minTimeout: opts.reconnect_min, maxTimeout: opts.reconnect_max };
    this.conn = { ...conn, reconnectDelayHandler: () => backoffDelay(Math.min(this.reconnectAttempt++, 30), backoff) };
    this.heartbeat = new Heartbeater(ctx, opts.subject_prefix, opts.heartbeat, () => (this.connected ? this.nc : undefined));
  }

  /** Connects in the background (events buffer meanwhile) and starts the heartbeat timer. */
  start(): void {
    this.starting = this.connectLoop();
    this.heartbeat.start();
  }

  private async connectLoop(): Promise<void> {
    const backoff = new Backoff({ minTimeout: this.opts.reconnect_min, maxTimeout: this.opts.reconnect_max, signal: this.stop.signal });
    const lib = await natsLibs();
    while (!this.stop.signal.aborted) {
      try {
        this.nc = await lib.core.connect(this.conn);
        break;
      } catch (e) {
        this.fail(`connect: ${(e as Error).message}`, "connect");
        if (!(await backoff.next())) return;
      }
    }
    const nc = this.nc;
    if (!nc) return;
    if (this.stop.signal.aborted) {
      await nc.close();
      return;
    }
    this.connected = true;
    this.ctx.count("connects");
    void this.heartbeat.beat();
    if (this.opts.jetstream) {
      this.js = lib.js.jetstream(nc, { timeout: this.opts.publish_timeout });
      await this.ensureStream(nc);
    }
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.connected = false;
        else if (s.type === "reconnect") {
          this.connected = true;
          this.reconnectAttempt = 0;
          this.stats.reconnects++;
          this.ctx.count("reconnects");
          if (this.opts.jetstream) await this.ensureStream(nc);
          void this.drain();
        }
      }
    })();
    void this.drain();
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    if (!this.opts.create_stream) return;
    try {
      const jsm = await (await natsLibs()).js.jetstreamManager(nc, { timeout: this.opts.publish_timeout });
      try {
        await jsm.streams.info(this.opts.stream);
      } catch {
        await jsm.streams.add({ name: this.opts.stream, subjects: [`${this.opts.subject_prefix}.>`], storage: "file" as never });
        this.ctx.log.info(`nats: created stream ${this.opts.stream} for ${this.opts.subject_prefix}.>`);
      }
    } catch (e) {
      this.fail(`stream ${this.opts.stream}: ${(e as Error).message}`, "stream");
    }
  }

  private fail(msg: string, kind: string): void {
    this.stats.last_error = msg;
    this.ctx.log.once(kind, `nats: ${msg}`);
  }

  private keep(events: readonly StorageEvent[]): void {
    for (const e of events) {
      if (this.buffer.length >= this.opts.buffer_max) {
        this.buffer.shift();
        this.stats.dropped++;
        this.ctx.count("dropped");
        this.ctx.log.once("dropped", `nats: buffer full (${this.opts.buffer_max} events); dropping the oldest`);
      }
      this.buffer.push(e);
      this.stats.buffered_total++;
    }
  }

  /** Publishes; returns the events that did not make it (to buffer). */
  private async publish(events: readonly StorageEvent[]): Promise<StorageEvent[]> {
    const nc = this.nc;
    if (!nc || !this.connected || nc.isClosed()) return [...events];
    const t0 = performance.now();
    if (this.js) {
      const js = this.js;
      const results = await Promise.allSettled(
        events.map((e) => js.publish(subjectOf(this.opts.subject_prefix, e), JSON.stringify(e), { msgID: e.event_id, timeout: this.opts.publish_timeout })),
      );
      const failed: StorageEvent[] = [];
      results.forEach((r, i) => {
        if (r.status === "fulfilled") {
          this.stats.sent++;
          this.ctx.count("sent");
          if (r.value.duplicate) this.ctx.count("duplicates");
        } else {
          failed.push(events[i]!);
          this.fail(`publish: ${(r.reason as Error).message}`, "publish");
        }
      });
      this.stats.last_latency_ms = Math.round(performance.now() - t0);
      return failed;
    }
    try {
      for (const e of events) nc.publish(subjectOf(this.opts.subject_prefix, e), JSON.stringify(e));
      // A PING/PONG round trip: the server has read everything published before it.
      await Promise.race([nc.flush(), sleep(this.opts.publish_timeout).then(() => Promise.reject(new Error("flush timed out")))]);
      this.stats.sent += events.length;
      this.ctx.count("sent", events.length);
      this.stats.last_latency_ms = Math.round(performance.now() - t0);
      return [];
    } catch (e) {
      // Core NATS: whether these reached the server is unknown; count, do not resend (at most once).
      this.stats.errors += events.length;
      this.ctx.count("errors", events.length);
      this.fail(`publish: ${(e as Error).message}`, "publish");
      return [];
    }
  }

  /** Retries buffered events while connected, with backoff between failed rounds. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      const backoff = new Backoff({ minTimeout: this.opts.reconnect_min, maxTimeout: this.opts.reconnect_max, signal: this.stop.signal });
      while (this.buffer.length && this.connected && !this.stop.signal.aborted) {
        const batch = this.buffer.splice(0, 256);
        const failed = await this.publish(batch);
        if (failed.length) {
          this.buffer.unshift(...failed);
          this.ctx.count("retries", failed.length);
          if (!(await backoff.next())) break;
        } else backoff.reset();
      }
    })().finally(() => (this.draining = undefined));
    return this.draining;
  }

  async send(all: readonly StorageEvent[]): Promise<void> {
    // On a fleet node, other hosts' events came from the stream: publishing them again would loop.
    const events = this.opts.relay ? all : all.filter((e) => e.hostname === this.ctx.hostname);
    if (events.length < all.length) this.ctx.count("foreign_skipped", all.length - events.length);
    if (!events.length) return;
    if (this.buffer.length || !this.connected) {
      this.keep(events);
      if (this.connected) await this.drain();
      return;
    }
    const failed = await this.publish(events);
    if (failed.length) {
      this.ctx.count("retries", failed.length);
      this.keep(failed);
      void this.drain();
    }
  }

  /** Waits up to ms for buffered events to be published, then closes. */
  async close(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (this.buffer.length && this.connected && Date.now() < end) {
      await this.drain();
      if (this.buffer.length) await sleep(50);
    }
    this.stop.abort();
    this.heartbeat.stop();
    await Promise.race([this.starting, sleep(1000)]);
    const nc = this.nc;
    if (nc && !nc.isClosed()) await Promise.race([nc.drain().catch(() => nc.close()), sleep(1000).then(() => nc.close())]);
  }

  status(): Record<string, unknown> {
    return { servers: this.opts.servers, connected: this.connected, buffered: this.buffer.length, ...this.stats };
  }
}

export default definePlugin({
  kind: "receiver",
  name: "nats",
  description: "Publishes events to NATS subjects <prefix>.<host>.<system>.<event_type>, optionally with JetStream acks.",
  schema,
  sample,
  validate: (config, env) => void connectionOptions(config, env.hostname),
  create(config, ctx) {
    return new NatsReceiver(config, connectionOptions(config, ctx.hostname), ctx);
  },
});
