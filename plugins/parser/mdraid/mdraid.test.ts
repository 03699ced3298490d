import { expect, test } from "bun:test";
import plugin from "./index.ts";
import { MD_PATTERNS } from "./patterns.ts";
import { makeParser, parserSuite, readKmsgFixture, runParser } from "../../../test/helpers/parser-fixtures.ts";

parserSuite({
  plugin,
  dir: import.meta.dir,
  patterns: MD_PATTERNS,
  hostile: ["md/raid1:md0: Disk failure on ", "md: resync of RAID array ", "md: md0: resync ", "md/raid:md1: raid level 5 active with "],
});

test("report_checks = false drops check/data-check runs but keeps resync and recovery", async () => {
  const recs = readKmsgFixture(
    "6,1,10,-;md: data-check of RAID array md0\n6,2,20,-;md: md0: data-check done.\n6,3,30,-;md: check of RAID array md0\n" +
      "6,4,40,-;md: recovery of RAID array md0\n6,5,50,-;md: md0: recover done.\n",
  );
  const { parser } = await makeParser(plugin, { report_checks: false });
  expect(runParser(parser, recs).map((d) => [d.event_type, d.extension?.action])).toEqual([
    ["MD_RESYNC_STARTED", "recover"], ["MD_RESYNC_DONE", "recover"],
  ]);
});

test("a split raid1 report (journal-style replay, two records) gives the same two events as the combined record", async () => {
  const combined = readKmsgFixture("2,1,10,-;md/raid1:md0: Disk failure on sdb1, disabling device.\\x0amd/raid1:md0: Operation continuing on 1 devices.\n");
  const split = readKmsgFixture("2,1,10,-;md/raid1:md0: Disk failure on sdb1, disabling device.\n2,2,10,-;md/raid1:md0: Operation continuing on 1 devices.\n");
  const { parser } = await makeParser(plugin, {});
  const strip = (ds: ReturnType<typeof runParser>) => ds.map(({ raw: _raw, ...d }) => d);
  expect(strip(runParser(parser, split))).toEqual(strip(runParser(parser, combined)));
});
