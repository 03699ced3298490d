import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { makeParser } from "../../../test/helpers/parser-fixtures.ts";
import { expectedEvents, fixtureRecord, readJournalFixture, runJournalFixture } from "../../../test/helpers/journal-fixtures.ts";

const fixture = readJournalFixture(join(import.meta.dir, "testdata", "smartd.journal"));

describe("smart parser", () => {
  test("each smartd fixture line gives the event its fixture names, once", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(got.map((d) => [d.event_type, d.severity, d.dev_name])).toEqual(expectedEvents(fixture));
    expect(got.every((d) => d.system === "smart")).toBe(true);
  });

  test("pending sectors carry the count and the change; reallocations carry old and new counts", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    const pending = got.filter((d) => d.event_type === "SMART_PENDING_SECTORS");
    expect(pending[1]!.extension).toMatchObject({ count: 16, change: 8, count_kind: "current", device_type: "SAT", protocol: "ata" });
    expect(pending[2]!.extension).toMatchObject({ count: 3, count_kind: "total", device: "/dev/bus/0", device_type: "megaraid_disk_00 SAT" });
    const realloc = got.find((d) => d.event_type === "SMART_REALLOCATED_SECTORS")!;
    expect(realloc.extension).toMatchObject({ attribute_id: 5, old_count: 0, new_count: 8, old_value: 100, new_value: 99 });
    const nvme = got.find((d) => d.dev_name === "nvme0")!;
    expect(nvme.extension).toMatchObject({ protocol: "nvme", critical_warning: 4, warnings: ["reliability degraded"] });
    expect(got.find((d) => d.dev_name === "sdc")!.extension).toMatchObject({ protocol: "scsi", ie_text: "Failure prediction threshold exceeded" });
  });

  test("lines of other daemons are ignored", async () => {
    const { parser } = await makeParser(plugin);
    const out: unknown[] = [];
    parser.parse({ ...fixtureRecord(fixture[0]!), daemon: "iscsid" }, (d) => out.push(d));
    expect(out).toEqual([]);
  });
});
