// nats sender: makes this daemon a fleet node. Consumes <subject_prefix>.> from a JetStream stream
// through a durable pull consumer (cumulative acks of what every local receiver handled, never past
// a message not seen here, so a restart resumes from the ack floor), injects each remote event unchanged, drops
// redelivered duplicates, and tracks hosts by their heartbeats (HOST_SILENT, HOST_BACK,
// DRBD_MULTIPLE_PRIMARY, DRBD_NO_PRIMARY). Serves FLEET_SERVICE for the console and `status --fleet`.
import * as v from "valibot";
import type { ConnectionOptions, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { ConsumerMessages, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { definePlugin, Duration, type SenderContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { FLEET_SERVICE, heartbeatSubject, type Heartbeat } from "../../../src/plugin-kit/fleet.ts";
import { NATS_CONNECTION_KEYS, StreamName, SubjectPrefix, connectionOptions, natsLibs } from "../../../src/plugin-kit/nats.ts";
import { Backoff, sleep } from "../../../src/plugin-kit/backoff.ts";
import { RecentIds } from "./dedup.ts";
import { AckFloor, ackSequences } from "./ack-floor.ts";
import { FleetTracker, type FleetDraft } from "./fleet.ts";
import { isRemoteEvent } from "./remote.ts";
import { STORE_SERVICE, type EventStoreService } from "../../../src/plugin-kit/store.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

const { servers, ...auth } = NATS_CONNECTION_KEYS;
const Count = (min: number) => v.pipe(v.number(), v.integer(), v.minValue(min));

const schema = v.strictObject({
  servers,
  stream: StreamName,
  subject_prefix: SubjectPrefix,
  durable: v.pipe(v.optional(v.pipe(v.string(), v.regex(/^[^\s.*>/\\]{1,255}$/, "not a valid consumer name")), "storeventd-fleet"), v.description("Durable consumer name: a restarted fleet node resumes from its ack floor.")),
  create_stream: v.pipe(v.optional(v.boolean(), true), v.description("Create the stream (file storage, subjects <subject_prefix>.>, `replicas` copies) when it does not exist.")),
  replicas: v.pipe(v.optional(v.pipe(Count(1), v.maxValue(5)), 1), v.description("Replicas of a stream this sender creates (3 on a cluster).")),
  ack_wait: v.pipe(v.optional(Duration, "30s"), v.description("The server redelivers a message not acked within this time.")),
  max_ack_pending: v.pipe(v.optional(Count(1), 20_000), v.description("Messages delivered but not yet acked, at most.")),
  dedup_ids: v.pipe(v.optional(Count(1), 100_000), v.description("Event ids remembered to drop redelivered duplicates (bounded memory).")),
  heartbeat: v.pipe(v.optional(Duration, "10s"), v.description("Heartbeat interval assumed for a host whose heartbeat does not say; a host is silent after 3 missed heartbeats.")),
  no_primary_after: v.pipe(v.optional(Duration, "60s"), v.description("DRBD_NO_PRIMARY when a promoter-managed resource has had no Primary on any host this long.")),
  ...auth,
});

type Opts = v.InferOutput<typeof schema>;
const ACK_EVERY_MS = 20;
/** A gap in the handled sequences this old is looked up in the stream: a hole is skipped. */
const GAP_CHECK_MS = 1000;

/** A message with the sequences the ack floor needs. */
interface Delivery { seq: number; dseq: number; msg: JsMsg }

export class NatsSender {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private sub: Subscription | undefined;
  private stop = new AbortController();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private pending: Delivery[] = [];
  private jsm: JetStreamManager | undefined;
  /** The durable consumer acks cumulatively (AckAll); false for one created explicit by an older version. */
  private cumulative = true;
  private readonly floor = new AckFloor<Delivery>();
  private gapSince = 0;
  private acking: Promise<void> | undefined;
  private seeded = false;
  readonly ids: RecentIds;
  readonly fleet: FleetTracker;
  private stats = { received: 0, injected: 0, duplicates: 0, own: 0, bad: 0, acked: 0, heartbeats: 0, gap_lookups: 0, holes_skipped: 0, last_error: "" };

  constructor(private opts: Opts, private conn: ConnectionOptions, private ctx: SenderContext) {
    this.ids = new RecentIds(opts.dedup_ids);
    this.fleet = new FleetTracker(opts.heartbeat, opts.no_primary_after);
    // An abort ends run(): the consume loop waits on the message iterator, so close it too.
    this.stop.signal.addEventListener("abort", () => void this.messages?.close().catch(() => {}), { once: true });
    ctx.signal.addEventListener("abort", () => this.stop.abort(), { once: true });
  }

  start(): void {
    this.ctx.services.provide(FLEET_SERVICE, this.fleet);
    this.ticker = setInterval(() => this.emit((out) => this.fleet.tick(Date.now(), out)), 250);
  }

  /** Remembers the newest stored ids: what was stored before a crash but not acked comes again.
   * Called before the first message (the store starts after this sender when listed after it). */
  private seedFromStore(): void {
    if (this.seeded) return;
    this.seeded = true;
    const store = this.ctx.services.get<EventStoreService>(STORE_SERVICE);
    if (!store) return;
    try {
      const n = Math.min(this.opts.dedup_ids, this.opts.max_ack_pending * 2);
      const recent = store.query({ order: "desc", limit: n });
      for (let i = recent.length - 1; i >= 0; i--) this.ids.add(recent[i]!.event.event_id);
      if (recent.length) this.ctx.log.info(`nats: remembered the ids of the newest ${recent.length} stored events (redeliveries of them are dropped)`);
    } catch (e) {
      this.fail(`reading the store: ${(e as Error).message}`, "seed");
    }
  }

  private emit(f: (out: FleetDraft[]) => void): void {
    const out: FleetDraft[] = [];
    f(out);
    for (const d of out) {
      if (d.hostname === undefined) this.ctx.emitEvent({ ...d, extension: { ...d.extension, fleet_node: this.ctx.hostname } });
      else this.ctx.inject(this.complete(d, d.hostname));
    }
  }

  /** A finding about a remote host carries that host's name (so `query --host` finds it). */
  private complete(d: FleetDraft, hostname: string): StorageEvent {
    return {
      event_id: crypto.randomUUID(), time: new Date().toISOString().replace("Z", "000Z"), hostname,
      severity: d.severity, system: d.system, event_type: d.event_type, dev_name: "", dev_path: "", dev_wwid: "", owners: [],
      msg: d.msg, source: this.ctx.instance, raw: "", extension: { ...d.extension, fleet_node: this.ctx.hostname },
    };
  }

  private fail(msg: string, kind: string): void {
    this.stats.last_error = msg;
    this.ctx.log.once(kind, `nats: ${msg}`);
  }

  async run(): Promise<void> {
    this.ctx.ready(); // the daemon is ready without NATS; the consumer catches up from its ack floor
    const backoff = new Backoff({ minTimeout: this.opts.reconnect_min, maxTimeout: this.opts.reconnect_max, signal: this.stop.signal });
    while (!this.stop.signal.aborted) {
      try {
        if (!this.nc) {
          this.nc = await (await natsLibs()).core.connect(this.conn); // reconnects by itself from then on
          this.ctx.count("connects");
        }
        await this.consume(this.nc);
        backoff.reset();
      } catch (e) {
        this.fail(`consume: ${(e as Error).message}`, "consume");
      }
      if (!(await backoff.next())) break;
    }
  }

  private async consume(nc: NatsConnection): Promise<void> {
    const o = this.opts;
    const { js } = await natsLibs();
    const jsm = await js.jetstreamManager(nc);
    if (o.create_stream) {
      try {
        await jsm.streams.info(o.stream);
      } catch {
        await jsm.streams.add({ name: o.stream, subjects: [`${o.subject_prefix}.>`], storage: "file" as never, num_replicas: o.replicas });
        this.ctx.log.info(`nats: created stream ${o.stream} for ${o.subject_prefix}.> (${o.replicas} replicas)`);
      }
    }
    // A durable keeps the ack policy and filter it was created with (the server refuses to change
    // the policy). A new one filters only when the stream holds other subjects too: nats-server 2.9
    // spends about twice the CPU per message on a consumer with a wildcard filter.
    const existing = await jsm.consumers.info(o.stream, o.durable).catch(() => undefined);
    const policy = existing?.config.ack_policy ?? js.AckPolicy.All;
    const all = `${o.subject_prefix}.>`;
    const filter = existing ? (existing.config.filter_subject ?? "") : (await jsm.streams.info(o.stream)).config.subjects?.join() === all ? "" : all;
    const info = await jsm.consumers.add(o.stream, {
      durable_name: o.durable, ack_policy: policy, deliver_policy: js.DeliverPolicy.All,
      ack_wait: o.ack_wait * 1_000_000, max_ack_pending: o.max_ack_pending, ...(filter ? { filter_subject: filter } : {}),
    });
    this.jsm = jsm;
    this.cumulative = policy === js.AckPolicy.All;
    if (!this.cumulative) this.ctx.log.once("explicit", `nats: consumer ${o.durable} acks each message (created so by an older version); delete it to get the faster cumulative acks`);
    this.floor.start(info.ack_floor.stream_seq)?.msg.ack();
    this.sub ??= nc.subscribe(heartbeatSubject(o.subject_prefix, "*"), { callback: (err, m) => void (err || this.onHeartbeat(m.data)) });
    const consumer = await js.jetstream(nc).consumers.get(o.stream, o.durable);
    this.seedFromStore();
    // After a NATS server dies, the re-pull nats.js sends on reconnect can reach the cluster before
    // the consumer has a new leader and be lost; only missed idle heartbeats (2) make it pull again.
    // The library default (15 s each) stalled the fleet node for over 20 s in the fleet test; 1 s.
    const messages = await consumer.consume({ max_messages: Math.min(5000, o.max_ack_pending), expires: 10_000, idle_heartbeat: 1_000 });
    this.messages = messages;
    if (this.stop.signal.aborted) await messages.close();
    for await (const m of messages) this.onMessage(m);
  }

  private onHeartbeat(data: Uint8Array): void {
    let hb: Heartbeat;
    try {
      hb = JSON.parse(new TextDecoder().decode(data));
      if (typeof hb.hostname !== "string" || !Array.isArray(hb.drbd)) throw new Error("not a heartbeat");
    } catch {
      this.ctx.count("bad_heartbeats");
      return;
    }
    if (!Array.isArray(hb.promoter)) hb.promoter = [];
    this.stats.heartbeats++;
    this.emit((out) => this.fleet.onHeartbeat(hb, Date.now(), out));
  }

  private onMessage(m: JsMsg): void {
    this.stats.received++;
    let e: unknown;
    try {
      e = m.json();
    } catch {
      e = undefined;
    }
    if (!isRemoteEvent(e)) {
      this.stats.bad++;
      this.ctx.count("bad_messages");
      this.ctx.log.once("bad", `nats: a message on ${m.subject} is not a storage event; dropped`);
      // A TERM on an AckAll consumer acks every earlier message too (nats-server treats it as an
      // ack), so there it is only handled, and the cumulative ack covers it.
      if (!this.cumulative) return void m.term();
    } else if (e.hostname === this.ctx.hostname) {
      this.stats.own++; // this node's own events reached its pipeline already
    } else if (!this.ids.add(e.event_id)) {
      this.stats.duplicates++;
      this.ctx.count("duplicates");
    } else {
      this.stats.injected++;
      this.ctx.count("events");
      this.ctx.inject(e);
      this.emit((out) => this.fleet.onEvent(e, Date.now(), out));
    }
    const sq = ackSequences((m as JsMsg & { reply?: string }).reply ?? ""); // the class has it, the type not
    if (sq) this.pending.push({ seq: sq.seq, dseq: sq.dseq, msg: m });
    else this.pending.push({ seq: m.info.streamSequence, dseq: m.info.deliverySequence, msg: m });
    this.acking ??= this.ackLoop();
  }

  /** Every 20 ms: waits until every receiver handled (and the store wrote) what came, then acks it:
   * one cumulative ack up to the highest sequence below which everything was handled here. */
  private async ackLoop(): Promise<void> {
    while (this.pending.length || (this.floor.gap !== undefined && !this.stop.signal.aborted)) {
      await sleep(ACK_EVERY_MS);
      const batch = this.pending.splice(0);
      if (batch.length) await this.ctx.delivered(this.opts.ack_wait / 2);
      if (this.cumulative) this.floor.handled(batch)?.msg.ack();
      else for (const d of batch) d.msg.ack();
      this.stats.acked += batch.length;
      if (this.cumulative) await this.checkGap();
    }
    this.acking = undefined;
  }

  /** A gap that lasts: a delivery lost in a failover (redelivered after ack_wait: wait) or a hole
   * (a deleted message, another subject in the stream: skip to the next message of the filter). */
  private async checkGap(): Promise<void> {
    const gap = this.floor.gap;
    if (gap === undefined) return void (this.gapSince = 0);
    const now = Date.now();
    if (!this.gapSince) this.gapSince = now;
    if (now - this.gapSince < GAP_CHECK_MS || !this.jsm) return;
    this.gapSince = now;
    this.stats.gap_lookups++;
    try {
      const next = await this.jsm.streams.getMessage(this.opts.stream, { seq: gap, next_by_subj: `${this.opts.subject_prefix}.>` } as never);
      if (next?.seq === gap) return; // there and not handled: its redelivery comes
      const to = Math.min(next?.seq ?? Infinity, this.floor.maxWaiting + 1);
      this.stats.holes_skipped += to - gap;
      this.floor.skip(to)?.msg.ack();
    } catch (e) {
      this.fail(`looking up stream sequence ${gap}: ${(e as Error).message}`, "gap");
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearInterval(this.ticker);
    if (this.ctx.services.get(FLEET_SERVICE) === this.fleet) this.ctx.services.provide(FLEET_SERVICE, undefined);
    await this.messages?.close().catch(() => {});
    while (this.acking) await this.acking;
    const nc = this.nc;
    if (nc && !nc.isClosed()) await Promise.race([nc.drain().catch(() => nc.close()), sleep(2000).then(() => nc.close())]);
  }

  status(): Record<string, unknown> {
    return {
      servers: this.opts.servers, stream: this.opts.stream, durable: this.opts.durable, ack_policy: this.cumulative ? "all" : "explicit",
      pending_acks: this.pending.length, ack_floor: this.floor.floor, handled_above_floor: this.floor.waiting, remembered_ids: this.ids.size, ...this.stats,
    };
  }
}

export default definePlugin({
  kind: "sender",
  name: "nats",
  emits: EVENTS,
  description: "Fleet node: consumes other hosts' events from a JetStream stream (durable, explicit acks) and tracks hosts by heartbeat.",
  schema,
  sample,
  validate: (config, env) => void connectionOptions(config, env.hostname),
  create(config, ctx) {
    return new NatsSender(config, connectionOptions(config, ctx.hostname), ctx);
  },
});
