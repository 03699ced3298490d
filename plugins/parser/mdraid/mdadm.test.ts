// mdadm --monitor lines through the mdraid parser (testdata/mdadm.journal), and their join with the kernel's md lines.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { makeParser, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import { expectedEvents, fixtureRecord, readJournalFixture, runJournalFixture } from "../../../test/helpers/journal-fixtures.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";

const fixture = readJournalFixture(join(import.meta.dir, "testdata", "mdadm.journal"));

describe("mdraid parser: mdadm --monitor lines", () => {
  test("each mdadm fixture line gives the event its fixture names, once", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(got.map((d) => [d.event_type, d.severity, d.dev_name])).toEqual(expectedEvents(fixture));
  });

  test("both mismatch forms (4.2 description, 4.3+ component slot) give the count and no member", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture).filter((d) => d.event_type === "MD_MISMATCHES_FOUND");
    expect(got.map((d) => d.extension)).toEqual([
      expect.objectContaining({ array: "md2", mismatches: 128, level: "raid1" }),
      expect.objectContaining({ array: "md3", mismatches: 64, level: "raid6" }),
    ]);
    expect(got.every((d) => d.extension!.member === undefined)).toBe(true);
  });

  test("a member failure told by the kernel and then by mdadm is one event", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    // drivers/md/raid1.c raid1_error(): "md/raid1:%s: Disk failure on %pg, disabling device.\n"
    const kernel = readKmsgFixture("2,900,5000000,-;md/raid1:md0: Disk failure on sdb1, disabling device.\n");
    for (const r of kernel) parser.parse(r, (d) => out.push(d));
    parser.flush!((d) => out.push(d), false); // the 250 ms tick: the failure held for its "Operation continuing" line goes out
    expect(out.map((d) => d.event_type)).toEqual(["MD_DISK_FAILED"]);
    const fail = { ...fixtureRecord(fixture[0]!), time_us: kernel[0]!.time_us! + 2_000_000 };
    parser.parse(fail, (d) => out.push(d));
    expect(out.length).toBe(1);
  });

  test("mdadm first: the kernel's later line for the same member is dropped", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    const kernel = readKmsgFixture("2,900,5000000,-;md/raid1:md0: Disk failure on sdb1, disabling device.\n");
    parser.parse({ ...fixtureRecord(fixture[0]!), time_us: kernel[0]!.time_us! - 1000 }, (d) => out.push(d));
    for (const r of kernel) parser.parse(r, (d) => out.push(d));
    parser.flush!((d) => out.push(d), true);
    expect(out.map((d) => [d.event_type, d.dev_name, d.source ?? ""])).toEqual([["MD_DISK_FAILED", "sdb1", ""]]);
    expect(out[0]!.raw).toStartWith("mdadm[4242]: Fail event");
  });
});
