import { expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { BLOCK_TABLE } from "./block.ts";
import { parserSuite, makeParser, readKmsgFixture, runParser } from "../../../test/helpers/parser-fixtures.ts";

const dir = join(import.meta.dir, "testdata");
parserSuite({ plugin, dir: import.meta.dir, patterns: BLOCK_TABLE.patterns, hostile: ["I/O error, dev sdb, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2"] });

test("block parser ignores SCSI report lines and emits one BLK event per failed request line", async () => {
  const { parser } = await makeParser(plugin);
  const got = runParser(parser, readKmsgFixture(
    "6,1,1,-;sd 2:0:0:1: [sdb] tag#12 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=2s\n" +
    "6,2,2,-;sd 2:0:0:1: [sdb] tag#12 Sense Key : Medium Error [current] \n" +
    "3,3,3,-;critical medium error, dev sdb, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2\n"));
  expect(got.map((d) => [d.event_type, d.dev_name, d.extension?.sector])).toEqual([["BLK_CRITICAL_MEDIUM_ERROR", "sdb", 2048]]);
});
