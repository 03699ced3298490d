import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { parse as parseToml } from "smol-toml";
import plugin, { DmParser } from "./index.ts";
import { DM_PATTERNS } from "./patterns.ts";
import type { EventDraft, UeventRecord } from "../../../src/plugin-api.ts";
import {
  allFixtureMessages, checkExpected, FIXTURE_BOOT_US, hostileRecords, loadCases, makeParser, readKmsgFixture, runParser,
} from "../../../test/helpers/kparser-cases.ts";

const testdata = join(import.meta.dir, "testdata");

describe("dm parser fixtures", () => {
  for (const c of loadCases(testdata)) {
    test(`testdata/${c.name} -> expected.ndjson`, async () => {
      const { parser } = await makeParser(plugin, c.config);
      const [actual, expected] = checkExpected(c.dir, runParser(parser, c.records));
      expect(actual).toBe(expected);
    });
  }

  test("near-miss lines produce no event", async () => {
    const c = loadCases(testdata).find((x) => x.name === "near-miss")!;
    const { parser } = await makeParser(plugin, {});
    expect(runParser(parser, c.records)).toEqual([]);
  });

  test("every pattern has a fixture line that hits it", () => {
    const msgs = allFixtureMessages(testdata);
    for (const p of DM_PATTERNS) expect({ id: p.id, hit: msgs.some((m) => p.re.test(m)) }).toEqual({ id: p.id, hit: true });
  });
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

  test("halves further apart than the window (by record time) stay separate events", () => {
    const out: EventDraft[] = [];
    const p = new DmParser(1000);
    p.parse(kmsgFail, (d) => out.push(d));
    p.parse(uevent("1", 5_002_000_000), (d) => out.push(d));
    p.flush((d) => out.push(d), true);
    expect(out.map((d) => d.extension?.reported_by)).toEqual([["kmsg"], ["uevent"]]);
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

describe("dm parser hostile input", () => {
  test("huge, invalid UTF-8, NUL and truncated lines: no throw, no event", async () => {
    const { parser } = await makeParser(plugin, {});
    const recs = hostileRecords([
      "device-mapper: multipath: 253:3: Failing path ", "device-mapper: table: 253:3: multipath: ",
      "device-mapper: thin: 253:4: switching pool to ", "md/raid1:mdX: Disk failure on ",
    ]);
    expect(runParser(parser, recs)).toEqual([]);
  });
});

describe("dm plugin definition", () => {
  test("sample.toml parses, validates and matches the README Configuration block", () => {
    const sample = readFileSync(join(import.meta.dir, "sample.toml"), "utf8");
    const table = parseToml(sample) as Record<string, Record<string, unknown>>;
    const { type, plugin: name, ...opts } = table.dm!;
    expect([type, name]).toEqual(["parser", "dm"]);
    expect(v.safeParse(plugin.schema, opts).success).toBe(true);
    const readme = readFileSync(join(import.meta.dir, "README.md"), "utf8");
    expect(readme).toContain("## Configuration\n\n```toml\n" + sample + "```");
  });

  test("create() rejects a bad merge_window", async () => {
    await expect(makeParser(plugin, { merge_window: "soon" })).rejects.toThrow(/merge_window/);
  });
});
