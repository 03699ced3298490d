// DRBD model subscribers behind bounded queues: a subscriber that throws is logged and counted
// while the others get every update; a full queue drops by its when-full policy and counts; the
// model's state after a resync is the new one even when an event consumer throws in the diff.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DrbdModel, type DrbdUpdate } from "../../src/drbd/model.ts";
import { decodeEvents2Text, restartMarker } from "../../src/drbd/events2.ts";
import { makeContext } from "../helpers/context.ts";
import { Pipeline } from "../../src/pipeline.ts";
import { Registry } from "../../src/registry.ts";
import { RootLog } from "../../src/util/log.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { createDeviceDirectory } from "../../src/devices/index.ts";
import type { StorageEvent } from "../../src/event.ts";

const dump = readFileSync(join(import.meta.dir, "streams/dump.events2"), "utf8");
// The same cluster after a drbdsetup restart: res0 was promoted meanwhile.
const promoted = dump.replace(
  "exists resource name:res0 role:Secondary suspended:no force-io-failures:no write-ordering:flush may_promote:yes",
  "exists resource name:res0 role:Primary suspended:no force-io-failures:no write-ordering:flush may_promote:no",
);
const UPDATES = 6 + 12 + 12 + 24; // the dump: resources, devices, connections, peer devices

function feed(m: DrbdModel, text: string, emit: Parameters<DrbdModel["apply"]>[1] = () => {}): void {
  for (const r of decodeEvents2Text(text)) m.apply(r, emit);
}

describe("DRBD subscribers", () => {
  test("a throwing subscriber is logged and counted; the others get every update, the resync included", async () => {
    expect(promoted).not.toBe(dump);
    const m = new DrbdModel();
    const bad = makeContext({ instance: "umh[0]" });
    const a: DrbdUpdate[] = [];
    const b: DrbdUpdate[] = [];
    m.subscribe((u) => void a.push(u), { owner: makeContext({ instance: "first" }).ctx });
    m.subscribe(() => {
      throw new Error("handler bug");
    }, { owner: bad.ctx });
    m.subscribe((u) => void b.push(u), { owner: makeContext({ instance: "last" }).ctx });
    feed(m, dump);
    await Bun.sleep(0);
    expect(a).toHaveLength(UPDATES);
    expect(b).toEqual(a);
    m.apply(restartMarker(), () => {});
    const events: string[] = [];
    feed(m, promoted, (d) => void events.push(d.event_type));
    expect(events).toEqual(["DRBD_ROLE_CHANGED", "DRBD_EVENTS_RESTARTED"]);
    // The model is live on the new dump at once, whatever its subscribers do.
    expect(m.status()).toMatchObject({ resyncing: false, resyncs: 1 });
    expect(m.resource("res0")!.role).toBe("Primary");
    await Bun.sleep(0);
    expect(a.slice(UPDATES).map((u) => `${u.kind}:${u.eventType}:${u.resource}`)).toEqual(["resource:Change:res0"]);
    expect(b).toEqual(a);
    expect(bad.rec.counts.get("update_errors")).toBe(UPDATES + 1);
    // Logged, rate-limited (not once per update).
    expect(bad.rec.logs).toEqual([`warn: DRBD update handler failed (1 so far): handler bug`]);
    expect(m.subscribers().map((s) => [s.name, s.delivered, s.errors, s.dropped])).toEqual([
      ["first", UPDATES + 1, 0, 0], ["umh[0]", 0, UPDATES + 1, 0], ["last", UPDATES + 1, 0, 0],
    ]);
  });

  test("a consumer of the model's events that throws during a resync does not leave the old state live", () => {
    const m = new DrbdModel();
    feed(m, dump);
    m.apply(restartMarker(), () => {});
    expect(() => feed(m, promoted, () => {
      throw new Error("router bug");
    })).toThrow("router bug");
    expect(m.status()).toMatchObject({ resyncing: false });
    expect(m.resource("res0")!.role).toBe("Primary");
  });

  test("a full queue drops by its when-full policy and counts the drops; batch sizes are followed", async () => {
    const m = new DrbdModel();
    const oldest = makeContext({ instance: "oldest", queue: { max_events: 5, when_full: "drop_oldest", batch: 2 } });
    const newest = makeContext({ instance: "newest", queue: { max_events: 5, when_full: "drop_newest", batch: 100 } });
    const all: DrbdUpdate[] = [];
    const o: DrbdUpdate[] = [];
    const n: DrbdUpdate[] = [];
    m.subscribe((u) => void all.push(u));
    m.subscribe((u) => void o.push(u), { owner: oldest.ctx });
    m.subscribe((u) => void n.push(u), { owner: newest.ctx });
    feed(m, dump); // one record batch: every update is queued before any subscriber runs
    await Bun.sleep(0);
    expect(all).toHaveLength(UPDATES);
    expect(o).toEqual(all.slice(-5));
    expect(n).toEqual(all.slice(0, 5));
    expect(oldest.rec.counts.get("updates_dropped")).toBe(UPDATES - 5);
    expect(newest.rec.counts.get("updates_dropped")).toBe(UPDATES - 5);
    expect(m.subscribers().map((s) => [s.name, s.dropped, s.depth])).toEqual([
      ["(anonymous)", 0, 0], ["oldest", UPDATES - 5, 0], ["newest", UPDATES - 5, 0],
    ]);
  });

  test("prepare() filters and captures at the update (a resync shows the new state); unsubscribe drops what is queued", async () => {
    const m = new DrbdModel();
    const got: string[] = [];
    const off = m.subscribe((s: string) => void got.push(s), {
      prepare: (u, model) => (u.kind === "resource" ? `${u.eventType}:${u.resource}:${model.resource(u.resource)?.role}` : undefined),
    });
    feed(m, dump);
    await Bun.sleep(0);
    const roles = [...dump.matchAll(/^exists resource name:(\S+) role:(\S+)/gm)].map((x) => `Exists:${x[1]}:${x[2]}`);
    expect(roles).toHaveLength(6);
    expect(got).toEqual(roles);
    m.apply(restartMarker(), () => {});
    feed(m, promoted);
    expect(got).toHaveLength(6); // queued, not delivered yet
    m.flushSubscribers();
    expect(got.slice(6)).toEqual(["Change:res0:Primary"]);
    m.apply(restartMarker(), () => {});
    feed(m, dump);
    off();
    await Bun.sleep(0);
    expect(got).toHaveLength(7);
  });

  test("the daemon reports a subscriber's drops as RECEIVER_DROPPED, as for a receiver's queue", async () => {
    const p = new Pipeline({
      registry: new Registry([]), log: new RootLog({ write: () => undefined }), devices: createDeviceDirectory(),
      services: new ServiceMap(), native: null, mode: "daemon",
    });
    const seen: StorageEvent[] = [];
    p.subscribe((e) => void seen.push(e));
    const slow = makeContext({ instance: "umh[0]", queue: { max_events: 10, when_full: "drop_oldest", batch: 10 } });
    p.drbd.subscribe(() => undefined, { owner: slow.ctx });
    for (const r of decodeEvents2Text(dump)) p.handleRecord(r);
    await Bun.sleep(0);
    p.tick(Date.now() * 1000 + 10_000_000);
    const drops = seen.filter((e) => e.event_type === "RECEIVER_DROPPED");
    expect(drops.map((e) => e.extension)).toEqual([{ receiver: "umh[0]", dropped: UPDATES - 10, reason: "drbd_update_queue_full" }]);
    expect(p.counters.get("drbd_updates_dropped")).toBe(UPDATES - 10);
    p.tick(Date.now() * 1000 + 20_000_000);
    expect(seen.filter((e) => e.event_type === "RECEIVER_DROPPED")).toHaveLength(1); // reported once
  });
});
