// DrbdModel over recorded events2 streams: the final `status --json` document, the typed events,
// drbd-reactor style updates, the resync diff after a drbdsetup restart, and flat memory.
import { describe, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEvents2Text, restartMarker } from "../../src/drbd/events2.ts";
import { type DrbdUpdate, DrbdModel } from "../../src/drbd/model.ts";
import type { EventDraft } from "../../src/event.ts";
import { deviceLine, initialDump, makeResource, resourceDump, statisticsRound } from "../helpers/drbd-cluster.ts";

const streams = join(import.meta.dir, "streams");

function feed(model: DrbdModel, text: string): EventDraft[] {
  const events: EventDraft[] = [];
  for (const rec of decodeEvents2Text(text)) model.apply(rec, (d) => events.push(d));
  return events;
}

function stream(name: string): { text: string; status: unknown } {
  return {
    text: readFileSync(join(streams, `${name}.events2`), "utf8"),
    status: JSON.parse(readFileSync(join(streams, `${name}.status.json`), "utf8")),
  };
}

describe("DrbdModel on recorded streams", () => {
  test("lifecycle: final state equals the expected status --json document", () => {
    const m = new DrbdModel();
    const { text, status } = stream("lifecycle");
    feed(m, text);
    expect(m.toStatusJson()).toEqual(status as unknown[]);
  });

  test("lifecycle: the typed events, in order, with old and new values", () => {
    const m = new DrbdModel();
    const events = feed(m, stream("lifecycle").text);
    expect(events.map((e) => e.event_type)).toEqual([
      "DRBD_ROLE_CHANGED",
      "DRBD_CONNECTION_STATE_CHANGED", "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_CONNECTION_STATE_CHANGED", "DRBD_CONNECTION_STATE_CHANGED", "DRBD_CONNECTION_STATE_CHANGED",
      "DRBD_PEER_ROLE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_RESYNC_STARTED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_RESYNC_DONE", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_CONNECTION_STATE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_QUORUM_LOST", "DRBD_QUORUM_LOST", "DRBD_SUSPENDED",
      "DRBD_CONNECTION_STATE_CHANGED", "DRBD_CONNECTION_STATE_CHANGED", "DRBD_PEER_ROLE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_QUORUM_REGAINED", "DRBD_QUORUM_REGAINED", "DRBD_RESUMED",
      "DRBD_SPLIT_BRAIN",
      "DRBD_CONNECTION_STATE_CHANGED", "DRBD_REPLICATION_STATE_CHANGED", "DRBD_PEER_DISK_STATE_CHANGED",
      "DRBD_CONNECTION_STATE_CHANGED",
      "DRBD_RESOURCE_DESTROYED", "DRBD_RESOURCE_CREATED",
    ]);
    for (const e of events) expect(e.system).toBe("drbd");
    const role = events[0]!;
    expect(role).toMatchObject({ severity: "info", msg: "DRBD resource r0 role Secondary -> Primary" });
    expect(role.extension).toMatchObject({ resource: "r0", old_role: "Secondary", new_role: "Primary", may_promote: false });
    const lost = events.find((e) => e.event_type === "DRBD_QUORUM_LOST")!;
    expect(lost).toMatchObject({ severity: "error", dev_name: "drbd1010", dev_path: "/dev/drbd1010" });
    expect(lost.extension).toMatchObject({ resource: "r1", volume: 0, minor: 1010, old_quorum: true, new_quorum: false });
    const started = events.find((e) => e.event_type === "DRBD_RESYNC_STARTED")!;
    expect(started.extension).toMatchObject({ resource: "r0", volume: 0, peer: 1, conn_name: "alice", new_replication_state: "SyncSource", out_of_sync: 4096 });
    expect(events.find((e) => e.event_type === "DRBD_RESYNC_DONE")!.extension).toMatchObject({ last_done: 81.25 });
    const peerRole = events.find((e) => e.event_type === "DRBD_PEER_ROLE_CHANGED")!;
    expect(peerRole).toMatchObject({ severity: "info", msg: "DRBD r0 peer alice role Unknown -> Secondary" });
    expect(peerRole.extension).toEqual({ resource: "r0", peer: 1, conn_name: "alice", old_role: "Unknown", new_role: "Secondary" });
    const sb = events.find((e) => e.event_type === "DRBD_SPLIT_BRAIN")!;
    expect(sb).toMatchObject({ severity: "error", dev_name: "drbd1020" });
    expect(sb.extension).toEqual({ resource: "web", helper: "split-brain", volume: 0, peer: 2, conn_name: "bob", minor: 1020 });
    expect(sb.raw).toBe("call helper name:web peer-node-id:2 conn-name:bob volume:0 minor:1020 helper:split-brain");
    const susp = events.find((e) => e.event_type === "DRBD_SUSPENDED")!;
    expect(susp.extension).toMatchObject({ old_suspended: "no", new_suspended: "quorum" });
  });

  test("dump: the initial dump builds the state without events; plugins get Exists updates", () => {
    const m = new DrbdModel();
    const updates: DrbdUpdate[] = [];
    m.subscribe((u) => updates.push(u));
    let dumps = 0;
    m.onDump(() => dumps++);
    const { text, status } = stream("dump");
    expect(feed(m, text)).toEqual([]);
    expect(dumps).toBe(1);
    expect(m.isInitialized).toBe(true);
    expect(m.toStatusJson()).toEqual(status as unknown[]);
    m.flushSubscribers();
    expect(new Set(updates.map((u) => u.eventType))).toEqual(new Set(["Exists"]));
    // 6 resources, 12 devices, 12 connections, 24 peer devices
    expect(updates.length).toBe(6 + 12 + 12 + 24);
    const syncing = (m.toStatusJson() as any[])[2].connections[1].peer_devices[1];
    expect(syncing).toMatchObject({ "replication-state": "SyncTarget", "percent-resync-done": 12.5, "out-of-sync": 262144 });
  });

  test("a listener subscribing after the first dump can have the current state replayed as Exists", () => {
    const m = new DrbdModel();
    feed(m, stream("dump").text);
    const late: DrbdUpdate[] = [];
    const plain: DrbdUpdate[] = [];
    m.subscribe((u) => late.push(u), { replay: true });
    m.subscribe((u) => plain.push(u));
    m.flushSubscribers();
    expect(late.length).toBe(6 + 12 + 12 + 24);
    expect(late[0]).toEqual({ kind: "resource", eventType: "Exists", resource: "res0", old: { role: "Unknown", "may-promote": false, "promotion-score": 0 }, new: { role: "Secondary", "may-promote": true, "promotion-score": 10102 } });
    expect(plain).toEqual([]);
  });

  test("updates carry drbd-reactor's old/new state per object; statistics alone update nothing", () => {
    const m = new DrbdModel();
    const r = makeResource("r0", 1000, 1, ["peer"], 0);
    feed(m, initialDump([r]).join("\n"));
    const updates: DrbdUpdate[] = [];
    m.subscribe((u) => updates.push(u));
    const events = feed(m, statisticsRound([r], 3).join("\n"));
    expect(events).toEqual([]);
    m.flushSubscribers();
    expect(updates).toEqual([]);
    expect((m.toStatusJson() as any[])[0].devices[0].written).toBe(24);
    r.devices[0]!.disk = "Failed";
    feed(m, deviceLine("change", r, r.devices[0]!));
    m.flushSubscribers();
    expect(updates).toEqual([{
      kind: "device", eventType: "Change", resource: "r0", volume: 0,
      old: { "disk-state": "UpToDate", client: false, quorum: true, size: 1048576, open: false },
      new: { "disk-state": "Failed", client: false, quorum: true, size: 1048576, open: false },
    }]);
  });

  test("an unknown enum value is kept as printed and counted", () => {
    const m = new DrbdModel();
    const r = makeResource("r0", 1000, 1, [], 0);
    feed(m, initialDump([r]).join("\n"));
    r.devices[0]!.disk = "Frobnicated";
    const ev = feed(m, deviceLine("change", r, r.devices[0]!));
    expect(ev[0]!.extension).toMatchObject({ old_disk_state: "UpToDate", new_disk_state: "Frobnicated" });
    expect((m.toStatusJson() as any[])[0].devices[0]["disk-state"]).toBe("Frobnicated");
    expect(m.unknownValues.get("disk:Frobnicated")).toBe(1);
    expect(m.status().unknown_values).toEqual({ "disk:Frobnicated": 1 });
  });

  test("rename, fence-peer helper, peer role changes; unknown objects are skipped", () => {
    const m = new DrbdModel();
    const r = makeResource("old", 1000, 1, ["peer"]);
    feed(m, initialDump([r]).join("\n"));
    const ev = feed(m, [
      "rename resource name:old new_name:new",
      "change connection name:new peer-node-id:1 conn-name:peer connection:Connected role:Primary congested:no ap-in-flight:0 rs-in-flight:0",
      "call helper name:new peer-node-id:1 conn-name:peer helper:fence-peer",
      "response helper name:new peer-node-id:1 conn-name:peer helper:fence-peer status:4",
      "change frobnicator name:new x:y",
      "change device volume:0 disk:Failed",
    ].join("\n"));
    expect((m.toStatusJson() as any[]).map((x) => x.name)).toEqual(["new"]);
    expect(ev.map((e) => e.event_type)).toEqual(["DRBD_PEER_ROLE_CHANGED", "DRBD_FENCE_PEER"]);
    expect(ev[0]!.extension).toEqual({ resource: "new", peer: 1, conn_name: "peer", old_role: "Secondary", new_role: "Primary" });
    expect(ev[1]).toMatchObject({ severity: "warn", msg: "DRBD new fences peer", extension: { resource: "new", helper: "fence-peer", peer: 1 } });
    expect(m.status()).toMatchObject({ ignored: 2, resources: 1 });
  });
});

describe("DrbdModel resync after a drbdsetup restart", () => {
  function before() {
    return [makeResource("a", 1000, 1, ["p1", "p2"]), makeResource("b", 1010, 2, ["p1"]), makeResource("c", 1020, 1, ["p1"])];
  }
  function after() {
    const rs = before();
    rs[0]!.role = "Primary";
    rs[0]!.connections[1]!.connection = "Connecting";
    rs[0]!.connections[1]!.role = "Unknown";
    rs.splice(2, 1); // c is gone
    rs.push(makeResource("d", 1030, 1, ["p1"]));
    return rs;
  }

  for (const how of ["restart marker", "exists after exists -"] as const) {
    test(`diffs the new dump against the old state (${how})`, () => {
      const m = new DrbdModel();
      feed(m, initialDump(before()).join("\n"));
      const updates: DrbdUpdate[] = [];
      m.subscribe((u) => updates.push(u));
      const events: EventDraft[] = [];
      if (how === "restart marker") m.apply(restartMarker(), (d) => events.push(d));
      events.push(...feed(m, initialDump(after()).join("\n")));
      expect(events.map((e) => e.event_type)).toEqual([
        "DRBD_ROLE_CHANGED", "DRBD_CONNECTION_STATE_CHANGED", "DRBD_RESOURCE_CREATED", "DRBD_RESOURCE_DESTROYED",
        "DRBD_EVENTS_RESTARTED",
      ]);
      m.flushSubscribers(); // updates wait in each subscriber's queue
      expect(events.at(-1)!.extension).toEqual({ changes: updates.length, resources: 3 });
      expect(updates.map((u) => `${u.kind}:${u.eventType}:${u.resource}`)).toEqual([
        "resource:Change:a", "connection:Change:a",
        "resource:Create:d", "device:Create:d", "connection:Create:d", "peer-device:Create:d",
        "resource:Destroy:c",
      ]);
      const fresh = new DrbdModel();
      feed(fresh, initialDump(after()).join("\n"));
      expect(m.toStatusJson()).toEqual(fresh.toStatusJson());
    });
  }

  test("an identical dump gives only DRBD_EVENTS_RESTARTED with 0 changes", () => {
    const m = new DrbdModel();
    feed(m, initialDump(before()).join("\n"));
    const status = m.toStatusJson();
    m.apply(restartMarker(), () => {});
    const events = feed(m, initialDump(before()).join("\n"));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_type: "DRBD_EVENTS_RESTARTED", severity: "warn", extension: { changes: 0, resources: 3 } });
    expect(m.toStatusJson()).toEqual(status);
  });

  test("2000 restarts keep JS objects flat and every update still reaches a subscriber once", () => {
    // Regression (issue 20's soak): each resync wrapped notify in one more bound function.
    const m = new DrbdModel();
    feed(m, initialDump(before()).join("\n"));
    let updates = 0;
    m.subscribe(() => updates++);
    const restart = () => {
      m.apply(restartMarker(), () => {});
      feed(m, initialDump(after()).join("\n"));
      m.apply(restartMarker(), () => {});
      feed(m, initialDump(before()).join("\n"));
      m.flushSubscribers(); // (a subscriber's queue holds 1000)
    };
    for (let i = 0; i < 100; i++) restart();
    Bun.gc(true);
    const functions = () => heapStats().objectTypeCounts.Function ?? 0;
    const f0 = functions();
    m.flushSubscribers();
    const u0 = updates;
    for (let i = 0; i < 1000; i++) restart();
    m.flushSubscribers();
    Bun.gc(true);
    // 7 updates each way (see the diff test above), each delivered once
    expect(updates - u0).toBe(1000 * 2 * 7);
    expect(functions() - f0).toBeLessThan(100);
  });

  test("a dump cut short before the first exists - is replaced by the next one", () => {
    const m = new DrbdModel();
    feed(m, resourceDump("exists", makeResource("half", 1000, 1, ["p"])).slice(0, 3).join("\n"));
    m.apply(restartMarker(), () => {});
    expect(feed(m, initialDump(before()).join("\n"))).toEqual([]);
    expect((m.toStatusJson() as any[]).map((r) => r.name)).toEqual(["a", "b", "c"]);
  });
});

describe("DrbdModel memory", () => {
  test("statistics rounds overwrite in place; unknown keys are bounded per object", () => {
    const m = new DrbdModel();
    const rs = [makeResource("r0", 1000, 2, ["a", "b"])];
    const dump = initialDump(rs);
    feed(m, dump.join("\n"));
    for (let i = 1; i <= 500; i++) feed(m, statisticsRound(rs, i).join("\n"));
    for (let i = 0; i < 1000; i++) feed(m, `change resource name:r0 role:Secondary unknown-key-${i}:x`);
    const r = m.resource("r0")!;
    expect(Object.keys(r.extra).length).toBe(64);
    expect(r.devices.size).toBe(2);
    expect((m.toStatusJson() as any[])[0].devices[1].written).toBe(8 * (500 * 501) / 2);
    expect(m.status().records).toBe(dump.length + 500 * 6 + 1000);
  });
});

describe("DrbdModel.toStatusText()", () => {
  test("prints what `drbdsetup status` prints for the lifecycle stream's end state", () => {
    const m = new DrbdModel();
    feed(m, stream("lifecycle").text);
    expect(m.toStatusText()).toBe([
      "new0 role:Secondary",
      "  disk:Diskless client:yes open:no",
      "  alice connection:Connecting",
      "",
      "r0 role:Primary",
      "  disk:UpToDate open:yes",
      "  alice role:Secondary",
      "    peer-disk:UpToDate",
      "  bob role:Secondary",
      "    peer-disk:UpToDate",
      "",
      "web role:Secondary",
      "  disk:UpToDate open:no",
      "  alice role:Secondary",
      "    peer-disk:UpToDate",
      "  bob connection:StandAlone",
      "",
      "",
    ].join("\n"));
  });

  test("volumes and a running resync", () => {
    const m = new DrbdModel();
    feed(m, stream("dump").text);
    const res2 = m.toStatusText().split("\n\n").find((b) => b.startsWith("res2 "))!;
    expect(res2).toBe([
      "res2 role:Secondary",
      "  volume:0 disk:UpToDate open:no",
      "  volume:1 disk:Inconsistent open:no",
      "  volume:2 disk:UpToDate open:no",
      "  n1 role:Secondary",
      "    volume:0 peer-disk:UpToDate",
      "    volume:1 peer-disk:UpToDate",
      "    volume:2 peer-disk:UpToDate",
      "  n2 role:Secondary",
      "    volume:0 peer-disk:UpToDate",
      "    volume:1 replication:SyncTarget peer-disk:UpToDate done:12.50",
      "    volume:2 peer-disk:UpToDate",
    ].join("\n"));
  });
});
