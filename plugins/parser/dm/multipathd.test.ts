// multipathd's journal lines through the dm parser (testdata/multipathd.journal), alone and joined
// with the kernel's report of the same path.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { makeParser, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import { expectedEvents, fixtureRecord, readJournalFixture, runJournalFixture, type JournalFixtureLine } from "../../../test/helpers/journal-fixtures.ts";
import type { EventDraft, UeventRecord } from "../../../src/plugin-api.ts";

const fixture = readJournalFixture(join(import.meta.dir, "testdata", "multipathd.journal"));
const sorted = (a: string[][]) => a.map((x) => x.join(" ")).sort();
const line = (msg: string, n = 1): JournalFixtureLine => ({ daemon: "multipathd", priority: 5, msg, line: n });
// drivers/md/dm-mpath.c fail_path(): DMWARN("%s: Failing path %s.", dm_table_device_name(...), pgpath->path.dev->name)
const KERNEL_FAIL = "4,2817,5123456789,-;device-mapper: multipath: 253:3: Failing path 8:16.\n";

describe("dm parser: multipathd lines", () => {
  test("each multipathd fixture line gives the event its fixture names, once", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(sorted(got.map((d) => [d.event_type, d.severity, d.dev_name!]))).toEqual(sorted(expectedEvents(fixture)));
    const down = got.filter((d) => d.event_type === "DM_MPATH_PATH_DOWN");
    expect(down.map((d) => d.extension)).toEqual([
      expect.objectContaining({ path: "8:16", map_name: "mpatha", remaining_paths: 1, checker: "tur", checker_msg: "reports path is down", reported_by: ["multipathd"] }),
      expect.objectContaining({ path: "8:32", map_name: "mpatha", remaining_paths: 0, reported_by: ["multipathd"] }),
    ]);
  });

  test("kernel line first, then multipathd's: one event with remaining_paths and both records", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    for (const r of readKmsgFixture(KERNEL_FAIL)) parser.parse(r, emit);
    parser.parse(fixtureRecord(line("checker failed path 8:16 in map mpatha")), emit);
    parser.parse(fixtureRecord(line("mpatha: remaining active paths: 1", 2)), emit);
    parser.flush!(emit, true);
    expect(out.map((d) => d.event_type)).toEqual(["DM_MPATH_PATH_DOWN"]);
    expect(out[0]!.extension).toMatchObject({ path: "8:16", map: "253:3", map_dev: "dm-3", remaining_paths: 1, reported_by: ["kmsg", "multipathd"] });
    expect(out[0]!.raw!.split("\n").length).toBe(3);
  });

  test("multipathd first, then the kernel line: one event", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    parser.parse(fixtureRecord(line("checker failed path 8:16 in map mpatha")), emit);
    parser.parse(fixtureRecord(line("mpatha: remaining active paths: 0", 2)), emit);
    for (const r of readKmsgFixture(KERNEL_FAIL)) parser.parse(r, emit);
    parser.flush!(emit, true);
    expect(out.map((d) => d.event_type)).toEqual(["DM_MPATH_PATH_DOWN", "DM_MPATH_NO_PATHS"]);
    expect(out[0]!.extension).toMatchObject({ remaining_paths: 0, reported_by: ["kmsg", "multipathd"] });
    expect(out[1]!.dev_name).toBe("dm-3");
  });

  test("multipathd's line after the kernel's event went out joins it (nothing new) unless it says 0 paths", async () => {
    const { parser } = await makeParser(plugin, { merge_window: "0s" });
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    for (const r of readKmsgFixture(KERNEL_FAIL)) parser.parse(r, emit);
    parser.flush!(emit, false);
    expect(out.length).toBe(1);
    parser.parse(fixtureRecord(line("checker failed path 8:16 in map mpatha")), emit);
    parser.parse(fixtureRecord(line("mpatha: remaining active paths: 0", 2)), emit);
    parser.flush!(emit, true);
    expect(out.map((d) => d.event_type)).toEqual(["DM_MPATH_PATH_DOWN", "DM_MPATH_NO_PATHS"]);
    expect(out[1]!.extension).toMatchObject({ map_name: "mpatha", remaining_paths: 0, reported_by: ["multipathd"] });
  });

  test("kernel line, multipathd's lines and dm's uevent: one event reported by all three", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    const [k] = readKmsgFixture(KERNEL_FAIL);
    // drivers/md/dm-uevent.c dm_path_uevent(): DM_ACTION, DM_SEQNUM, DM_PATH, DM_NR_VALID_PATHS on the map's change uevent
    const uevent: UeventRecord = {
      kind: "uevent", source: "udev", action: "change", devpath: "/devices/virtual/block/dm-3", origin: "kernel", time_us: k!.time_us! + 300,
      raw: "change@/devices/virtual/block/dm-3", props: { DM_TARGET: "multipath", DM_ACTION: "PATH_FAILED", DM_PATH: "8:16",
        DM_NR_VALID_PATHS: "1", DM_NAME: "mpatha", DM_UUID: "mpath-3600a", MAJOR: "253", MINOR: "3", DEVNAME: "dm-3" },
    };
    parser.parse(k!, emit);
    parser.parse(fixtureRecord(line("checker failed path 8:16 in map mpatha")), emit);
    parser.parse(fixtureRecord(line("mpatha: remaining active paths: 1", 2)), emit);
    parser.parse(uevent, emit);
    parser.flush!(emit, true);
    expect(out.map((d) => d.event_type)).toEqual(["DM_MPATH_PATH_DOWN"]);
    expect(out[0]!.extension).toMatchObject({ valid_paths: 1, remaining_paths: 1, map_name: "mpatha", reported_by: ["kmsg", "uevent", "multipathd"] });
  });
});
