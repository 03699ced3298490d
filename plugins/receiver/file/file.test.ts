import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as v from "valibot";
import plugin, { schema } from "./index.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import type { StorageEvent } from "../../../src/plugin-kit/event.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const events: StorageEvent[] = readFileSync(join(import.meta.dir, "testdata/two-events.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

test("file receiver appends NDJSON, mode 0640, byte-for-byte the events", async () => {
  const path = join(dir, "sub/events.ndjson");
  const { ctx, rec } = makeContext();
  const r = await plugin.create(v.parse(schema, { path, fsync: "always" }), ctx);
  await r.start?.();
  await r.send(events);
  await r.send(events.slice(0, 1));
  const lines = readFileSync(path, "utf8").split("\n");
  expect(lines.slice(0, 3).map((l) => JSON.parse(l))).toEqual([...events, events[0]!]);
  expect(lines[3]).toBe("");
  expect(statSync(path).mode & 0o777).toBe(0o640);
  expect(rec.counts.get("written")).toBe(3);
  expect(rec.counts.get("fsyncs")).toBe(2);
  await r.close?.();
});

test("file receiver reopen() follows logrotate: new events go to a new file at the path", async () => {
  const path = join(dir, "rot.ndjson");
  const { ctx } = makeContext();
  const r = await plugin.create(v.parse(schema, { path, fsync: "never" }), ctx);
  await r.start?.();
  await r.send(events.slice(0, 1));
  renameSync(path, path + ".1");
  await r.send(events.slice(1, 2)); // still the old (renamed) file
  await r.reopen?.();
  await r.send(events.slice(0, 1));
  await r.close?.();
  expect(readFileSync(path + ".1", "utf8").trim().split("\n")).toHaveLength(2);
  expect(readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l).event_id)).toEqual([events[0]!.event_id]);
});

test("file receiver interval fsync happens once per interval, and at close", async () => {
  const path = join(dir, "interval.ndjson");
  const { ctx, rec } = makeContext();
  const r = await plugin.create(v.parse(schema, { path, fsync: "interval", fsync_interval: "50ms" }), ctx);
  await r.start?.();
  for (let i = 0; i < 5; i++) await r.send(events);
  expect(rec.counts.get("fsyncs") ?? 0).toBe(0);
  await Bun.sleep(120);
  expect(rec.counts.get("fsyncs")).toBe(1);
  await r.send(events);
  await r.close?.();
  expect(rec.counts.get("fsyncs")).toBe(2);
});

test("file receiver schema rejects a missing path and a bad policy", () => {
  expect(v.safeParse(schema, {}).success).toBe(false);
  expect(v.safeParse(schema, { path: "/x", fsync: "sometimes" }).success).toBe(false);
});
