import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { splitDmName } from "./patterns.ts";
import { makeParser } from "../../../test/helpers/parser-fixtures.ts";
import { expectedEvents, readJournalFixture, runJournalFixture } from "../../../test/helpers/journal-fixtures.ts";

const fixture = readJournalFixture(join(import.meta.dir, "testdata", "dmeventd.journal"));

describe("lvm parser", () => {
  test("each dmeventd fixture line gives the event its fixture names, once", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(got.map((d) => [d.event_type, d.severity, d.dev_name])).toEqual(expectedEvents(fixture));
    expect(got.every((d) => d.system === "lvm")).toBe(true);
  });

  test("thin pool usage names data or metadata and its percentage; dm names are split into vg/lv", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(got[0]!.extension).toMatchObject({ data_percent: 80.02, usage: "data", vg: "vg0", lv: "pool0", layer: "tpool" });
    expect(got[3]!.extension).toMatchObject({ metadata_percent: 85.5, vg: "my-vg", lv: "thin-pool", layer: "tpool" });
    expect(got.filter((d) => d.event_type === "LVM_RAID_REPAIR").map((d) => d.extension!.phase)).toEqual(["started", "started", "failed", "succeeded"]);
  });

  test("error_percent moves the error threshold", async () => {
    const { parser } = await makeParser(plugin, { error_percent: 80 });
    const got = runJournalFixture(parser, fixture.slice(0, 1));
    expect(got[0]!.severity).toBe("error");
  });

  test("splitDmName() undoes dm's doubled dashes", () => {
    expect(splitDmName("a--b-c--d-e")).toEqual({ vg: "a-b", lv: "c-d", layer: "e" });
  });
});
