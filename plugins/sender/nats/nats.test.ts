// nats sender: the host tracker and the id memory on a fake clock, then a real nats-server with
// JetStream: events from three hosts arrive once with their own ids; redeliveries are dropped; a
// restarted consumer resumes from its ack floor; heartbeats feed the fleet service.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parse as parseToml } from "smol-toml";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { freePort, makeEvent, pluginOptions, until, waitForPort } from "../../../test/helpers/receiver.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import type { Heartbeat } from "../../../src/plugin-kit/fleet.ts";
import type { StorageEvent } from "../../../src/plugin-api.ts";
import plugin, { NatsSender } from "./index.ts";
import { RecentIds } from "./dedup.ts";
import { STORE_SERVICE, type EventStoreService } from "../../../src/plugin-kit/store.ts";
import { FleetTracker, type FleetDraft } from "./fleet.ts";

const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
const tmp = mkdtempSync(join(tmpdir(), "fleet19-nats-sender-"));
const procs: ReturnType<typeof Bun.spawn>[] = [];
const clients: NatsConnection[] = [];
const senders: NatsSender[] = [];

afterEach(async () => {
  for (const s of senders.splice(0)) await s.close();
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  for (const p of procs.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hbOf = hb;
function hb(hostname: string, over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    hostname, time: new Date().toISOString(), interval_s: 10, version: "0.1.0", uptime_s: 5, senders: [], drops: 0,
    drbd: [], promoter: [], ...over,
  };
}

describe("nats sender units", () => {
  test("sample.toml validates as a sender and equals the README's Configuration block", () => {
    const sample = readFileSync(join(import.meta.dir, "sample.toml"), "utf8");
    expect(plugin.sample).toBe(sample);
    const t = (parseToml(sample) as Record<string, Record<string, unknown>>).fleet!;
    expect([t.type, t.plugin]).toEqual(["sender", "nats"]);
    const r = v.safeParse(plugin.schema, pluginOptions(t));
    expect(r.issues?.map((i) => i.message) ?? []).toEqual([]);
    expect(/## Configuration\s*\n+```toml\n([\s\S]*?)```/.exec(readFileSync(join(import.meta.dir, "README.md"), "utf8"))?.[1]).toBe(sample);
    const d = v.parse(plugin.schema, {});
    expect([d.stream, d.subject_prefix, d.durable]).toEqual(["STOREVENTD", "storeventd", "storeventd-fleet"]);
  });

  test("RecentIds: repeats are recognized, memory is bounded, the oldest are forgotten first", () => {
    const ids = new RecentIds(3);
    expect(["a", "b", "a", "c"].map((x) => ids.add(x))).toEqual([true, true, false, true]);
    expect(ids.add("d")).toBe(true); // evicts a
    expect(ids.size).toBe(3);
    expect(ids.add("a")).toBe(true);
    expect(ids.add("c")).toBe(false);
  });

  test("FleetTracker: HOST_SILENT after 3 missed heartbeats, once; HOST_BACK on return", () => {
    const t = new FleetTracker(10_000, 60_000);
    const out: FleetDraft[] = [];
    t.onHeartbeat(hb("h1", { interval_s: 2 }), 0, out);
    t.onEvent(makeEvent({ hostname: "h2" }), 0, out); // no heartbeats: never silent
    t.tick(6000, out);
    expect(out).toEqual([]);
    t.tick(6001, out);
    t.tick(9000, out);
    expect(out.map((d) => [d.event_type, d.hostname])).toEqual([["HOST_SILENT", "h1"]]);
    expect(t.hostsAt(9000).map((h) => [h.hostname, h.state])).toEqual([["h1", "silent"], ["h2", "alive"]]);
    t.onHeartbeat(hb("h1", { interval_s: 2 }), 9500, out);
    expect(out.map((d) => d.event_type)).toEqual(["HOST_SILENT", "HOST_BACK"]);
    expect(t.hostsAt(9500)[1]!.events_1h).toEqual({ info: 0, warn: 0, error: 1 });
    expect(t.hostsAt(9500)[1]!.last_error).toContain("multipath path sdc");
    expect(t.hostsAt(3_700_000)[1]!.events_1h).toEqual({ info: 0, warn: 0, error: 0 });
  });

  test("FleetTracker on a recorded heartbeat: the host, its version and drops, its DRBD resource as reported", () => {
    const beat = JSON.parse(readFileSync(join(import.meta.dir, "testdata/heartbeat.json"), "utf8")) as Heartbeat;
    const t = new FleetTracker(10_000, 60_000);
    const out: FleetDraft[] = [];
    t.onHeartbeat(beat, 1_000, out);
    expect(out).toEqual([]);
    expect(t.hostsAt(1_000)).toEqual([{
      hostname: "stor-2", state: "alive", last_seen: new Date(1_000).toISOString(), version: "0.1.0", uptime_s: 3600, drops: 0,
      events_1h: { info: 0, warn: 0, error: 0 },
    }]);
    expect(t.drbd()).toEqual([{ host: "stor-2", resource: beat.drbd[0]! }]);
    t.tick(30_999, out);
    expect(out).toEqual([]); // within 3 intervals of 10 s
    t.tick(31_001, out);
    expect(out.map((d) => d.event_type)).toEqual(["HOST_SILENT"]);
  });

  test("FleetTracker: DRBD_MULTIPLE_PRIMARY once per set of Primaries; DRBD_NO_PRIMARY after the configured time", () => {
    const t = new FleetTracker(10_000, 30_000);
    const out: FleetDraft[] = [];
    const res = (role: string) => [{ name: "r0", role }];
    const hb = (h: string, o: Partial<Heartbeat>) => hbOf(h, { interval_s: 100, ...o });
    t.onHeartbeat(hb("h1", { drbd: res("Primary"), promoter: [{ resource: "r0" }] }), 0, out);
    t.onHeartbeat(hb("h2", { drbd: res("Secondary") }), 0, out);
    t.onHeartbeat(hb("h2", { drbd: res("Primary") }), 1000, out);
    t.onHeartbeat(hb("h2", { drbd: res("Primary") }), 2000, out);
    expect(out.map((d) => [d.event_type, d.extension?.hosts])).toEqual([["DRBD_MULTIPLE_PRIMARY", ["h1", "h2"]]]);
    expect(t.drbd().map((r) => [r.host, r.resource.role])).toEqual([["h1", "Primary"], ["h2", "Primary"]]);
    out.length = 0;
    t.onHeartbeat(hb("h1", { drbd: res("Secondary"), promoter: [{ resource: "r0" }] }), 3000, out);
    t.onHeartbeat(hb("h2", { drbd: res("Secondary") }), 3000, out);
    t.tick(32_999, out);
    expect(out).toEqual([]);
    t.tick(33_000, out);
    t.tick(34_000, out);
    expect(out.map((d) => [d.event_type, d.extension?.resource])).toEqual([["DRBD_NO_PRIMARY", "r0"]]);
  });
});

async function startServer(): Promise<number> {
  const port = await freePort();
  procs.push(Bun.spawn([natsServer!, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", mkdtempSync(join(tmp, "js-"))], { stdout: "ignore", stderr: "ignore" }));
  await waitForPort(port, "nats-server");
  return port;
}

async function client(port: number): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  clients.push(nc);
  return nc;
}

function makeSender(port: number, opts: Record<string, unknown> = {}, stored: StorageEvent[] = []) {
  const { ctx, rec, abort } = makeContext({ instance: "fleet", hostname: "fleet-node" });
  ctx.services.provide(STORE_SERVICE, { query: () => stored.map((event, i) => ({ seq: i, time_us: 0, event })).reverse() } as unknown as EventStoreService);
  const s = (plugin.create(v.parse(plugin.schema, { servers: [`127.0.0.1:${port}`], ...opts }), ctx)) as NatsSender;
  senders.push(s);
  s.start();
  const done = s.run();
  return { s, rec, abort, done };
}

describe("nats sender against a real nats-server", () => {
  test(`three hosts' events arrive once, unchanged; redelivered ids are dropped; a restart resumes from the ack floor`, async () => {
    expect(natsServer).toBeTruthy();
    const port = await startServer();
    const nc = await client(port);
    const js = jetstream(nc);
    await (await jetstreamManager(nc)).streams.add({ name: "STOREVENTD", subjects: ["storeventd.>"] });
    const sent: StorageEvent[] = [];
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const e = makeEvent({ hostname: `host-${i % 3}`, time: `2026-12-07T03:00:${String(i % 60).padStart(2, "0")}.123456Z` });
        sent.push(e);
        await js.publish(`storeventd.${e.hostname}.multipath.DM_MPATH_PATH_DOWN`, JSON.stringify(e), { msgID: e.event_id });
      }
    };
    await publish(300);
    // The same event again under another msg id (past the server's duplicate window): the sender drops it.
    await js.publish("storeventd.host-0.multipath.DM_MPATH_PATH_DOWN", JSON.stringify(sent[0]), { msgID: "again" });
    // The fleet node's own event coming back: skipped.
    await js.publish("storeventd.fleet-node.multipath.DM_MPATH_PATH_DOWN", JSON.stringify(makeEvent({ hostname: "fleet-node" })));
    const a = makeSender(port);
    await until(() => a.rec.injected.length === 300 && a.s.status().acked === 302);
    expect(a.rec.injected).toEqual(sent); // ids, times and hostnames unchanged, in order
    expect(a.rec.counts.get("duplicates")).toBe(1);
    expect(a.s.status()).toMatchObject({ own: 1, duplicates: 1, injected: 300 });
    await a.s.close();
    await a.done;
    await publish(200); // while no fleet node runs
    // An event stored before a crash whose ack was lost comes again: the restarted node knows its id from the store.
    await js.publish("storeventd.host-1.multipath.DM_MPATH_PATH_DOWN", JSON.stringify(sent[299]), { msgID: "redelivered" });
    const b = makeSender(port, {}, sent.slice(0, 300));
    await until(() => b.rec.injected.length === 200 && b.s.status().duplicates === 1);
    await Bun.sleep(300);
    expect(b.rec.injected).toEqual(sent.slice(300)); // resumed at the ack floor: nothing lost, nothing twice
    const info = await (await jetstreamManager(nc)).consumers.info("STOREVENTD", "storeventd-fleet");
    await until(() => b.s.status().acked === 201);
    await Bun.sleep(200);
    expect(b.s.status()).toMatchObject({ received: 201, duplicates: 1, acked: 201 }); // a's acks held: only the new 200 and the resend came
    expect(info.config.ack_policy).toBe("all");
    expect(b.s.status()).toMatchObject({ ack_policy: "all", ack_floor: 503, handled_above_floor: 0 }); // 300 + 2 + 200 + 1 messages
  });

  const consumerInfo = async (nc: NatsConnection, durable = "storeventd-fleet") => (await jetstreamManager(nc)).consumers.info("STOREVENTD", durable);
  async function publishEvents(nc: NatsConnection, n: number): Promise<StorageEvent[]> {
    const js = jetstream(nc);
    const sent = Array.from({ length: n }, (_, i) => makeEvent({ hostname: `host-${i % 3}` }));
    for (const e of sent) await js.publish(`storeventd.${e.hostname}.multipath.DM_MPATH_PATH_DOWN`, JSON.stringify(e), { msgID: e.event_id });
    return sent;
  }

  test("cumulative acks never pass a delivery this node did not see: it is redelivered and nothing is lost", async () => {
    const port = await startServer();
    const nc = await client(port);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "STOREVENTD", subjects: ["storeventd.>"] });
    const sent = await publishEvents(nc, 100);
    // Another client takes the first 5 deliveries of the durable and never acks: for the fleet node
    // they are lost deliveries, as in a NATS server failover.
    await jsm.consumers.add("STOREVENTD", { durable_name: "storeventd-fleet", ack_policy: AckPolicy.All, ack_wait: 2_000_000_000, filter_subject: "storeventd.>", max_ack_pending: 20_000 });
    const lost = await (await jetstream(nc).consumers.get("STOREVENTD", "storeventd-fleet")).fetch({ max_messages: 5 });
    const lostSeqs: number[] = [];
    for await (const m of lost) lostSeqs.push(m.seq);
    expect(lostSeqs).toEqual([1, 2, 3, 4, 5]);
    const a = makeSender(port, { ack_wait: "2s" });
    await until(() => a.rec.injected.length === 95);
    await Bun.sleep(300); // a few ack rounds and a look-up of the gap
    const held = await consumerInfo(nc);
    expect(held.ack_floor.stream_seq).toBe(0); // a cumulative ack of 100 would have dropped 1..5
    expect(a.s.status()).toMatchObject({ ack_floor: 0, handled_above_floor: 95 });
    await until(() => a.rec.injected.length === 100, 10_000); // redelivered after ack_wait
    await until(() => a.s.status().ack_floor === 100);
    await Bun.sleep(100);
    expect(new Set(a.rec.injected.map((e) => e.event_id))).toEqual(new Set(sent.map((e) => e.event_id)));
    expect(a.rec.injected.length).toBe(100);
    const info = await consumerInfo(nc);
    expect([info.ack_floor.stream_seq, info.num_ack_pending, info.num_pending]).toEqual([100, 0, 0]);
  }, 20_000);

  test("holes in the stream (other subjects, a deleted message, a bad message) are passed: everything gets acked", async () => {
    const port = await startServer();
    const nc = await client(port);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "STOREVENTD", subjects: ["storeventd.>", "other.>"] });
    const js = jetstream(nc);
    const want: StorageEvent[] = [];
    const ev = async () => {
      const e = makeEvent({ hostname: "host-1" });
      want.push(e);
      return (await js.publish("storeventd.host-1.multipath.DM_MPATH_PATH_DOWN", JSON.stringify(e), { msgID: e.event_id })).seq;
    };
    await ev();
    for (let i = 0; i < 3; i++) await js.publish("other.x", "not ours");
    await ev();
    const gone = await js.publish("storeventd.host-1.multipath.DM_MPATH_PATH_DOWN", JSON.stringify(makeEvent({})));
    await jsm.streams.deleteMessage("STOREVENTD", gone.seq);
    await js.publish("storeventd.host-2.x.y", "{not an event");
    await ev();
    await js.publish("other.y", "not ours");
    const last = await ev();
    const a = makeSender(port, { create_stream: false });
    await until(() => a.rec.injected.length === 4);
    expect(a.rec.injected).toEqual(want);
    expect(a.rec.counts.get("bad_messages")).toBe(1);
    await until(() => a.s.status().ack_floor === last, 5000); // holes are looked up after 1 s
    expect(a.s.status().holes_skipped).toBe(5); // other.x 3 times, the deleted message, other.y
    const info = await consumerInfo(nc);
    expect([info.ack_floor.stream_seq, info.num_ack_pending, info.num_pending]).toEqual([last, 0, 0]);
  }, 20_000);

  test("a durable created with explicit acks (by an older version) keeps them: every message acked", async () => {
    const port = await startServer();
    const nc = await client(port);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "STOREVENTD", subjects: ["storeventd.>"] });
    await jsm.consumers.add("STOREVENTD", { durable_name: "old", ack_policy: AckPolicy.Explicit, filter_subject: "storeventd.>", max_ack_pending: 20_000, ack_wait: 30_000_000_000 });
    await publishEvents(nc, 50);
    const a = makeSender(port, { durable: "old" });
    await until(() => a.rec.injected.length === 50 && a.s.status().acked === 50);
    await until(() => false, 200);
    const info = await consumerInfo(nc, "old");
    expect([info.config.ack_policy, info.ack_floor.stream_seq, info.num_ack_pending]).toEqual(["explicit", 50, 0]);
    expect(a.s.status().ack_policy).toBe("explicit");
    expect(a.rec.logs.join("\n")).toContain("acks each message");
  }, 20_000);

  test("heartbeats: hosts and DRBD roles in the fleet service; two Primaries give DRBD_MULTIPLE_PRIMARY", async () => {
    const port = await startServer();
    const nc = await client(port);
    const a = makeSender(port, { heartbeat: "1s" });
    await until(() => (a.rec.counts.get("connects") ?? 0) > 0);
    await Bun.sleep(300);
    for (const h of ["h1", "h2"]) nc.publish(`storeventd_heartbeat.${h}`, JSON.stringify(hb(h, { drbd: [{ name: "r9", role: "Primary" }] })));
    nc.publish("storeventd_heartbeat.bad", "{not json");
    await until(() => a.s.fleet.hosts().length === 2 && a.rec.events.length > 0);
    expect(a.rec.events.map((d) => d.event_type)).toEqual(["DRBD_MULTIPLE_PRIMARY"]);
    expect(a.s.fleet.drbd().map((r) => `${r.host}:${r.resource.name}:${r.resource.role}`)).toEqual(["h1:r9:Primary", "h2:r9:Primary"]);
    expect(a.rec.counts.get("bad_heartbeats")).toBe(1);
  });
});
