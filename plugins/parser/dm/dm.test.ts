import { describe, expect, test } from "bun:test";
import plugin, { DmParser } from "./index.ts";
import { DM_LINE_MARKS, DM_PATTERNS, mayBeDm } from "./patterns.ts";
import type { EventDraft, UeventRecord } from "../../../src/plugin-api.ts";
import { FIXTURE_BOOT_US, makeParser, parserSuite, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";

parserSuite({
  plugin,
  dir: import.meta.dir,
  patterns: DM_PATTERNS,
  hostile: [
    "device-mapper: multipath: 253:3: Failing path ", "device-mapper: table: 253:3: multipath: ",
    "device-mapper: thin: 253:4: switching pool to ", "md/raid1:mdX: Disk failure on ",
  ],
});
describe("DmParser path merge", () => {
  const kmsgFail = readKmsgFixture("4,10,5000000000,-;device-mapper: multipath: 253:3: Failing path 8:16.\n")[0]!;
  const uevent = (valid: string, t: number): UeventRecord => ({
    kind: "uevent", source: "udev", action: "change", devpath: "/devices/virtual/block/dm-3", origin: "kernel",
    time_us: FIXTURE_BOOT_US + t, raw: `change@/devices/virtual/block/dm-3 DM_PATH=8:16 t=${t}`,
    props: { DM_TARGET: "multipath", DM_ACTION: "PATH_FAILED", DM_PATH: "8:16", DM_NR_VALID_PATHS: valid, DM_NAME: "mpatha",
      DM_UUID: "mpath-3600a", MAJOR: "253", MINOR: "3", DEVNAME: "dm-3" },
  });

  test("kmsg then uevent: one DM_MPATH_PATH_DOWN whose raw joins both, in arrival order", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    expect(out).toEqual([]);
    p.parse(uevent("1", 5_000_000_200), (d) => out.push(d));
    expect(out.map((d) => d.event_type)).toEqual(["DM_MPATH_PATH_DOWN"]);
    expect(out[0]!.raw).toBe(`${kmsgFail.raw}\nchange@/devices/virtual/block/dm-3 DM_PATH=8:16 t=5000000200`);
    expect(out[0]!.extension).toMatchObject({ valid_paths: 1, map_name: "mpatha", reported_by: ["kmsg", "uevent"] });
    expect(out[0]!.owners).toEqual([{ dev_name: "dm-3", dev_wwid: "3600a" }]);
  });

  test("uevent then kmsg with DM_NR_VALID_PATHS=0: PATH_DOWN then NO_PATHS", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(uevent("0", 4_999_999_900), (d) => out.push(d));
    p.parse(kmsgFail, (d) => out.push(d));
    expect(out.map((d) => [d.event_type, d.severity, d.dev_name])).toEqual([
      ["DM_MPATH_PATH_DOWN", "warn", "8:16"], ["DM_MPATH_NO_PATHS", "error", "dm-3"],
    ]);
    expect(out[0]!.time_us).toBe(FIXTURE_BOOT_US + 4_999_999_900);
  });

  test("the same uevent twice (kernel and udev copies, same DM_SEQNUM) still gives one event", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    const k = uevent("1", 5_000_000_100);
    k.props.DM_SEQNUM = "9";
    p.parse(k, (d) => out.push(d));
    p.parse({ ...k, origin: "udev", props: { ...k.props, ID_SERIAL: "x" } }, (d) => out.push(d));
    p.parse(kmsgFail, (d) => out.push(d));
    p.flush((d) => out.push(d), true);
    expect(out.map((d) => [d.extension?.reported_by, d.extension?.dm_seqnum])).toEqual([[["kmsg", "uevent"], 9]]);
  });

  test("a half alone is emitted by flush after the window, not before", async () => {
    const out: EventDraft[] = [];
    const p = new DmParser(30);
    p.parse(kmsgFail, (d) => out.push(d));
    p.flush((d) => out.push(d), false);
    expect(out).toEqual([]);
    await Bun.sleep(40);
    p.flush((d) => out.push(d), false);
    expect(out.map((d) => [d.event_type, d.extension?.reported_by])).toEqual([["DM_MPATH_PATH_DOWN", ["kmsg"]]]);
  });

  test("halves whose kernel and uevent times disagree by up to the window + 2 s still merge", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    p.parse(uevent("1", 5_002_900_000), (d) => out.push(d));
    expect(out.map((d) => d.extension?.reported_by)).toEqual([["kmsg", "uevent"]]);
  });

  test("halves further apart than window + skew stay separate events", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    p.parse(uevent("1", 5_003_100_000), (d) => out.push(d));
    p.flush((d) => out.push(d), true);
    expect(out.map((d) => d.extension?.reported_by)).toEqual([["kmsg"], ["uevent"]]);
  });

  test("a held kernel half expires by later kernel records, not by uevent times", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    const other = { ...uevent("1", 5_001_500_000), props: { ...uevent("1", 0).props, DM_PATH: "8:99" } };
    p.parse(other, (d) => out.push(d)); // a uevent 1.5 s later (uevent clock) does not expire it
    expect(out).toEqual([]);
    const later = readKmsgFixture("6,20,5001500000,-;device-mapper: uevent: version 1.0.3\n")[0]!;
    p.parse(later, (d) => out.push(d)); // a kernel record 1.5 s later does
    expect(out.map((d) => [d.dev_name, d.extension?.reported_by])).toEqual([["8:16", ["kmsg"]]]);
  });

  test("two kernel lines for the same path without a uevent: the first is emitted alone", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    p.parse({ ...kmsgFail, seq: 11, ts_us: 5000000100, time_us: kmsgFail.time_us! + 100 }, (d) => out.push(d));
    expect(out.length).toBe(1);
    p.flush((d) => out.push(d), true);
    expect(out.length).toBe(2);
  });
});

test("the schema rejects a bad merge_window", async () => {
  await expect(makeParser(plugin, { merge_window: "soon" })).rejects.toThrow(/duration/);
});

test("a dm-raid failure report survives a flush tick between its two records", () => {
  const out: EventDraft[] = [];
  const p = new DmParser(1000);
  const [a, b] = readKmsgFixture(
    "2,1,10,-;md/raid:mdX: Disk failure on dm-12, disabling device.\n2,2,20,-;md/raid:mdX: Operation continuing on 3 devices.\n",
  );
  p.parse(a!, (d) => out.push(d));
  p.flush((d) => out.push(d), false);
  p.parse(b!, (d) => out.push(d));
  expect(out.map((d) => [d.event_type, d.dev_name, d.extension?.remaining_devices])).toEqual([["DM_RAID_DEGRADED", "dm-12", 3]]);
});

test("mayBeDm(): every pattern's lines carry one of DM_LINE_MARKS (its anchored start or its needle), so the gate never hides one", () => {
  for (const p of DM_PATTERNS) {
    const start = p.re.source.replaceAll("\\/", "/");
    const marked = DM_LINE_MARKS.some((m) => start.startsWith(`^${m}`) || p.needle.includes(m));
    expect(`${p.id}: ${marked}`).toBe(`${p.id}: true`);
  }
  expect(mayBeDm("device-mapper: table: 253:2: linear: Device lookup failed")).toBe(true);
  expect(mayBeDm("md/raid1:mdX: active with 1 out of 2 mirrors")).toBe(true);
  expect(mayBeDm("md: md0: resync done.\ndevice-mapper: thin: 253:3: switching pool to fail mode")).toBe(true);
  expect(mayBeDm("mpatha: remaining active paths: 0")).toBe(true);
  expect(mayBeDm("md: md0: resync done.")).toBe(false);
  expect(mayBeDm("dracut: starting")).toBe(false);
});
