// The dm parser inside the real core pipeline: both halves of a path failure, fed as the senders
// would, come out as ONE storage event with the kernel record's time and both records in raw.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Pipeline } from "../../../src/plugin-kit/testing.ts";
import { Registry } from "../../../src/plugin-kit/testing.ts";
import { RootLog } from "../../../src/plugin-kit/testing.ts";
import { ServiceMap } from "../../../src/plugin-kit/testing.ts";
import { createDeviceDirectory } from "../../../src/plugin-kit/devices.ts";
import { loadConfig } from "../../../src/plugin-kit/testing.ts";
import { formatTime, type StorageEvent } from "../../../src/plugin-kit/event.ts";
import type { AnyPluginDef } from "../../../src/plugin-api.ts";
import dm from "./index.ts";
import { loadCases } from "../../../test/helpers/parser-fixtures.ts";

test("Pipeline + dm: kmsg and uevent halves of two path failures -> PATH_DOWN, PATH_DOWN, NO_PATHS", async () => {
  const registry = new Registry([dm as unknown as AnyPluginDef]);
  const pipeline = new Pipeline({
    registry, log: new RootLog({ write() {} }), devices: createDeviceDirectory(), services: new ServiceMap(), native: null, mode: "replay",
  });
  await pipeline.apply(loadConfig({ registry, path: "t.toml", text: `[main]\nhostname = "h"\ndedup_window = "0s"\n[dm]\ntype = "parser"\n` }));
  const events: StorageEvent[] = [];
  pipeline.subscribe((e) => events.push(e));
  const c = loadCases(join(import.meta.dir, "testdata")).find((x) => x.name === "mpath-kmsg-first")!;
  for (const r of c.records) pipeline.handleRecord(r);
  pipeline.flushAll();
  await pipeline.stop(1000);

  expect(events.map((e) => [e.event_type, e.severity, e.system, e.dev_name, e.source])).toEqual([
    ["DM_MPATH_PATH_DOWN", "warn", "multipath", "8:16", expect.any(String)],
    ["DM_MPATH_PATH_DOWN", "warn", "multipath", "65:32", expect.any(String)],
    ["DM_MPATH_NO_PATHS", "error", "multipath", "dm-3", expect.any(String)],
  ]);
  const first = c.records[0]!;
  expect(events[0]!.time).toBe(formatTime(first.time_us!));
  expect(events[0]!.raw.split("\n")[0]).toBe(first.raw);
  expect(events[0]!.raw).toContain("DM_ACTION=PATH_FAILED");
  expect(events[2]!.dev_wwid).toBe("3600140512ab34cd56ef7890123456789");
});
