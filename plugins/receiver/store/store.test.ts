import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parse as parseToml } from "smol-toml";
import plugin from "./index.ts";
import { matchesFilter } from "../../../src/plugin-kit/store.ts";
import { STORE_SERVICE, type EventStoreService } from "../../../src/plugin-kit/store.ts";
import { EventStore } from "./sqlite.ts";
import { makeEvent } from "../../../test/helpers/fake-daemon.ts";
import { makeContext } from "../../../test/helpers/context.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "storeventd-store-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse("2026-11-20T12:00:00Z") * 1000;

function filled(): EventStore {
  const s = new EventStore({ path: join(tempDir(), "events.db"), maxAgeUs: 0, maxBytes: 0 });
  s.add([
    makeEvent({ time_us: T0 + 1, system: "scsi", severity: "error", event_type: "SCSI_SENSE", dev_name: "sdb" }),
    makeEvent({ time_us: T0 + 2, system: "multipath", severity: "warn", event_type: "DM_MPATH_PATH_DOWN", dev_name: "dm-0" }),
    makeEvent({ time_us: T0 + 3, system: "fs", severity: "info", event_type: "FS_MOUNTED", dev_name: "sdc1" }),
    makeEvent({ time_us: T0 + 4, system: "scsi", severity: "warn", event_type: "SCSI_TIMEOUT", dev_name: "sdc" }),
    makeEvent({ time_us: T0 + 5, system: "drbd", severity: "info", event_type: "DRBD_ROLE_CHANGED", dev_name: "drbd1000" }),
  ]);
  s.flush();
  return s;
}
const types = (rows: { event: { event_type: string } }[]) => rows.map((r) => r.event.event_type);

describe("EventStore", () => {
  test("EventStore.query() returns every field as written, extension and owners as objects", () => {
    const s = new EventStore({ path: join(tempDir(), "events.db"), maxAgeUs: 0, maxBytes: 0 });
    const e = makeEvent({ owners: [{ dev_name: "dm-3", dev_wwid: "3600a0b80001" }], extension: { sense_key: 3, nested: { a: [1, "x"] } }, raw: "line 1\nline 2\u0000é" });
    s.add([e]);
    expect(s.query({})).toEqual([]); // buffered until flush
    s.flush();
    const rows = s.query({});
    expect(rows.length).toBe(1);
    expect(rows[0]!.event).toEqual(e);
    s.close();
  });

  test("EventStore.query() filters by system, min severity, type, dev, time range", () => {
    const s = filled();
    expect(types(s.query({ system: ["scsi"] }))).toEqual(["SCSI_SENSE", "SCSI_TIMEOUT"]);
    expect(types(s.query({ system: ["fs", "drbd"] }))).toEqual(["FS_MOUNTED", "DRBD_ROLE_CHANGED"]);
    expect(types(s.query({ severity: "warn" }))).toEqual(["SCSI_SENSE", "DM_MPATH_PATH_DOWN", "SCSI_TIMEOUT"]);
    expect(types(s.query({ severity: "error" }))).toEqual(["SCSI_SENSE"]);
    expect(types(s.query({ event_type: ["FS_MOUNTED", "SCSI_TIMEOUT"] }))).toEqual(["FS_MOUNTED", "SCSI_TIMEOUT"]);
    expect(types(s.query({ dev_name: ["dm-0"] }))).toEqual(["DM_MPATH_PATH_DOWN"]);
    expect(types(s.query({ since_us: T0 + 3 }))).toEqual(["FS_MOUNTED", "SCSI_TIMEOUT", "DRBD_ROLE_CHANGED"]);
    expect(types(s.query({ since_us: T0 + 2, until_us: T0 + 4 }))).toEqual(["DM_MPATH_PATH_DOWN", "FS_MOUNTED"]);
    expect(types(s.query({ system: ["scsi"], severity: "error", dev_name: ["sdb"] }))).toEqual(["SCSI_SENSE"]);
    expect(s.query({ dev_name: [] })).toEqual([]);
    s.close();
  });

  test("EventStore.query() filters by host and by text (SQL and the live matcher agree; % and _ are literal)", () => {
    const s = new EventStore({ path: join(tempDir(), "events.db"), maxAgeUs: 0, maxBytes: 0 });
    const evs = [
      makeEvent({ time_us: T0 + 1, hostname: "node-a", msg: "I/O error on READ at sector 100999", raw: "blk: sector 100999" }),
      makeEvent({ time_us: T0 + 2, hostname: "node-b", msg: "path 8:32 failed", raw: "Failing path 8:32." }),
      makeEvent({ time_us: T0 + 3, hostname: "node-b", msg: "100% full", raw: "pool is 100% full" }),
      makeEvent({ time_us: T0 + 4, hostname: "node-c", msg: "1000 full", raw: "x_y" }),
    ];
    s.add(evs);
    s.flush();
    const ids = (f: Parameters<typeof s.query>[0]) => s.query(f).map((r) => r.event.event_id);
    const live = (f: Parameters<typeof matchesFilter>[1]) => evs.filter((e) => matchesFilter(e, f)).map((e) => e.event_id);
    for (const f of [{ hostname: ["node-b"] }, { text: "SECTOR 100999" }, { text: "failing PATH" }, { text: "100%" }, { text: "x_y" }, { text: "100_ full" }, { text: "node-c" }, { text: "nothing" }]) {
      expect(ids(f)).toEqual(live(f));
    }
    expect(ids({ text: "100%" })).toEqual([evs[2]!.event_id]);
    expect(ids({ text: "100_ full" })).toEqual([]); // unescaped, _ would match the 0 of "1000 full"
    expect(ids({ hostname: ["node-b"], text: "8:32" })).toEqual([evs[1]!.event_id]);
    s.close();
  });

  test("EventStore.query() limit and order give the oldest or newest, and keyset pages cover all once", () => {
    const s = filled();
    expect(types(s.query({ limit: 2 }))).toEqual(["SCSI_SENSE", "DM_MPATH_PATH_DOWN"]);
    expect(types(s.query({ limit: 2, order: "desc" }))).toEqual(["DRBD_ROLE_CHANGED", "SCSI_TIMEOUT"]);
    // Same timestamps: the insertion sequence breaks ties.
    s.add(Array.from({ length: 7 }, (_, i) => makeEvent({ time_us: T0 + 10, msg: `tie ${i}` })));
    s.flush();
    const seen: string[] = [];
    let after: { time_us: number; seq: number } | undefined;
    for (;;) {
      const page = s.query({ limit: 3, ...(after ? { after } : {}) });
      seen.push(...page.map((r) => r.event.msg));
      if (page.length < 3) break;
      after = { time_us: page.at(-1)!.time_us, seq: page.at(-1)!.seq };
    }
    expect(seen.length).toBe(12);
    expect(seen.slice(5)).toEqual(Array.from({ length: 7 }, (_, i) => `tie ${i}`));
    // The same backwards, and a cursor tighter than since/until wins.
    const back: string[] = [];
    let before: { time_us: number; seq: number } | undefined;
    for (;;) {
      const page = s.query({ order: "desc", limit: 4, until_us: T0 + 100, ...(before ? { after: before } : {}) });
      back.push(...page.map((r) => r.event.msg));
      if (page.length < 4) break;
      before = { time_us: page.at(-1)!.time_us, seq: page.at(-1)!.seq };
    }
    expect(back).toEqual([...seen].reverse());
    const mid = s.query({ since_us: T0, limit: 100 })[6]!;
    expect(s.query({ since_us: T0, after: { time_us: mid.time_us, seq: mid.seq } }).map((r) => r.event.msg)).toEqual(seen.slice(7));
    s.close();
  });

  test("EventStore.prune() deletes events older than max age, a bounded batch per pass", () => {
    let now = T0 + 40 * 86400e6;
    const s = new EventStore({ path: join(tempDir(), "events.db"), maxAgeUs: 30 * 86400e6, maxBytes: 0, pruneBatch: 100, now: () => now });
    s.add(Array.from({ length: 250 }, (_, i) => makeEvent({ time_us: T0 + i, msg: "old" })));
    s.add(Array.from({ length: 10 }, () => makeEvent({ time_us: now - 86400e6, msg: "new" })));
    s.flush(); // one pass already ran here
    expect(s.stats().pruned_age).toBe(100);
    expect(s.prune()).toBe(100);
    expect(s.prune()).toBe(50);
    expect(s.prune()).toBe(0);
    const left = s.query({});
    expect(left.map((r) => r.event.msg)).toEqual(Array(10).fill("new"));
    expect(s.stats().events).toBe(10);
    now += 2 * 86400e6;
    expect(s.prune()).toBe(0);
    s.close();
  });

  test("EventStore keeps the used size under max_size by deleting the oldest events", () => {
    const path = join(tempDir(), "events.db");
    const maxBytes = 1 << 20;
    const s = new EventStore({ path, maxAgeUs: 0, maxBytes, pruneBatch: 5000 });
    let n = 0;
    for (let flush = 0; flush < 40; flush++) {
      s.add(Array.from({ length: 100 }, () => makeEvent({ time_us: T0 + ++n, raw: "x".repeat(1000) })));
      s.flush();
      expect(s.usedBytes()).toBeLessThanOrEqual(maxBytes + 120 * 1100 + 64 * 1024);
    }
    const st = s.stats();
    expect(st.pruned_size).toBeGreaterThan(0);
    expect(st.events + st.pruned_size).toBe(4000);
    const rows = s.query({});
    expect(rows.length).toBe(st.events);
    // What is left is the newest, contiguous.
    expect(rows.at(-1)!.time_us).toBe(T0 + 4000);
    expect(rows[0]!.time_us).toBe(T0 + 4000 - st.events + 1);
    s.close();
    // Freed pages went back to the file system (incremental vacuum), the file stays near the limit.
    expect(statSync(path).size).toBeLessThan(maxBytes * 1.5);
  });

  test("EventStore reopens an existing file with its events and count", () => {
    const path = join(tempDir(), "events.db");
    const a = new EventStore({ path, maxAgeUs: 0, maxBytes: 0 });
    a.add([makeEvent(), makeEvent()]);
    a.close(); // close flushes
    const b = new EventStore({ path, maxAgeUs: 0, maxBytes: 0 });
    expect(b.stats().events).toBe(2);
    expect(b.query({}).length).toBe(2);
    b.close();
    const db = new Database(path, { readonly: true });
    expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    db.close();
  });
});

describe("store receiver plugin", () => {
  test("sample.toml is valid config and is the README's Configuration block", () => {
    const sample = readFileSync(join(import.meta.dir, "sample.toml"), "utf8");
    const { type: _t, ...opts } = (parseToml(sample) as Record<string, Record<string, unknown>>).store!;
    expect(v.safeParse(plugin.schema, opts).success).toBe(true);
    const readme = readFileSync(join(import.meta.dir, "README.md"), "utf8");
    const block = /## Configuration\s+```toml\n([\s\S]*?)```/.exec(readme);
    expect(block?.[1]).toBe(sample);
  });

  test("store schema rejects a bad duration, size and unknown key", () => {
    expect(v.safeParse(plugin.schema, { flush_interval: "soon" }).success).toBe(false);
    expect(v.safeParse(plugin.schema, { max_size: "big" }).success).toBe(false);
    expect(v.safeParse(plugin.schema, { flush_intervall: "1s" }).success).toBe(false);
    expect(v.parse(plugin.schema, {})).toEqual({ path: "", flush_interval: 1000, max_age: 30 * 86_400_000, max_size: "256MB", max_pending: 10000 });
  });

  test("store receiver writes within one flush interval, provides the query service and closes cleanly", async () => {
    const dir = tempDir();
    const { ctx, rec } = makeContext({ stateDir: dir });
    const r = await plugin.create(v.parse(plugin.schema, { flush_interval: "50ms" }), ctx);
    await r.start?.();
    const svc = ctx.services.get(STORE_SERVICE)!;
    expect(svc).toBeDefined();
    const evs = [makeEvent(), makeEvent(), makeEvent()];
    await r.send(evs);
    const db = new Database(join(dir, "events.db"), { readonly: true });
    const count = () => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n;
    expect(count()).toBe(0);
    await Bun.sleep(200);
    expect(count()).toBe(3);
    expect(rec.counts.get("written")).toBe(3);
    await r.send([makeEvent()]);
    expect(svc.query({}).length).toBe(3);
    svc.flush();
    expect(svc.query({}).length).toBe(4);
    expect(r.status!()).toMatchObject({ events: 4, written: 4 });
    await r.send([makeEvent()]);
    await r.close!();
    expect(count()).toBe(5);
    expect(ctx.services.get(STORE_SERVICE)).toBeUndefined();
    db.close();
  });

  test("store receiver forces a flush at max_pending", async () => {
    const dir = tempDir();
    const { ctx } = makeContext({ stateDir: dir });
    const r = await plugin.create(v.parse(plugin.schema, { flush_interval: "1h", max_pending: 10 }), ctx);
    await r.start?.();
    await r.send(Array.from({ length: 9 }, () => makeEvent()));
    const svc = ctx.services.get(STORE_SERVICE)!;
    expect(svc.stats().pending).toBe(9);
    await r.send([makeEvent()]);
    expect(svc.stats().pending).toBe(0);
    expect(svc.stats().events).toBe(10);
    await r.close!();
  });
});

test("EventStore keeps real daemon output byte for byte (multi-record raw, owners, nested extension)", () => {
  const file = join(import.meta.dir, "testdata/replayed-events.ndjson");
  const events = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(events.length).toBeGreaterThanOrEqual(3);
  const s = new EventStore({ path: join(tempDir(), "events.db"), maxAgeUs: 0, maxBytes: 0 });
  s.add(events);
  s.flush();
  expect(s.query({}).map((r) => JSON.stringify(r.event)).sort()).toEqual(events.map((e) => JSON.stringify(e)).sort());
  s.close();
});
